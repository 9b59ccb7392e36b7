import { types } from 'node:util';
import { registeredClassOf } from './class-registry';
import { isValueEncodeError, PREFIX, setOwn, TAG, ValueEncodeError, VIEWS } from './format';

/** Value → text. Plain JSON data is handed to `JSON.stringify` untouched; only what JSON cannot express is tagged. */

const UNDEFINED = { [TAG]: 'u' };
const DATA_ONLY =
  'cached values must be data (plain objects, arrays, primitives, Date, Map, Set, BigInt, Buffer, typed arrays, RegExp) ' +
  'or instances of classes registered with registerClass()';
const UNSUPPORTED: ReadonlyArray<readonly [(o: object) => boolean, string]> = [
  [types.isWeakMap, 'WeakMap'],
  [types.isWeakSet, 'WeakSet'],
  [(o) => o instanceof WeakRef, 'WeakRef'],
  [types.isPromise, 'Promise'],
  [types.isSharedArrayBuffer, 'SharedArrayBuffer'],
  [types.isBoxedPrimitive, 'boxed primitive'],
  [types.isGeneratorObject, 'generator'],
];

/**
 * Encodes any cacheable value to a versioned string that {@link decodeValue} turns back into an equal value.
 * @throws {@link ValueEncodeError} for functions, symbols, cycles, WeakMap, Promise, instances of classes not
 * registered with {@link registerClass} and the like, naming the path.
 * @example encodeValue({ at: new Date(0) }) // '1:{"at":{"~":"D","v":0}}'
 */
export function encodeValue(value: unknown): string {
  return PREFIX + JSON.stringify(toJsonForm(value));
}

/**
 * Checks that `value` can be encoded, without producing the text: what a memory store does so that it
 * refuses exactly what a Redis store would. Plain data is walked without copying.
 * @throws {@link ValueEncodeError} as {@link encodeValue} does.
 */
export function assertEncodable(value: unknown): void {
  toJsonForm(value);
}

/** The value as JSON.stringify should see it: plain data untouched, everything else tagged. */
function toJsonForm(value: unknown): unknown {
  const state: EncodeState = { path: [], ancestors: new Map() };
  try {
    return encodeNode(value, state);
  } catch (error) {
    if (isValueEncodeError(error)) throw error;
    // A getter that throws (read before its key joins the path), or nesting deeper than the call stack.
    throw encodeError('a value', state, `reading it or its contents threw ${String(error)}`, error);
  }
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
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0) ? v : { [TAG]: 'n', v: Object.is(v, -0) ? '-0' : String(v) };
    case 'undefined':
      return UNDEFINED;
    case 'bigint':
      return { [TAG]: 'b', v: v.toString() };
    case 'object':
      return v === null ? null : encodeObject(v, s);
    default:
      throw encodeError(`a ${typeof v}`, s);
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
    const pairs = [...obj].map(([k, x], i) => [
      encodeChild(k, { raw: `.keys()[${i}]` }, s),
      encodeChild(x, { raw: `.values()[${i}]` }, s),
    ]);
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
  const registered = registeredClassOf(obj);
  if (registered !== undefined) {
    const data =
      registered.toData === undefined
        ? encodeRecord(obj as Record<string, unknown>, s, false)
        : encodeChild(registered.toData(obj), { raw: '' }, s);
    return { [TAG]: 'C', c: registered.name, v: data };
  }
  const unsupported = UNSUPPORTED.find(([is]) => is(obj));
  if (unsupported !== undefined) throw encodeError(`a ${unsupported[1]}`, s);
  const proto = Object.getPrototypeOf(obj) as object | null;
  // A null-prototype object is a dictionary: stored as data, it comes back with the ordinary prototype. So is
  // one whose prototype is an empty null-prototype object (Fastify's query and path parameters).
  if (proto === null || isEmptyNullPrototype(proto)) return encodeRecord(obj as Record<string, unknown>, s, false);
  throw encodeError(`an instance of ${classNameOf(obj)}`, s, unregisteredWhy(obj));
}

function isEmptyNullPrototype(proto: object): boolean {
  return Object.getPrototypeOf(proto) === null && Reflect.ownKeys(proto).length === 0;
}

function classNameOf(obj: object): string {
  const name = (obj.constructor as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name.length > 0 ? name : 'an anonymous class';
}

function unregisteredWhy(obj: object): string {
  const name = classNameOf(obj);
  return (
    `it would come back as a plain object without its class. Call registerClass(${name}) in every process ` +
    'that shares the cache, so it comes back as an instance, or return plain data'
  );
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
