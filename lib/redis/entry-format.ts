import { decodeValueAt, encodeValue, ValueDecodeError } from '../codec/value-codec';
import type { CacheEntry } from '../ports/cache-store';

/**
 * A Redis value is `<expiresAt>|<codec text>`, or `<expiresAt>/<freshUntil>|<codec text>` for an entry
 * that may be served stale: the times travel with the value so that one GET tells a reader everything
 * (a memory tier can keep a promoted copy for exactly the remaining time), and the codec text carries
 * its own format version.
 */
export function formatEntry(value: unknown, expiresAt: number, freshUntil?: number): string {
  return (freshUntil === undefined ? String(expiresAt) : `${expiresAt}/${freshUntil}`) + '|' + encodeValue(value);
}

/** `<expiresAt>` or `<expiresAt>/<freshUntil>`, whole epoch milliseconds, then `|`. */
const HEADER = /^(\d{1,16})(?:\/(\d{1,16}))?\|/;

/**
 * Parses a stored entry. Throws {@link ValueDecodeError} when the text is not one: a value written by
 * another tool without the `<expiresAt>|` header is not served as if it were cachet's.
 */
export function parseEntry(text: string): CacheEntry {
  const header = HEADER.exec(text);
  if (header === null) {
    throw new ValueDecodeError(
      `Expected a cachet entry (\`<expiresAt>|<value>\`), got ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  const expiresAt = Number(header[1]);
  const value = decodeValueAt(text, header[0].length);
  return header[2] === undefined ? { value, expiresAt } : { value, expiresAt, freshUntil: Number(header[2]) };
}
