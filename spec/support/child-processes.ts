import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** A child process running a TypeScript worker from spec/support/children. */
export interface Worker {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves with the first stdout line that parses as JSON and has a `result` field. */
  readonly result: Promise<unknown>;
  /** Resolves when the worker printed `ready`. */
  readonly ready: Promise<void>;
  /** Resolves when the worker has printed the line `text` (a step it reached), or rejects if it exits first. */
  reached(text: string): Promise<void>;
  /**
   * Resolves with the next JSON line that has a `field` field (its value), in the order printed; lines
   * printed before the call are kept for it. Rejects if the worker exits first.
   */
  message<T = unknown>(field: string): Promise<T>;
  /** Resolves with the worker's exit code (or signal name) once it has exited. */
  readonly exited: Promise<number | string>;
  /** Writes `line` to the worker's stdin. */
  tell(line: string): void;
  /** Tells the worker `go`. */
  go(): void;
  kill(): void;
}

const ROOT = join(__dirname, '..', '..');

/**
 * Starts a worker script (`spec/support/children/<name>.ts`, or a `.ts` path from the repository's root
 * such as `demo/nestjs/main.ts`) through ts-node. Workers print `ready`
 * once connected, wait for `go` on stdin, then print one JSON line `{ "result": ... }`. A worker may print
 * other lines to say it reached a step, which the test awaits with `reached(line)` instead of sleeping.
 */
export function startWorker(name: string, env: Record<string, string>): Worker {
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      name.endsWith('.ts') ? join(ROOT, name) : join(__dirname, 'children', `${name}.ts`),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const printed = new Set<string>();
  const watchers = new Map<string, () => void>();
  /** JSON lines not yet taken by `message`, and `message` calls waiting, per field. */
  const messages = new Map<string, unknown[]>();
  const takers = new Map<string, ((value: unknown) => void)[]>();
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const result = new Promise<unknown>((resolve, reject) => {
    lines.on('line', (line) => {
      printed.add(line);
      watchers.get(line)?.();
      if (line === 'ready') return onReady();
      if (!line.startsWith('{')) return;
      const parsed = JSON.parse(line) as Record<string, unknown>;
      for (const [field, value] of Object.entries(parsed)) {
        const taker = takers.get(field)?.shift();
        if (taker !== undefined) taker(value);
        else messages.set(field, [...(messages.get(field) ?? []), value]);
      }
      if ('result' in parsed) resolve(parsed.result);
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`worker ${name} exited (code ${code}, signal ${signal}) without a result:\n${stderr}`)),
    );
  });
  result.catch(() => {});
  return {
    child,
    ready: Promise.race([ready, result.then(() => undefined)]),
    result,
    reached: (text) =>
      printed.has(text)
        ? Promise.resolve()
        : Promise.race([
            new Promise<void>((resolve) => watchers.set(text, resolve)),
            result.then(() => Promise.reject(new Error(`worker ${name} ended without printing \`${text}\``))),
          ]),
    message: <T>(field: string) => {
      const queued = messages.get(field);
      if (queued !== undefined && queued.length > 0) return Promise.resolve(queued.shift() as T);
      return Promise.race([
        new Promise<T>((resolve) =>
          takers.set(field, [...(takers.get(field) ?? []), resolve as (value: unknown) => void]),
        ),
        exited.then((code) =>
          Promise.reject(
            new Error(`worker ${name} exited (${code}) before printing a \`${field}\` message:\n${stderr}`),
          ),
        ),
      ]);
    },
    exited,
    tell: (line) => child.stdin.write(`${line}\n`),
    go: () => child.stdin.write('go\n'),
    kill: () => child.kill('SIGKILL'),
  };
}

/** A worker serving HTTP on 127.0.0.1 (a NestJS application, say), and the base URL to reach it. */
export interface HttpWorker {
  readonly worker: Worker;
  readonly base: string;
}

/** Starts a worker that prints `{ "port": N }` once it listens, then `ready`; resolves when it is ready. */
export async function startHttpWorker(name: string, env: Record<string, string>): Promise<HttpWorker> {
  const worker = startWorker(name, env);
  const port = await worker.message<number>('port');
  await worker.ready;
  return { worker, base: `http://127.0.0.1:${port}` };
}
