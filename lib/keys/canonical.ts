/**
 * Canonical encoding of method arguments: equal data gives equal text, different data gives different
 * text. The encoding is injective because every string is length-prefixed and every other value carries
 * a one-letter type tag, so no escaping is needed and `1`, `"1"`, `1n`, `null`, `undefined`, `-0` and
 * `NaN` never meet. Object keys are sorted, so `{a, b}` and `{b, a}` agree; Map and Set entries are
 * sorted by their own encoding, so insertion order does not matter there either; arrays keep order.
 *
 * The text is only ever hashed or used as a map key, never parsed back.
 *
 * Most argument lists are plain JSON data (strings, numbers, options objects). For them the encoding is
 * simply `JSON.stringify` with object keys in sorted order: V8 builds that in one native pass as a flat
 * string, several times faster than concatenating tagged pieces, and it is injective on such values.
 * JSON texts start with `[`, tagged texts with `(`, so the two forms never meet. Which form a value gets
 * depends only on the types in it, never on key order, so equal data always lands on the same form.
 */

/** Thrown while walking; turned into a CacheKeyError with the full path by the caller. */
export class UnencodableArgument extends Error {
  readonly segments: string[] = [];
  constructor(readonly found: 'function' | 'symbol' | 'circular reference') {
    super(found);
  }
  /** The path from the argument list to the offending value, e.g. `args[1].user.callback`. */
  path(): string {
    return 'args' + this.segments.reverse().join('');
  }
}

/** Encodes an argument list. Throws {@link UnencodableArgument} for functions, symbols and cycles. */
export function encodeArguments(args: readonly unknown[]): string {
  const plain = jsonExactness(args, 0);
  if (plain === SORTED) return JSON.stringify(args);
  if (plain === UNSORTED) return JSON.stringify(args, sortKeys);
  // The argument list itself cannot be part of a cycle, so it is not put on the ancestor stack.
  let text = '(';
  for (let i = 0; i < args.length; i++) text += encodeAt(args[i], undefined, `[${i}]`);
  return text + ')';
}

/** Encodes one value (used for the result of a `key` function). */
export function encodeValueForKey(value: unknown): string {
  return encodeAt(value, undefined, '');
}

const SORTED = 0;
const UNSORTED = 1;
const NOT_JSON = 2;
/** Deeper structures take the tagged path, which also detects cycles. */
const MAX_JSON_DEPTH = 16;

/**
 * Whether `JSON.stringify` represents `value` exactly and unambiguously: strings, finite numbers other
 * than -0, booleans, null, and arrays and plain objects of those (no `undefined`, which JSON drops or
 * turns into null). Also tells whether every object's keys are already in sorted order.
 */
function jsonExactness(value: unknown, depth: number): number {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return SORTED;
    case 'number':
      return Number.isFinite(value) && !(value === 0 && 1 / value < 0) ? SORTED : NOT_JSON;
    case 'object': {
      if (value === null) return SORTED;
      if (depth === MAX_JSON_DEPTH) return NOT_JSON;
      let result = SORTED;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item = jsonExactness(value[i], depth + 1);
          if (item === NOT_JSON) return NOT_JSON;
          result |= item;
        }
        return result;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return NOT_JSON;
      let previous = '';
      let first = true;
      for (const key in value) {
        // Inherited enumerable keys (a polluted prototype) would be skipped by JSON.stringify.
        if (!Object.prototype.hasOwnProperty.call(value, key)) return NOT_JSON;
        const item = jsonExactness((value as Record<string, unknown>)[key], depth + 1);
        if (item === NOT_JSON) return NOT_JSON;
        if (!first && key < previous) result = UNSORTED;
        result |= item;
        previous = key;
        first = false;
      }
      return result;
    }
    default:
      return NOT_JSON;
  }
}

/** JSON.stringify replacer that emits plain objects with their keys sorted. */
function sortKeys(this: unknown, _key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    Object.defineProperty(sorted, key, { value: (value as Record<string, unknown>)[key], enumerable: true });
  }
  return sorted;
}

function encodeAt(value: unknown, ancestors: object[] | undefined, segment: string): string {
  try {
    return encode(value, ancestors);
  } catch (error) {
    if (error instanceof UnencodableArgument && segment) error.segments.push(segment);
    throw error;
  }
}

function encode(value: unknown, ancestors: object[] | undefined): string {
  switch (typeof value) {
    case 'string':
      return 's' + value.length + ':' + value;
    case 'number':
      // String(-0) is "0", so -0 needs its own spelling; NaN and ±Infinity print distinctly already.
      return value === 0 && 1 / value < 0 ? 'n-0;' : 'n' + value + ';';
    case 'boolean':
      return value ? 't' : 'f';
    case 'undefined':
      return 'u';
    case 'bigint':
      return 'i' + value + ';';
    case 'object':
      return value === null ? 'z' : encodeObject(value, ancestors ?? []);
    case 'function':
      throw new UnencodableArgument('function');
    default:
      throw new UnencodableArgument('symbol');
  }
}

function encodeObject(value: object, ancestors: object[]): string {
  if (ancestors.includes(value)) throw new UnencodableArgument('circular reference');
  if (value instanceof Date) return 'D' + value.getTime() + ';';
  if (value instanceof RegExp) return 'R' + encode(value.source, ancestors) + value.flags + ';';
  if (ArrayBuffer.isView(value)) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    return 'B' + value.constructor.name + ':' + bytes + ';';
  }
  if (value instanceof ArrayBuffer) return 'A' + Buffer.from(value).toString('base64') + ';';

  ancestors.push(value);
  let text: string;
  if (Array.isArray(value)) {
    text = '[';
    for (let i = 0; i < value.length; i++) text += encodeAt(value[i], ancestors, `[${i}]`);
    text += ']';
  } else if (value instanceof Map) {
    const entries: string[] = [];
    let i = 0;
    for (const [k, v] of value) {
      entries.push(encodeAt(k, ancestors, `.<map key ${i}>`) + encodeAt(v, ancestors, `.<map value ${i}>`));
      i++;
    }
    text = 'M' + entries.sort().join('') + ';';
  } else if (value instanceof Set) {
    const members: string[] = [];
    let i = 0;
    for (const member of value) members.push(encodeAt(member, ancestors, `.<set member ${i++}>`));
    text = 'S' + members.sort().join('') + ';';
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    text = proto === Object.prototype || proto === null ? '' : 'C' + encode(value.constructor?.name ?? '', ancestors);
    text += '{';
    const keys = Object.keys(value).sort();
    for (const key of keys) {
      text += 's' + key.length + ':' + key + encodeAt((value as Record<string, unknown>)[key], ancestors, `.${key}`);
    }
    text += '}';
  }
  ancestors.pop();
  return text;
}
