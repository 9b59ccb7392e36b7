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

/**
 * Encodes an argument list. Throws {@link UnencodableArgument} for functions, symbols and cycles.
 *
 * Pieces are collected in an array and joined once: `text += piece` would build a deep rope that V8
 * must flatten before hashing, which for a 10 KB chat transcript costs as much as the SHA-256 itself.
 */
export function encodeArguments(args: readonly unknown[]): string {
  const out: string[] = ['('];
  // The argument list itself cannot be part of a cycle, so it is not put on the ancestor stack.
  for (let i = 0; i < args.length; i++) encodeAt(args[i], out, undefined, i);
  out.push(')');
  return out.join('');
}

/** Encodes one value (used for the result of a `key` function). */
export function encodeValueForKey(value: unknown): string {
  const out: string[] = [];
  encodeAt(value, out, undefined, undefined);
  return out.join('');
}

/**
 * Encodes a member of a container. `at` names it for error paths: an index, a property name, or
 * nothing at the top. The path text is only built when an error passes through.
 */
function encodeAt(value: unknown, out: string[], ancestors: object[] | undefined, at: number | string | undefined): void {
  try {
    encode(value, out, ancestors);
  } catch (error) {
    if (error instanceof UnencodableArgument && at !== undefined) {
      error.segments.push(typeof at === 'number' ? `[${at}]` : `.${at}`);
    }
    throw error;
  }
}

function encode(value: unknown, out: string[], ancestors: object[] | undefined): void {
  switch (typeof value) {
    case 'string':
      out.push('s' + value.length + ':', value);
      return;
    case 'number':
      // String(-0) is "0", so -0 needs its own spelling; NaN and ±Infinity print distinctly already.
      out.push(value === 0 && 1 / value < 0 ? 'n-0;' : 'n' + value + ';');
      return;
    case 'boolean':
      out.push(value ? 't' : 'f');
      return;
    case 'undefined':
      out.push('u');
      return;
    case 'bigint':
      out.push('i' + value + ';');
      return;
    case 'object':
      if (value === null) out.push('z');
      else encodeObject(value, out, ancestors ?? []);
      return;
    case 'function':
      throw new UnencodableArgument('function');
    default:
      throw new UnencodableArgument('symbol');
  }
}

/** Encodes a member on its own, for containers whose members are sorted by their encoding. */
function encodeApart(value: unknown, ancestors: object[], at: string): string {
  const out: string[] = [];
  encodeAt(value, out, ancestors, at);
  return out.join('');
}

function encodeObject(value: object, out: string[], ancestors: object[]): void {
  if (ancestors.includes(value)) throw new UnencodableArgument('circular reference');
  // Arrays and plain objects first: they are nearly all of what arguments hold.
  if (Array.isArray(value)) {
    ancestors.push(value);
    out.push('[');
    for (let i = 0; i < value.length; i++) encodeAt(value[i], out, ancestors, i);
    out.push(']');
    ancestors.pop();
    return;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    encodeEntries(value, out, ancestors);
    return;
  }
  if (value instanceof Date) {
    out.push('D' + value.getTime() + ';');
  } else if (value instanceof RegExp) {
    out.push('R');
    encode(value.source, out, ancestors);
    out.push(value.flags + ';');
  } else if (ArrayBuffer.isView(value)) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    out.push('B' + value.constructor.name + ':', bytes, ';');
  } else if (value instanceof ArrayBuffer) {
    out.push('A', Buffer.from(value).toString('base64'), ';');
  } else if (value instanceof Map) {
    ancestors.push(value);
    const entries: string[] = [];
    let i = 0;
    for (const [k, v] of value) {
      entries.push(encodeApart(k, ancestors, `<map key ${i}>`) + encodeApart(v, ancestors, `<map value ${i}>`));
      i++;
    }
    out.push('M', entries.sort().join(''), ';');
    ancestors.pop();
  } else if (value instanceof Set) {
    ancestors.push(value);
    const members: string[] = [];
    let i = 0;
    for (const member of value) members.push(encodeApart(member, ancestors, `<set member ${i++}>`));
    out.push('S', members.sort().join(''), ';');
    ancestors.pop();
  } else {
    // A class instance: its constructor's name, then its own enumerable properties.
    out.push('C');
    encode(value.constructor?.name ?? '', out, ancestors);
    encodeEntries(value, out, ancestors);
  }
}

/** `{` + own enumerable properties in sorted key order + `}`. */
function encodeEntries(value: object, out: string[], ancestors: object[]): void {
  ancestors.push(value);
  out.push('{');
  const keys = Object.keys(value);
  if (keys.length > 1) keys.sort();
  for (const key of keys) {
    out.push('s' + key.length + ':' + key);
    encodeAt((value as Record<string, unknown>)[key], out, ancestors, key);
  }
  out.push('}');
  ancestors.pop();
}
