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
