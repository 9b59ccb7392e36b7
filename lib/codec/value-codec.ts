import { types } from 'node:util';

/**
 * Version of the text format written by {@link encodeValue}; every payload starts with it and a colon (`1:`).
 *
 * Format: `1:` then JSON. Plain JSON values are stored as themselves. Anything JSON cannot express becomes a tagged
 * object `{"~": tag, "v": payload}`: `u` undefined, `n` NaN/±Infinity/-0, `b` BigInt, `D` Date (ms, null if invalid),
 * `M` Map (`[[k, v], ...]`), `S` Set, `R` RegExp (`[source, flags]`), `B` Buffer, `A` ArrayBuffer, `T` typed array
 * or DataView (`c` = class name; bytes in platform order), bytes as base64. A plain object that owns a `~` key is
 * escaped as `{"~": "o", "v": object}`.
 *
 * Not kept: class instances and Errors decode as plain objects of their own enumerable properties (Errors also keep
 * `name` and `message`); null-prototype objects gain `Object.prototype`; array holes become `undefined`; shared
 * references are duplicated; RegExp `lastIndex` resets; symbol keys are dropped. Lone surrogates do survive,
 * because `JSON.stringify` writes them as `\uXXXX` escapes.
 */
export const CODEC_VERSION = 1;

const PREFIX = `${CODEC_VERSION}:`;
const TAG = '~';
const UNDEFINED = { [TAG]: 'u' };
const DATA_ONLY =
  'cached values must be data (plain objects, arrays, primitives, Date, Map, Set, BigInt, Buffer, typed arrays, RegExp)';
const NUMBERS = new Map<unknown, number>([['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity], ['-0', -0]]);
const UNSUPPORTED: ReadonlyArray<readonly [(o: object) => boolean, string]> = [
  [types.isWeakMap, 'WeakMap'], [types.isWeakSet, 'WeakSet'], [(o) => o instanceof WeakRef, 'WeakRef'],
  [types.isPromise, 'Promise'], [types.isSharedArrayBuffer, 'SharedArrayBuffer'],
  [types.isBoxedPrimitive, 'boxed primitive'], [types.isGeneratorObject, 'generator'],
];
type ViewClass = (new (buffer: ArrayBuffer) => ArrayBufferView) & { BYTES_PER_ELEMENT?: number };
// A Map, not an object literal, so a crafted class name such as `constructor` finds nothing.
const VIEWS = new Map<string, ViewClass>();
for (const name of ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array',
  'Uint32Array', 'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'DataView']) {
  const ctor = (globalThis as Record<string, unknown>)[name]; // Float16Array only exists on newer runtimes.
  if (typeof ctor === 'function') VIEWS.set(name, ctor as ViewClass);
}

/** Thrown by {@link encodeValue} for values that cannot be stored (functions, symbols, cycles, WeakMap...). */
export class ValueEncodeError extends TypeError {
  override readonly name = 'ValueEncodeError';
  readonly code = 'ERR_CACHET_VALUE_ENCODE';

  /** @param path - where the offending value sits, e.g. `value.user.callback` or `value.items[2]`. */
  constructor(message: string, readonly path: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Thrown by {@link decodeValue} for text that is not a cachet payload (bad JSON, unknown version, unknown tag). */
export class ValueDecodeError extends Error {
  override readonly name = 'ValueDecodeError';
  readonly code = 'ERR_CACHET_VALUE_DECODE';
}

/** True when `e` is a {@link ValueEncodeError}. */
export function isValueEncodeError(e: unknown): e is ValueEncodeError {
  return e instanceof ValueEncodeError;
}

/** True when `e` is a {@link ValueDecodeError}. */
export function isValueDecodeError(e: unknown): e is ValueDecodeError {
  return e instanceof ValueDecodeError;
}

/**
 * Encodes any cacheable value to a versioned string that {@link decodeValue} turns back into an equal value.
 * @throws {@link ValueEncodeError} for functions, symbols, cycles, WeakMap, Promise and the like, naming the path.
 * @example encodeValue({ at: new Date(0) }) // '1:{"at":{"~":"D","v":0}}'
 */
export function encodeValue(value: unknown): string {
  const state: EncodeState = { path: [], ancestors: new Map() };
  try {
    return PREFIX + JSON.stringify(encodeNode(value, state));
  } catch (error) {
    if (isValueEncodeError(error)) throw error;
    // A getter that throws (read before its key joins the path), or nesting deeper than the call stack.
    throw encodeError('a value', state, `reading it or its contents threw ${String(error)}`, error);
  }
}

/**
 * Decodes a string produced by {@link encodeValue}. Never changes a prototype: `__proto__` keys stay own properties.
 * @throws {@link ValueDecodeError} on any other text (and never another error type).
 */
export function decodeValue(text: string): unknown {
  if (typeof text !== 'string' || !text.startsWith(PREFIX)) throw badPrefix(text);
  try {
    const parsed: unknown = JSON.parse(text.slice(PREFIX.length));
    return typeof parsed === 'object' && parsed !== null ? revive(parsed) : parsed;
  } catch (error) {
    if (isValueDecodeError(error)) throw error;
    // A SyntaxError from JSON.parse, or a RangeError from nesting deeper than the call stack.
    const message = `Cannot decode a cachet value: expected JSON after \`${PREFIX}\`, got ${String(error)}`;
    throw new ValueDecodeError(message, { cause: error });
  }
}

/**
 * Rough in-memory size of a value in bytes, for `MemoryStore`'s `maxBytes` accounting: strings 2 bytes per char,
 * numbers 8, objects 16 plus their keys and contents. Each object is counted once, so cycles terminate.
 */
export function estimateSize(value: unknown): number {
  const seen = new Set<object>();
  const pending: unknown[] = [value]; // an explicit stack: deep nesting must not overflow the call stack
  let bytes = 0;
  while (pending.length > 0) {
    const v = pending.pop();
    if (typeof v === 'string') bytes += 2 * v.length;
    else if (typeof v === 'bigint') bytes += 8 + Math.ceil(v.toString(16).length / 2);
    else if (typeof v !== 'object' || v === null) bytes += 8;
    else if (!seen.has(v)) {
      seen.add(v);
      bytes += 16;
      if (ArrayBuffer.isView(v) || types.isArrayBuffer(v)) bytes += v.byteLength;
      else if (types.isMap(v)) for (const [k, x] of v) pending.push(k, x);
      else if (types.isSet(v)) for (const x of v) pending.push(x);
      else if (types.isRegExp(v)) bytes += 2 * v.source.length;
      else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) pending.push(v[i]);
      else for (const [k, x] of Object.entries(v)) pending.push(k, x);
    }
  }
  return bytes;
}

/** A path step: an object key, an array index, or text written as is (`.keys()[0]`). */
type Segment = string | number | { readonly raw: string };
interface EncodeState {
  readonly path: Segment[];
  /** Objects on the current path, each with the path length where it was entered, to name both ends of a cycle. */
  readonly ancestors: Map<object, number>;
}

function encodeNode(v: unknown, s: EncodeState): unknown {
  switch (typeof v) {
    case 'string': case 'boolean': return v;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0) ? v : { [TAG]: 'n', v: Object.is(v, -0) ? '-0' : String(v) };
    case 'undefined': return UNDEFINED;
    case 'bigint': return { [TAG]: 'b', v: v.toString() };
    case 'object': return v === null ? null : encodeObject(v, s);
    default: throw encodeError(`a ${typeof v}`, s);
  }
}

/** The common leaves JSON keeps exactly; checked inline so they skip the path bookkeeping. Zero may be -0. */
function isJsonLeaf(v: unknown): boolean {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && v !== 0 && Number.isFinite(v));
}

function encodeChild(v: unknown, segment: Segment, s: EncodeState): unknown {
  s.path.push(segment);
  const encoded = encodeNode(v, s);
  s.path.pop();
  return encoded;
}

function encodeObject(obj: object, s: EncodeState): unknown {
  const entered = s.ancestors.get(obj);
  if (entered !== undefined) {
    const target = formatPath(s.path, entered);
    throw encodeError('a circular reference', s, `it points back to \`${target}\`, and cached values cannot be cyclic`);
  }
  s.ancestors.set(obj, s.path.length);
  const encoded = encodeObjectBody(obj, s);
  s.ancestors.delete(obj);
  return encoded;
}

function encodeObjectBody(obj: object, s: EncodeState): unknown {
  if (Array.isArray(obj)) return encodeArray(obj, s, Object.getPrototypeOf(obj) === Array.prototype);
  // Only exact plain objects may reach JSON.stringify untouched: a class could define toJSON.
  if (Object.getPrototypeOf(obj) === Object.prototype) return encodeRecord(obj as Record<string, unknown>, s, true);
  if (types.isDate(obj)) return { [TAG]: 'D', v: Number.isNaN(obj.getTime()) ? null : obj.getTime() };
  if (types.isMap(obj)) {
    const pairs = [...obj].map(([k, x], i) =>
      [encodeChild(k, { raw: `.keys()[${i}]` }, s), encodeChild(x, { raw: `.values()[${i}]` }, s)]);
    return { [TAG]: 'M', v: pairs };
  }
  if (types.isSet(obj)) {
    return { [TAG]: 'S', v: [...obj].map((x, i) => encodeChild(x, { raw: `.values()[${i}]` }, s)) };
  }
  if (types.isRegExp(obj)) return { [TAG]: 'R', v: [obj.source, obj.flags] };
  if (Buffer.isBuffer(obj)) return { [TAG]: 'B', v: obj.toString('base64') };
  if (types.isArrayBuffer(obj)) return { [TAG]: 'A', v: Buffer.from(obj).toString('base64') };
  if (ArrayBuffer.isView(obj)) {
    const c = Object.prototype.toString.call(obj).slice(8, -1);
    if (!VIEWS.has(c)) throw encodeError(`a ${c}`, s);
    return { [TAG]: 'T', c, v: Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength).toString('base64') };
  }
  if (types.isNativeError(obj) || obj instanceof Error) {
    return encodeRecord({ name: obj.name, message: obj.message, ...(obj as object) }, s, true);
  }
  const unsupported = UNSUPPORTED.find(([is]) => is(obj));
  if (unsupported !== undefined) throw encodeError(`a ${unsupported[1]}`, s);
  return encodeRecord(obj as Record<string, unknown>, s, false);
}

/** Copy-on-write: returns `arr` itself unless a child needs another JSON form, so plain data is never copied. */
function encodeArray(arr: readonly unknown[], s: EncodeState, reuse: boolean): unknown[] {
  let out: unknown[] | undefined = reuse ? undefined : [];
  for (let i = 0; i < arr.length; i++) {
    const raw = arr[i];
    const encoded = isJsonLeaf(raw) ? raw : encodeChild(raw, i, s);
    if (out === undefined && encoded !== raw) out = arr.slice(0, i);
    out?.push(encoded);
  }
  return out ?? (arr as unknown[]);
}

/** Copy-on-write like {@link encodeArray}; class instances (`reuse` false) are always copied to a plain object. */
function encodeRecord(obj: Record<string, unknown>, s: EncodeState, reuse: boolean): unknown {
  const escape = Object.prototype.propertyIsEnumerable.call(obj, TAG);
  const keys = Object.keys(obj);
  let out: Record<string, unknown> | undefined = reuse && !escape ? undefined : {};
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const raw = obj[key];
    const encoded = isJsonLeaf(raw) ? raw : encodeChild(raw, key, s);
    if (out === undefined && encoded !== raw) {
      out = {};
      for (let j = 0; j < i; j++) setOwn(out, keys[j]!, obj[keys[j]!]);
    }
    if (out !== undefined) setOwn(out, key, encoded);
  }
  return out === undefined ? obj : escape ? { [TAG]: 'o', v: out } : out;
}

function encodeError(what: string, s: EncodeState, why = DATA_ONLY, cause?: unknown): ValueEncodeError {
  const path = formatPath(s.path, s.path.length);
  const options = cause === undefined ? undefined : { cause };
  return new ValueEncodeError(`Cannot encode ${what} at \`${path}\`: ${why}`, path, options);
}

function formatPath(path: readonly Segment[], end: number): string {
  const start = end > 40 ? end - 20 : 0; // after a stack overflow, the tail is the useful part
  let out = start > 0 ? 'value…' : 'value';
  for (const seg of path.slice(start, end)) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'object') out += seg.raw;
    else out += /^[A-Za-z_$][\w$]*$/.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Revives tagged nodes in place: untagged arrays and objects are reused, so only tagged nodes allocate. */
function revive(node: object): unknown {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const child: unknown = node[i];
      if (typeof child === 'object' && child !== null) node[i] = revive(child);
    }
    return node;
  }
  const rec = node as Record<string, unknown>;
  return rec[TAG] === undefined ? reviveRecord(rec) : reviveTagged(rec[TAG], rec.v, rec.c);
}

function reviveRecord(rec: Record<string, unknown>): Record<string, unknown> {
  // for-in is the fastest walk over JSON.parse output; the hasOwn check keeps keys a polluted prototype adds out.
  for (const key in rec) {
    const child = rec[key];
    if (typeof child !== 'object' || child === null || !Object.hasOwn(rec, key)) continue;
    const revived = revive(child);
    if (revived !== child) setOwn(rec, key, revived);
  }
  return rec;
}

function reviveTagged(tag: unknown, v: unknown, c: unknown): unknown {
  switch (tag) {
    case 'u': return undefined;
    case 'n': return NUMBERS.get(v) ?? malformed(tag, 'NaN, Infinity, -Infinity or -0', v);
    case 'b': return typeof v === 'string' && /^-?\d+$/.test(v) ? BigInt(v) : malformed(tag, 'an integer string', v);
    case 'D': return v === null || typeof v === 'number' ? new Date(v ?? NaN) : malformed(tag, 'a number or null', v);
    case 'S': return Array.isArray(v) ? new Set(revive(v) as unknown[]) : malformed(tag, 'an array', v);
    case 'M':
      if (Array.isArray(v) && v.every((e) => Array.isArray(e) && e.length === 2)) return new Map(revive(v) as []);
      return malformed(tag, 'an array of [key, value] pairs', v);
    case 'R':
      if (!Array.isArray(v) || typeof v[0] !== 'string' || typeof v[1] !== 'string') {
        return malformed(tag, '[source, flags]', v);
      }
      try {
        return new RegExp(v[0], v[1]);
      } catch (error) {
        return malformed(tag, 'a valid [source, flags]', v, error);
      }
    case 'B': return Buffer.from(base64(tag, v), 'base64');
    case 'A': return copyBytes(base64(tag, v));
    case 'T': {
      const View = typeof c === 'string' ? VIEWS.get(c) : undefined;
      if (View === undefined) return malformed(tag, 'a typed array class name in `c`', c);
      const bytes = copyBytes(base64(tag, v));
      const width = View.BYTES_PER_ELEMENT ?? 1;
      return bytes.byteLength % width === 0 ? new View(bytes) : malformed(tag, `a multiple of ${width} bytes`, v);
    }
    case 'o':
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return malformed(tag, 'an object', v);
      return reviveRecord(v as Record<string, unknown>);
    default:
      throw new ValueDecodeError(
        `Cannot decode a cachet value: expected a tag of u n b D M S R B A T o, got ${show(tag)}`,
      );
  }
}

/** A fresh, exactly sized ArrayBuffer: `Buffer.from` may return a view into a shared pool. */
function copyBytes(text: string): ArrayBuffer {
  const bytes = Buffer.from(text, 'base64');
  const buffer = new ArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  return buffer;
}

function base64(tag: string, v: unknown): string {
  // Buffer.from skips characters it does not know, so bad input would decode silently to the wrong bytes.
  if (typeof v === 'string' && v.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(v)) return v;
  return malformed(tag, 'base64 text', v);
}

function malformed(tag: string, expected: string, got: unknown, cause?: unknown): never {
  const message = `Cannot decode a cachet value: tag \`${tag}\` expects ${expected}, got ${show(got)}`;
  throw new ValueDecodeError(message, cause === undefined ? undefined : { cause });
}

function badPrefix(text: unknown): ValueDecodeError {
  const version = typeof text === 'string' ? /^(\d+):/.exec(text)?.[1] : undefined;
  const got = version !== undefined ? `codec version ${version}` : typeof text === 'string' ? show(text) : typeof text;
  return new ValueDecodeError(`Cannot decode a cachet value: expected text starting with \`${PREFIX}\`, got ${got}`);
}

/** Describes a JSON-parsed value (or the raw text) for a message; JSON.stringify cannot throw on those. */
function show(v: unknown): string {
  const text = typeof v === 'object' || typeof v === 'string' ? JSON.stringify(v) : String(v);
  return `\`${text.length > 40 ? `${text.slice(0, 40)}…` : text}\` (${v === null ? 'null' : typeof v})`;
}

/** Defines an own data property even for `__proto__`, where plain assignment would swap the prototype instead. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key !== '__proto__') obj[key] = value;
  else Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
