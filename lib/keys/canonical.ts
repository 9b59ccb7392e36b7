/**
 * Canonical encoding of method arguments: equal data gives equal text, different data gives different
 * text. The encoding is injective because every string is length-prefixed and every other value carries
 * a one-letter type tag, so no escaping is needed and `1`, `"1"`, `1n`, `null`, `undefined`, `-0` and
 * `NaN` never meet. Object keys are sorted, so `{a, b}` and `{b, a}` agree; Map and Set entries are
 * sorted by their own encoding, so insertion order does not matter there either; arrays keep order.
 *
 * The text is only ever hashed or used as a map key, never parsed back.
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
  // The argument list itself cannot be part of a cycle, so it is not put on the ancestor stack.
  let text = '(';
  for (let i = 0; i < args.length; i++) text += encodeAt(args[i], undefined, `[${i}]`);
  return text + ')';
}

/** Encodes one value (used for the result of a `key` function). */
export function encodeValueForKey(value: unknown): string {
  return encodeAt(value, undefined, '');
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
