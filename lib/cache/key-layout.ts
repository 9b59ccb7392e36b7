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
/** `<namespace>:<method>:[sem:]<digest>`: the namespace holds no `:`, the method may. */
const ENTRY = /^([^:]+):(.+):([A-Za-z0-9_-]{43})$/;
const VECTORS = /^([^:]+):(.+):sem:([A-Za-z0-9_-]{43})$/;

/** What `key` is in the cache whose prefix is `prefix`; `undefined` when it lies outside `<prefix>:`. */
export function describeKey(prefix: string, key: string): KeyDescription | undefined {
  if (!key.startsWith(`${prefix}:`)) return undefined;
  const rest = key.slice(prefix.length + 1);
  if (rest === 'stats') return { kind: 'stats' };
  if (rest.startsWith('tag:')) return { kind: 'tag' };
  const lease = rest.endsWith(LEASE_SUFFIX);
  const body = lease ? rest.slice(0, -LEASE_SUFFIX.length) : rest;
  const vectors = VECTORS.exec(body);
  if (vectors !== null) return { kind: lease ? 'other' : 'vectors', namespace: vectors[1], method: vectors[2] };
  const entry = ENTRY.exec(body);
  if (entry !== null) return { kind: lease ? 'lease' : 'entry', namespace: entry[1], method: entry[2] };
  return { kind: 'other' };
}
