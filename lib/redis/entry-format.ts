import { decodeValue, encodeValue, ValueDecodeError } from '../codec/value-codec';
import type { CacheEntry } from '../stores/cache-store';

/**
 * A Redis value is `<expiresAt>|<codec text>`: the expiry travels with the value so that one GET tells a
 * reader both (a memory tier can keep a promoted copy for exactly the remaining time), and the codec text
 * carries its own format version.
 */
export function formatEntry(value: unknown, expiresAt: number): string {
  return expiresAt + '|' + encodeValue(value);
}

/** Parses a stored entry. Throws {@link ValueDecodeError} when the text is not one. */
export function parseEntry(text: string): CacheEntry {
  const bar = text.indexOf('|');
  const expiresAt = bar > 0 ? Number(text.slice(0, bar)) : NaN;
  if (!Number.isSafeInteger(expiresAt)) {
    throw new ValueDecodeError(`Expected a cachet entry (\`<expiresAt>|<value>\`), got ${JSON.stringify(text.slice(0, 40))}`);
  }
  return { value: decodeValue(text.slice(bar + 1)), expiresAt };
}
