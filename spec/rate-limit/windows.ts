/** One admission on a timeline of whole microseconds. */
export interface Admission {
  readonly atUs: number;
  readonly units: number;
}

/**
 * The most units admitted in any half-open window [t, t + windowUs), wherever it starts. Checking windows
 * that start at an admission is enough: any window can slide right to its first admission without losing
 * one. `admissions` must be sorted by time.
 * @example busiestWindow([{ atUs: 0, units: 1 }, { atUs: 999_999, units: 1 }], 1_000_000) // 2
 */
export function busiestWindow(admissions: readonly Admission[], windowUs: number): number {
  let most = 0;
  let sum = 0;
  for (let start = 0, end = 0; start < admissions.length; start++) {
    const from = (admissions[start] as Admission).atUs;
    for (; end < admissions.length && (admissions[end] as Admission).atUs < from + windowUs; end++)
      sum += (admissions[end] as Admission).units;
    most = Math.max(most, sum);
    sum -= (admissions[start] as Admission).units;
  }
  return most;
}

/** Sorts admissions by time, for {@link busiestWindow}. */
export const byTime = (a: Admission, b: Admission): number => a.atUs - b.atUs;

/**
 * An admission whose units were corrected after the call: `overdraft` units beyond its reservation.
 * `order` and `settledOrder` place its admission and its correction in the sequence of operations the
 * limiter saw (two can share a microsecond); `settledOrder` is `Infinity` for a call never corrected.
 */
export interface Corrected extends Admission {
  readonly overdraft: number;
  readonly order: number;
  settledOrder: number;
}

/**
 * The most units admitted in any window [t, t + windowUs), less the overdrafts that the schedule could not
 * yet have seen: those of the window's calls corrected after the window's last admission. This is what
 * a corrected limit bounds by `limit + burst`. `admissions` must be sorted by time.
 */
export function busiestCorrectedWindow(admissions: readonly Corrected[], windowUs: number): number {
  let most = 0;
  for (let start = 0; start < admissions.length; start++) {
    const from = (admissions[start] as Corrected).atUs;
    let end = start;
    while (end + 1 < admissions.length && (admissions[end + 1] as Corrected).atUs < from + windowUs) end++;
    let last = 0;
    for (let i = start; i <= end; i++) last = Math.max(last, (admissions[i] as Corrected).order);
    let sum = 0;
    for (let i = start; i <= end; i++) {
      const a = admissions[i] as Corrected;
      sum += a.units - (a.settledOrder > last ? a.overdraft : 0);
    }
    most = Math.max(most, sum);
  }
  return most;
}
