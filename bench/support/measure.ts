/**
 * Timing helpers. Every comparison runs its cases in alternating rounds, so that drift (CPU frequency,
 * GC pressure, a noisy neighbour) lands on ours and the baseline alike, and reports medians.
 */

const now = (): bigint => process.hrtime.bigint();
const msToNs = (ms: number): bigint => BigInt(Math.round(ms * 1e6));

/** Runs an operation `n` times. Each case writes its own loop, so the call inside stays monomorphic. */
export type Batch = (n: number) => unknown;

export interface Summary {
  readonly median: number;
  /** Interquartile range relative to the median: 0.03 means the middle half of the rounds lies within 3%. */
  readonly spread: number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  return { median, spread: (quantile(sorted, 0.75) - quantile(sorted, 0.25)) / median };
}

/** Quantile of an ascending array, nearest rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

export interface NsPerOpOptions {
  readonly warmupMs: number;
  readonly roundMs: number;
  readonly rounds: number;
}

/** Nanoseconds per operation of each case: warm-up, then `rounds` rounds of about `roundMs` per case. */
export async function compareNsPerOp<K extends string>(
  cases: Record<K, Batch>,
  { warmupMs, roundMs, rounds }: NsPerOpOptions,
): Promise<Record<K, Summary>> {
  const names = Object.keys(cases) as K[];
  const sizes = new Map<K, number>();
  for (const name of names) sizes.set(name, await warmUp(cases[name], warmupMs, roundMs));
  const samples = new Map<K, number[]>(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      // Rotate the order, so no case always runs right after the one that leaves the most garbage.
      const name = names[(round + i) % names.length] as K;
      const n = sizes.get(name) as number;
      const started = now();
      await cases[name](n);
      samples.get(name)!.push(Number(now() - started) / n);
    }
  }
  return Object.fromEntries(names.map((name) => [name, summarize(samples.get(name)!)])) as Record<K, Summary>;
}

/** Runs growing batches for `warmupMs`; returns the batch size that takes about `roundMs`. */
async function warmUp(batch: Batch, warmupMs: number, roundMs: number): Promise<number> {
  const end = now() + msToNs(warmupMs);
  let n = 16;
  let nsPerOp = 0;
  do {
    const started = now();
    await batch(n);
    const elapsed = Number(now() - started);
    nsPerOp = elapsed / n;
    if (elapsed < 20e6) n *= 2;
  } while (now() < end);
  return Math.max(1, Math.round((roundMs * 1e6) / nsPerOp));
}

export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly samples: number;
}

export interface LatencyOptions {
  readonly warmup: number;
  readonly rounds: number;
  readonly perRound: number;
}

/** Per-operation latency in microseconds at concurrency 1 (each operation awaited before the next). */
export async function compareLatency<K extends string>(
  cases: Record<K, () => Promise<unknown>>,
  { warmup, rounds, perRound }: LatencyOptions,
): Promise<Record<K, Latency>> {
  const names = Object.keys(cases) as K[];
  for (const name of names) for (let i = 0; i < warmup; i++) await cases[name]();
  const samples = new Map<K, Float64Array>(names.map((name) => [name, new Float64Array(rounds * perRound)]));
  for (let round = 0; round < rounds; round++) {
    for (let c = 0; c < names.length; c++) {
      const name = names[(round + c) % names.length] as K;
      const op = cases[name];
      const out = samples.get(name)!;
      for (let i = 0; i < perRound; i++) {
        const started = now();
        await op();
        out[round * perRound + i] = Number(now() - started) / 1e3;
      }
    }
  }
  return Object.fromEntries(
    names.map((name) => {
      const sorted = samples.get(name)!.sort();
      let sum = 0;
      for (const v of sorted) sum += v;
      const latency: Latency = {
        p50: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
        mean: sum / sorted.length,
        samples: sorted.length,
      };
      return [name, latency];
    }),
  ) as Record<K, Latency>;
}

export interface ThroughputOptions {
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly roundMs: number;
  readonly rounds: number;
}

/**
 * Operations per second with `concurrency` async loops, each awaiting `op(i)` until time is up. A timer
 * ends the run, so the loops read a flag instead of the clock; `op` must do I/O, or the timer never fires.
 */
export async function throughput(
  op: (i: number) => Promise<unknown>,
  concurrency: number,
  ms: number,
): Promise<number> {
  let done = 0;
  let next = 0;
  let running = true;
  const timer = setTimeout(() => (running = false), ms);
  const loop = async (): Promise<void> => {
    while (running) {
      await op(next++);
      done++;
    }
  };
  const started = now();
  try {
    await Promise.all(Array.from({ length: concurrency }, loop));
  } finally {
    running = false; // after a failure, stops the other loops too
    clearTimeout(timer);
  }
  return done / (Number(now() - started) / 1e9);
}

/** Median operations per second of each case over alternating rounds. */
export async function compareThroughput<K extends string>(
  cases: Record<K, (i: number) => Promise<unknown>>,
  { concurrency, warmupMs, roundMs, rounds }: ThroughputOptions,
): Promise<Record<K, Summary>> {
  const names = Object.keys(cases) as K[];
  for (const name of names) await throughput(cases[name], concurrency, warmupMs);
  const samples = new Map<K, number[]>(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let c = 0; c < names.length; c++) {
      const name = names[(round + c) % names.length] as K;
      samples.get(name)!.push(await throughput(cases[name], concurrency, roundMs));
    }
  }
  return Object.fromEntries(names.map((name) => [name, summarize(samples.get(name)!)])) as Record<K, Summary>;
}

/** Milliseconds since `started` (from `process.hrtime.bigint()`). */
export function elapsedMs(started: bigint): number {
  return Number(now() - started) / 1e6;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
