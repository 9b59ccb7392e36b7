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
  /** Writes `line` to the worker's stdin. */
  tell(line: string): void;
  /** Tells the worker `go`. */
  go(): void;
  kill(): void;
}

const ROOT = join(__dirname, '..', '..');

/**
 * Starts a worker script (`spec/support/children/<name>.ts`) through ts-node. Workers print `ready`
 * once connected, wait for `go` on stdin, then print one JSON line `{ "result": ... }`. A worker may print
 * other lines to say it reached a step, which the test awaits with `reached(line)` instead of sleeping.
 */
export function startWorker(name: string, env: Record<string, string>): Worker {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(__dirname, 'children', `${name}.ts`)],
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
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const result = new Promise<unknown>((resolve, reject) => {
    lines.on('line', (line) => {
      printed.add(line);
      watchers.get(line)?.();
      if (line === 'ready') return onReady();
      if (!line.startsWith('{')) return;
      const parsed = JSON.parse(line) as { result?: unknown };
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
    tell: (line) => child.stdin.write(`${line}\n`),
    go: () => child.stdin.write('go\n'),
    kill: () => child.kill('SIGKILL'),
  };
}
