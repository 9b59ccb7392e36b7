/**
 * What each key under a cache's `<prefix>:` is, read from its name alone:
 * - `entry`: `<prefix>:<namespace>:<method>:<digest>`, the digest being 43 base64url characters
 *   (SHA-256, see `keys/digest.ts`); `<method>` is `Class.method` or a wrapped function's name;
 * - `lease`: `<entry>#lock`, a cross-process fill lease;
 * - `tag`: `<prefix>:tag:<tag>`, the keys carrying a tag;
 * - `vectors`: `<prefix>:<namespace>:<method>:sem:<digest>`, a semantic partition's questions;
 * - `stats`: `<prefix>:stats`, the counters of `sharedStats`;
 * - `other`: anything else under the prefix (not written by cachet).
 * Invalidation stamps (`<prefix>!invalidations...`) and the cost ledger (`cachet-ledger`) lie outside
 * `<prefix>:`, so that clearing a cache keeps them; they are never listed.
 */
export type KeyKind = 'entry' | 'lease' | 'tag' | 'vectors' | 'stats' | 'other';

/** A key of a cache, by {@link describeKey}. `namespace` and `method` are set for entries, leases and vectors. */
export interface KeyDescription {
  readonly kind: KeyKind;
  readonly namespace?: string;
  readonly method?: string;
}

const LEASE_SUFFIX = '#lock';
const VECTORS_SUFFIX = ':sem';
const DIGEST = /^[A-Za-z0-9_-]{43}$/;

/**
 * What `key` is in the cache whose prefix is `prefix`; `undefined` when it lies outside `<prefix>:`.
 * Read with `indexOf` rather than one regular expression: a pattern with a `.+` between two `:` backtracks
 * over every key a listing returns, and cost 1-4 µs a key (20,000 keys: 16-78 ms on this VM).
 */
export function describeKey(prefix: string, key: string): KeyDescription | undefined {
  if (!key.startsWith(prefix) || key.charCodeAt(prefix.length) !== 58 /* : */) return undefined;
  const rest = key.slice(prefix.length + 1);
  if (rest === 'stats') return { kind: 'stats' };
  if (rest.startsWith('tag:')) return { kind: 'tag' };
  const lease = rest.endsWith(LEASE_SUFFIX);
  const body = lease ? rest.slice(0, -LEASE_SUFFIX.length) : rest;
  // `<namespace>:<method>:<digest>`: the namespace holds no `:`, the method may, the digest is last.
  const first = body.indexOf(':');
  const last = body.lastIndexOf(':');
  if (first <= 0 || last <= first + 1 || !DIGEST.test(body.slice(last + 1))) return { kind: 'other' };
  const namespace = body.slice(0, first);
  const method = body.slice(first + 1, last);
  if (method.endsWith(VECTORS_SUFFIX) && method.length > VECTORS_SUFFIX.length) {
    const owner = method.slice(0, -VECTORS_SUFFIX.length);
    return lease ? { kind: 'other' } : { kind: 'vectors', namespace, method: owner };
  }
  return { kind: lease ? 'lease' : 'entry', namespace, method };
}
