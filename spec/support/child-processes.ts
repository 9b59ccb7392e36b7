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
  go(): void;
  kill(): void;
}

const ROOT = join(__dirname, '..', '..');

/**
 * Starts a worker script (`spec/support/children/<name>.ts`) through ts-node. Workers print `ready`
 * once connected, wait for `go` on stdin, then print one JSON line `{ "result": ... }`.
 */
export function startWorker(name: string, env: Record<string, string>): Worker {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'children', `${name}.ts`)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const result = new Promise<unknown>((resolve, reject) => {
    lines.on('line', (line) => {
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
    go: () => child.stdin.write('go\n'),
    kill: () => child.kill('SIGKILL'),
  };
}
