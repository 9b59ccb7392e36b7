import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Cache } from '../../lib/index';
import { RedisStore } from '../../lib/redis';
import { elapsedMs } from '../support/measure';
import { exactly, row, type BenchContext, type Result, type Scenario } from '../support/scenario';
import { cachedWriter, PROMPT, Writer } from '../support/writer';

const NAME = 'stampede';
const CALLS = 1_000;
const PROCESSES = 4;
const LATENCY_MS = 200;
const ROOT = resolve(__dirname, '..', '..');
const CHILD = join(ROOT, 'bench', 'support', 'stampede-child.ts');

/** How often a 200 ms method really runs when 1,000 identical calls miss together. */
export const stampede: Scenario = {
  name: NAME,
  measures: `${CALLS.toLocaleString('en-US')} concurrent calls, one key, of a @Cached method that takes ${LATENCY_MS} ms`,
  baseline: `the same ${CALLS.toLocaleString('en-US')} calls of the method without the cache`,
  async run(ctx: BenchContext): Promise<Result[]> {
    const results: Result[] = [];
    const plain = await burst(new Writer(LATENCY_MS), CALLS);
    const baselineNote = (ours: { ms: number }, theirs: { ms: number }): string =>
      `wall time ${ours.ms.toFixed(0)} ms ours, ${theirs.ms.toFixed(0)} ms baseline`;

    const memory = new Cache();
    const inMemory = await burst(cachedWriter(memory, LATENCY_MS), CALLS);
    await memory.close();
    results.push(
      row(NAME, '1 process, memory', 'calls', inMemory.calls, plain.calls, exactly(1), baselineNote(inMemory, plain)),
    );

    const url = await ctx.redisUrl();
    const prefix = ctx.prefix('stampede-1p');
    const store = new RedisStore({ url, channel: `${prefix}:fills` });
    const redis = new Cache({ store, prefix });
    try {
      await store.get(`${prefix}:warm-up`); // connected first, as a long-running service would be
      const inRedis = await burst(cachedWriter(redis, LATENCY_MS), CALLS);
      results.push(
        row(NAME, '1 process, Redis', 'calls', inRedis.calls, plain.calls, exactly(1), baselineNote(inRedis, plain)),
      );
    } finally {
      await redis.close();
    }

    const shared = await acrossProcesses(url, ctx.prefix('stampede-4p'));
    results.push(
      row(
        NAME,
        `${PROCESSES} processes × ${CALLS / PROCESSES}, Redis`,
        'calls',
        shared.cached.calls,
        shared.plain.calls,
        exactly(1),
        `${baselineNote(shared.cached, shared.plain)} (slowest process); calls per process ${shared.cached.perProcess.join(' + ')}`,
      ),
    );
    return results;
  },
};

/** Fires `calls` concurrent calls and counts the method's real runs. */
async function burst(writer: Writer, calls: number): Promise<{ calls: number; ms: number }> {
  const before = writer.calls;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: calls }, () => writer.draft(PROMPT)));
  return { calls: writer.calls - before, ms: elapsedMs(started) };
}

interface ChildResult {
  readonly mode: string;
  readonly calls: number;
  readonly ms: number;
}

/** One child process, read line by line. */
class Child {
  readonly #lines: string[] = [];
  readonly #waiters: ((line: string | undefined) => void)[] = [];
  #stderr = '';
  #ended = false;

  constructor(readonly process: ChildProcess) {
    createInterface({ input: process.stdout! }).on('line', (line) => this.#push(line));
    process.stderr!.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
    process.once('exit', () => {
      this.#ended = true;
      for (const waiter of this.#waiters.splice(0)) waiter(undefined);
    });
  }

  #push(line: string): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(line);
    else this.#lines.push(line);
  }

  /** The next line starting with `word`, skipping others. */
  async expect(word: string): Promise<string> {
    for (;;) {
      const line =
        this.#lines.shift() ??
        (this.#ended ? undefined : await new Promise<string | undefined>((r) => this.#waiters.push(r)));
      if (line === undefined) {
        throw new Error(
          `stampede child ${this.process.pid} exited (code ${this.process.exitCode}) before "${word}": ${this.#stderr.trim()}`,
        );
      }
      if (line.startsWith(word)) return line.slice(word.length).trim();
    }
  }

  send(command: string): void {
    this.process.stdin!.write(command + '\n');
  }

  /** Asks the child to close its cache and exit; resolves when it has. */
  async exit(): Promise<void> {
    const exited = new Promise((resolve) => (this.#ended ? resolve(null) : this.process.once('exit', resolve)));
    this.process.stdin!.end('exit\n');
    await exited;
    if (this.process.exitCode !== 0)
      throw new Error(
        `stampede child ${this.process.pid} exited with ${this.process.exitCode}: ${this.#stderr.trim()}`,
      );
  }
}

/**
 * Starts PROCESSES children, waits until all are connected ("ready"), then releases them together for a
 * plain burst and then a cached one, and sums their method runs.
 */
async function acrossProcesses(
  url: string,
  prefix: string,
): Promise<{ plain: { calls: number; ms: number }; cached: { calls: number; ms: number; perProcess: number[] } }> {
  const env = {
    ...process.env,
    BENCH_REDIS_URL: url,
    BENCH_PREFIX: prefix,
    BENCH_CALLS: String(CALLS / PROCESSES),
    BENCH_LATENCY_MS: String(LATENCY_MS),
  };
  const children = Array.from(
    { length: PROCESSES },
    () =>
      new Child(
        spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CHILD], { cwd: ROOT, env, stdio: 'pipe' }),
      ),
  );
  const guard = setTimeout(() => children.forEach((c) => c.process.kill()), 120_000);
  try {
    await Promise.all(children.map((c) => c.expect('ready')));
    const phase = async (mode: 'plain' | 'cached'): Promise<ChildResult[]> => {
      children.forEach((c) => c.send(mode));
      const lines = await Promise.all(children.map((c) => c.expect('result')));
      return lines.map((line) => JSON.parse(line) as ChildResult);
    };
    const plain = await phase('plain');
    const cached = await phase('cached');
    await Promise.all(children.map((c) => c.exit()));
    const sum = (rs: ChildResult[]): number => rs.reduce((total, r) => total + r.calls, 0);
    const slowest = (rs: ChildResult[]): number => Math.max(...rs.map((r) => r.ms));
    return {
      plain: { calls: sum(plain), ms: slowest(plain) },
      cached: { calls: sum(cached), ms: slowest(cached), perProcess: cached.map((r) => r.calls) },
    };
  } finally {
    clearTimeout(guard);
    for (const c of children) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill();
  }
}
