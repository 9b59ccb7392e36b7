/**
 * Remembers the finished keys of recently seen small argument lists, so that a repeated call (the hot
 * path: the same question, the same options) neither builds the canonical text nor hashes it.
 *
 * It is a trie of `Map`s walked token by token: every primitive is a token compared by value (a Map
 * tells `1` from `"1"` from `true` from `null`), and an array or object starts with a marker that also
 * says how many items or entries follow, so a path spells exactly one argument structure and a found
 * leaf needs no verification. Hashing the
 * characters in JavaScript would cost more than the whole hit; a Map lookup uses the hash V8 keeps inside
 * each string, computed once per string.
 *
 * Only small plain JSON data is eligible: strings of at most {@link MAX_STRING} characters, finite
 * numbers other than -0 (a Map does not tell -0 from 0), booleans, null, arrays and plain objects, at
 * most {@link MAX_TOKENS} tokens. Object keys are taken in their own order, so `{a, b}` and `{b, a}` use
 * two paths; both lead to the same canonical key, computed once each.
 */

const MAX_STRING = 256;
const MAX_TOKENS = 64;
const MAX_DEPTH = 8;
/** Remembered keys; past this the trie starts again empty (cheaper than per-entry eviction). */
const MAX_LEAVES = 2_048;

/** `ARRAY_OF[n]` starts an array of n items, `OBJECT_OF[n]` an object of n entries (n < MAX_TOKENS). */
const ARRAY_OF = Array.from({ length: MAX_TOKENS }, (_, n) => Symbol(`array of ${n}`));
const OBJECT_OF = Array.from({ length: MAX_TOKENS }, (_, n) => Symbol(`object of ${n}`));

type Token = string | number | boolean | null | symbol;

class TrieNode {
  readonly next = new Map<Token, TrieNode>();
  key: string | undefined;
}

function eligiblePrimitive(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
      return value.length <= MAX_STRING;
    case 'number':
      return Number.isFinite(value) && !(value === 0 && 1 / value < 0);
    case 'boolean':
      return true;
    default:
      return value === null;
  }
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Walks `value` from `node`; `undefined` when the path does not exist or the value is not eligible. */
function find(node: TrieNode | undefined, value: unknown, depth: number): TrieNode | undefined {
  if (node === undefined) return undefined;
  if (typeof value !== 'object' || value === null) {
    return eligiblePrimitive(value) ? node.next.get(value as Token) : undefined;
  }
  if (depth === MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    const marker = ARRAY_OF[value.length];
    let at = marker === undefined ? undefined : node.next.get(marker);
    for (let i = 0; i < value.length && at !== undefined; i++) at = find(at, value[i], depth + 1);
    return at;
  }
  if (!isPlainObject(value)) return undefined;
  // The entry count comes first, but counting means a walk; walk once and check the count at the end.
  let at: TrieNode | undefined = node;
  let count = 0;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) return undefined;
    if (count === 0) at = node.next.get(OBJECT_OF[objectSize(value)] as symbol);
    if (at === undefined) return undefined;
    at = find(at.next.get(key), (value as Record<string, unknown>)[key], depth + 1);
    count++;
  }
  return count === 0 ? node.next.get(OBJECT_OF[0] as symbol) : at;
}

/** Own enumerable keys of a plain object, counted without allocating. */
function objectSize(value: object): number {
  let n = 0;
  for (const key in value) if (Object.prototype.hasOwnProperty.call(value, key)) n++;
  return n;
}

/** Lists the tokens of `value`, or returns false when it is not eligible. */
function tokens(value: unknown, out: Token[], depth: number): boolean {
  if (out.length > MAX_TOKENS) return false;
  if (typeof value !== 'object' || value === null) {
    if (!eligiblePrimitive(value)) return false;
    out.push(value as Token);
    return true;
  }
  if (depth === MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    const marker = ARRAY_OF[value.length];
    if (marker === undefined) return false;
    out.push(marker);
    for (const item of value) if (!tokens(item, out, depth + 1)) return false;
  } else {
    if (!isPlainObject(value)) return false;
    const keys = Object.keys(value);
    const marker = OBJECT_OF[keys.length];
    if (marker === undefined) return false;
    out.push(marker);
    for (const key of keys) {
      if (key.length > MAX_STRING) return false;
      out.push(key);
      if (!tokens((value as Record<string, unknown>)[key], out, depth + 1)) return false;
    }
  }
  return out.length <= MAX_TOKENS;
}

/** Argument list (or `key` function result) → the key derived for it. */
export class ArgumentMemo {
  #root = new TrieNode();
  #leaves = 0;

  /** Keys remembered (at most {@link MAX_LEAVES}). */
  get size(): number {
    return this.#leaves;
  }

  /** The remembered key of `value`, if any. Allocates nothing. */
  get(value: unknown): string | undefined {
    return find(this.#root, value, 0)?.key;
  }

  /** Remembers `key` for `value` when `value` is eligible. */
  set(value: unknown, key: string): void {
    const path: Token[] = [];
    if (!tokens(value, path, 0)) return;
    if (this.#leaves >= MAX_LEAVES) {
      this.#root = new TrieNode();
      this.#leaves = 0;
    }
    let node = this.#root;
    for (const token of path) {
      let next = node.next.get(token);
      if (next === undefined) node.next.set(token, (next = new TrieNode()));
      node = next;
    }
    if (node.key === undefined) this.#leaves++;
    node.key = key;
  }
}
