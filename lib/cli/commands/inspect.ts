import type { CacheEntryDetails } from '../../cache/cache-inspector';
import { isNotCachetKeyError } from '../../core/errors';
import { CliError, EXIT, type ExitCode } from '../cli-error';
import type { Command, CommandContext } from '../command';
import { bytes, formatTable } from '../format';

/** How much of a value `inspect` prints in a table; `--json` prints it whole. */
const VALUE_CHARS = 2_000;

/** `cachet inspect KEY`: one entry's value, expiry, freshness, tags and size. */
export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'Show one entry: its value, expiry, freshness, tags and size',
  usage: 'KEY',
  details: [
    'Shows the entry under KEY (as `cachet keys` lists it) without using it: no lookup is counted and',
    `nothing is filled. The value is printed as JSON, cut at ${VALUE_CHARS.toLocaleString('en')} characters (whole with --json).`,
    'Exit code 5 when the key holds nothing, 2 when it is not the key of a cachet entry.',
  ].join('\n'),
  options: {},
  positionals: 1,
  async run({ positionals, out, session }: CommandContext): Promise<ExitCode> {
    const key = positionals[0]!;
    const s = await session();
    let details: CacheEntryDetails | undefined;
    try {
      details = await s.cache().inspect(key);
    } catch (error) {
      if (isNotCachetKeyError(error)) throw new CliError(error.message, EXIT.usage);
      throw error;
    }
    if (details === undefined)
      throw new CliError(`No entry under key \`${key}\` (expired, removed, or never stored)`, EXIT.notFound);
    if (out.json) {
      out.data({ ...details, value: jsonSafe(details.value) });
      return EXIT.ok;
    }
    const now = Date.now();
    const value = JSON.stringify(jsonSafe(details.value)) ?? 'undefined';
    const rows: [string, string][] = [
      ['key', details.key],
      ['namespace', details.namespace],
      ['method', details.method],
      [
        'store',
        details.store + (details.memoryCopy === undefined ? '' : details.memoryCopy ? ' (memory copy here)' : ''),
      ],
      ['state', details.state],
      ['expires', moment(details.expiresAt, now)],
      ...(details.freshUntil === undefined
        ? []
        : [['fresh until', moment(details.freshUntil, now)] as [string, string]]),
      ...(details.storedAt === undefined ? [] : [['stored', moment(details.storedAt, now)] as [string, string]]),
      ['tags', details.tags.length === 0 ? '(none)' : details.tags.join(', ')],
      ['size', bytes(details.size)],
      ['value', value.length > VALUE_CHARS ? `${value.slice(0, VALUE_CHARS)}... (${value.length} characters)` : value],
    ];
    out.print(formatTable([{ header: 'field' }, { header: 'value', align: 'left' }], rows));
    return EXIT.ok;
  },
};

/** An instant as ISO 8601 with how far it is from now: `2026-12-03T17:00:00.000Z (in 59m 12s)`. */
function moment(at: number, now: number): string {
  const seconds = Math.round(Math.abs(at - now) / 1000);
  const span =
    seconds >= 3600
      ? `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`
      : seconds >= 60
        ? `${Math.floor(seconds / 60)}m ${seconds % 60}s`
        : `${seconds}s`;
  return `${new Date(at).toISOString()} (${at >= now ? `in ${span}` : `${span} ago`})`;
}

/** A value JSON can print: BigInt as a string, Map as an object of its entries, Set as an array. */
function jsonSafe(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) =>
      typeof v === 'bigint' ? `${v}n` : v instanceof Map ? Object.fromEntries(v) : v instanceof Set ? [...v] : v,
    ) ?? 'null',
  );
}
