/**
 * What every scenario shares: the context it runs in and the rows it returns. A scenario is a named
 * async function; `bench/run.ts` picks scenarios by name and hands them one context.
 */

/** A goal from the issue: `ratio <= 2.5`, `ratio >= 10`, `ours == 1`. */
export interface Target {
  /** Which figure the goal is about: ours/baseline, or our figure alone. */
  readonly on: 'ratio' | 'ours';
  readonly op: '<=' | '>=' | '==';
  readonly value: number;
}

/** One measured case: our figure beside a baseline measured in the same run. */
export interface Result {
  readonly scenario: string;
  readonly case: string;
  /** Unit of `ours` and `baseline`: `ns/op`, `µs`, `ops/s`, `calls`. */
  readonly unit: string;
  readonly ours: number;
  readonly baseline: number;
  /** ours / baseline. */
  readonly ratio: number;
  /** Absent for rows reported for information only. */
  readonly target?: Target;
  readonly pass?: boolean;
  /** Spread, wall time, sanity checks: whatever helps read the row. */
  readonly note?: string;
}

export interface BenchContext {
  /** REDIS_URL when set, otherwise a redis-server started on first use and stopped at the end. */
  redisUrl(): Promise<string>;
  /** A key prefix unique to this run, without `:` (a cache prefix may hold none); every key under it is deleted at the end. */
  prefix(label: string): string;
  /** A scaled duration: `BENCH_SCALE=0.3` shortens every measurement for a quick look. */
  ms(ms: number): number;
}

export interface Scenario {
  /** Short kebab-case name; `npm run bench -- <part of it>` selects it. */
  readonly name: string;
  /** What our side of the comparison is. */
  readonly measures: string;
  /** What the baseline is. */
  readonly baseline: string;
  run(ctx: BenchContext): Promise<Result[]>;
}

/** Builds a row and judges it against its target. */
export function row(
  scenario: string,
  name: string,
  unit: string,
  ours: number,
  baseline: number,
  target?: Target,
  note?: string,
): Result {
  const ratio = ours / baseline;
  const base = { scenario, case: name, unit, ours, baseline, ratio };
  const extra = note === undefined ? {} : { note };
  if (target === undefined) return { ...base, ...extra };
  const figure = target.on === 'ratio' ? ratio : ours;
  const pass =
    target.op === '<=' ? figure <= target.value : target.op === '>=' ? figure >= target.value : figure === target.value;
  return { ...base, target, pass, ...extra };
}

export const atMost = (value: number, on: Target['on'] = 'ratio'): Target => ({ on, op: '<=', value });
export const atLeast = (value: number, on: Target['on'] = 'ratio'): Target => ({ on, op: '>=', value });
export const exactly = (value: number, on: Target['on'] = 'ours'): Target => ({ on, op: '==', value });
