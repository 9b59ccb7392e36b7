import { decodeValue, encodeValue, ValueDecodeError } from '../codec/value-codec';
import type { CacheEntry } from '../stores/cache-store';

/**
 * A Redis value is `<expiresAt>|<codec text>`, or `<expiresAt>/<freshUntil>|<codec text>` for an entry
 * that may be served stale: the times travel with the value so that one GET tells a reader everything
 * (a memory tier can keep a promoted copy for exactly the remaining time), and the codec text carries
 * its own format version.
 */
export function formatEntry(value: unknown, expiresAt: number, freshUntil?: number): string {
  return (freshUntil === undefined ? String(expiresAt) : `${expiresAt}/${freshUntil}`) + '|' + encodeValue(value);
}

/** Parses a stored entry. Throws {@link ValueDecodeError} when the text is not one. */
export function parseEntry(text: string): CacheEntry {
  const bar = text.indexOf('|');
  const head = bar > 0 ? text.slice(0, bar) : '';
  const slash = head.indexOf('/');
  const expiresAt = Number(slash < 0 ? head : head.slice(0, slash));
  const freshUntil = slash < 0 ? undefined : Number(head.slice(slash + 1));
  if (!Number.isSafeInteger(expiresAt) || (freshUntil !== undefined && !Number.isSafeInteger(freshUntil))) {
    throw new ValueDecodeError(`Expected a cachet entry (\`<expiresAt>|<value>\`), got ${JSON.stringify(text.slice(0, 40))}`);
  }
  const value = decodeValue(text.slice(bar + 1));
  return freshUntil === undefined ? { value, expiresAt } : { value, expiresAt, freshUntil };
}
