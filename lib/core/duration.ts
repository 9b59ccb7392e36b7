import { optionError } from './validate';

/**
 * A duration as humans write it: milliseconds as a number (`600_000`), or a string with a unit:
 * `'250ms'`, `'30s'`, `'10m'`, `'2h'`, `'1d'`, and compounds such as `'1h30m'`.
 */
export type Duration = number | `${number}${DurationUnit}` | (string & {});

type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

const UNIT_MS: Record<DurationUnit, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/**
 * Converts a {@link Duration} to whole milliseconds, or throws a `TypeError` naming the option.
 * @param name the option's name, for the error message
 * @example parseDuration('ttl', '1h30m') // 5_400_000
 */
export function parseDuration(name: string, value: unknown): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  } else if (typeof value === 'string' && value.length > 0) {
    PART.lastIndex = 0;
    let total = 0;
    let match: RegExpExecArray | null;
    while ((match = PART.exec(value)) !== null) {
      total += Number(match[1]) * UNIT_MS[match[2] as DurationUnit];
      if (PART.lastIndex === value.length) return Math.round(total);
    }
  }
  throw optionError(
    name,
    "a duration: milliseconds >= 0, or a string such as '250ms', '30s', '10m', '2h', '1d'",
    value,
  );
}
