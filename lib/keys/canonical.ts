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

/** Strings at least this long are kept as pieces of their own; shorter pieces are glued together. */
const LONG_STRING = 64;
/** `s<length>:` of the short strings, made once. */
const PREFIX = Array.from({ length: LONG_STRING }, (_, n) => `s${n}:`);
/** Glued text is set aside as a piece once it is this long, so it never grows into a deep rope. */
const GLUED_MAX = 1_024;

/**
 * The canonical text being built. Tags, length prefixes, keys and short strings (most of the pieces) are
 * glued with `+=`; long strings stay pieces of their own; the pieces are joined once at the end. A 10 KB
 * chat transcript makes ~85 pieces this way. Pushing every tag and prefix as a piece made ~330, and
 * joining them cost nearly a third of the encoding. The glued text is set aside every
 * {@link GLUED_MAX} characters, so a long list of small values never grows one deep rope.
 */
class Text {
  readonly #pieces: string[] = [];
  #glued = '';

  add(piece: string): void {
    this.#glued += piece;
    if (this.#glued.length >= GLUED_MAX) this.#flush();
  }

  addString(value: string): void {
    if (value.length < LONG_STRING) {
      this.#glued += (PREFIX[value.length] as string) + value;
      if (this.#glued.length >= GLUED_MAX) this.#flush();
    } else {
      this.#pieces.push(this.#glued + 's' + value.length + ':', value);
      this.#glued = '';
    }
  }

  /** A piece that may be long (bytes in base64, sorted entries), kept whole. */
  addPiece(piece: string): void {
    this.#flush();
    this.#pieces.push(piece);
  }

  done(): string {
    this.#flush();
    return this.#pieces.length === 1 ? (this.#pieces[0] as string) : this.#pieces.join('');
  }

  #flush(): void {
    if (this.#glued.length === 0) return;
    this.#pieces.push(this.#glued);
    this.#glued = '';
  }
}

/** Encodes an argument list. Throws {@link UnencodableArgument} for functions, symbols and cycles. */
export function encodeArguments(args: readonly unknown[]): string {
  const out = new Text();
  out.add('(');
  // The argument list itself cannot be part of a cycle, so it is not put on the ancestor stack.
  for (let i = 0; i < args.length; i++) encodeAt(args[i], out, undefined, i);
  out.add(')');
  return out.done();
}

/** Encodes one value (used for the result of a `key` function). */
export function encodeValueForKey(value: unknown): string {
  const out = new Text();
  encodeAt(value, out, undefined, undefined);
  return out.done();
}

/**
 * Encodes a member of a container. `at` names it for error paths: an index, a property name, or
 * nothing at the top. The path text is only built when an error passes through.
 */
function encodeAt(value: unknown, out: Text, ancestors: object[] | undefined, at: number | string | undefined): void {
  try {
    encode(value, out, ancestors);
  } catch (error) {
    if (error instanceof UnencodableArgument && at !== undefined) {
      error.segments.push(typeof at === 'number' ? `[${at}]` : `.${at}`);
    }
    throw error;
  }
}

function encode(value: unknown, out: Text, ancestors: object[] | undefined): void {
  switch (typeof value) {
    case 'string':
      out.addString(value);
      return;
    case 'number':
      // String(-0) is "0", so -0 needs its own spelling; NaN and ±Infinity print distinctly already.
      out.add(value === 0 && 1 / value < 0 ? 'n-0;' : 'n' + value + ';');
      return;
    case 'boolean':
      out.add(value ? 't' : 'f');
      return;
    case 'undefined':
      out.add('u');
      return;
    case 'bigint':
      out.add('i' + value + ';');
      return;
    case 'object':
      if (value === null) out.add('z');
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
  const out = new Text();
  encodeAt(value, out, ancestors, at);
  return out.done();
}

function encodeObject(value: object, out: Text, ancestors: object[]): void {
  if (ancestors.includes(value)) throw new UnencodableArgument('circular reference');
  // Arrays and plain objects first: they are nearly all of what arguments hold.
  if (Array.isArray(value)) {
    ancestors.push(value);
    out.add('[');
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'string') out.addString(item);
      else encodeAt(item, out, ancestors, i);
    }
    out.add(']');
    ancestors.pop();
    return;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    encodeEntries(value, out, ancestors);
    return;
  }
  if (value instanceof Date) {
    out.add('D' + value.getTime() + ';');
  } else if (value instanceof RegExp) {
    out.add('R');
    encode(value.source, out, ancestors);
    out.add(value.flags + ';');
  } else if (ArrayBuffer.isView(value)) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    out.add('B' + value.constructor.name + ':');
    out.addPiece(bytes);
    out.add(';');
  } else if (value instanceof ArrayBuffer) {
    out.add('A');
    out.addPiece(Buffer.from(value).toString('base64'));
    out.add(';');
  } else if (value instanceof Map) {
    ancestors.push(value);
    const entries: string[] = [];
    let i = 0;
    for (const [k, v] of value) {
      entries.push(encodeApart(k, ancestors, `<map key ${i}>`) + encodeApart(v, ancestors, `<map value ${i}>`));
      i++;
    }
    out.add('M');
    out.addPiece(entries.sort().join(''));
    out.add(';');
    ancestors.pop();
  } else if (value instanceof Set) {
    ancestors.push(value);
    const members: string[] = [];
    let i = 0;
    for (const member of value) members.push(encodeApart(member, ancestors, `<set member ${i++}>`));
    out.add('S');
    out.addPiece(members.sort().join(''));
    out.add(';');
    ancestors.pop();
  } else {
    // A class instance: its constructor's name, then its own enumerable properties.
    out.add('C');
    encode(value.constructor?.name ?? '', out, ancestors);
    encodeEntries(value, out, ancestors);
  }
}

/** `{` + own enumerable properties in sorted key order + `}`. */
function encodeEntries(value: object, out: Text, ancestors: object[]): void {
  ancestors.push(value);
  out.add('{');
  const keys = Object.keys(value);
  sortKeys(keys);
  for (const key of keys) {
    out.addString(key);
    // Strings, most members, cannot fail: no error path to name.
    const member: unknown = (value as Record<string, unknown>)[key];
    if (typeof member === 'string') out.addString(member);
    else encodeAt(member, out, ancestors, key);
  }
  out.add('}');
  ancestors.pop();
}

/**
 * Sorts in place in the order of `Array.prototype.sort()` (UTF-16 code units, which is what `<` on
 * strings compares). Most objects have a handful of keys, and for those an insertion sort is several
 * times faster than the built-in sort, whose set-up dominates short arrays.
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 12) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
}
