/** The cachet value format: its version, the tag key, the errors, and helpers both directions share. */

/**
 * Version of the text format written by {@link encodeValue}; every payload starts with it and a colon (`1:`).
 *
 * Format: `1:` then JSON. Plain JSON values are stored as themselves. Anything JSON cannot express becomes a tagged
 * object `{"~": tag, "v": payload}`: `u` undefined, `n` NaN/±Infinity/-0, `b` BigInt, `D` Date (ms, null if invalid),
 * `M` Map (`[[k, v], ...]`), `S` Set, `R` RegExp (`[source, flags]`), `B` Buffer, `A` ArrayBuffer, `T` typed array
 * or DataView (`c` = class name; bytes in platform order), bytes as base64, `C` an instance of a class registered
 * with `registerClass` (`c` = its registered name, `v` = its own enumerable properties or what its `toData` returned).
 * A plain object that owns a `~` key is escaped as `{"~": "o", "v": object}`.
 *
 * Refused: instances of classes that are not registered (Errors included), since they would come back as plain
 * objects. Not kept: null-prototype objects gain `Object.prototype`; array holes become `undefined`; shared
 * references are duplicated; RegExp `lastIndex` resets; symbol keys are dropped. Lone surrogates do survive,
 * because `JSON.stringify` writes them as `\uXXXX` escapes.
 */
export const CODEC_VERSION = 1;

export const PREFIX = `${CODEC_VERSION}:`;
export const TAG = '~';

export type ViewClass = (new (buffer: ArrayBuffer) => ArrayBufferView) & { BYTES_PER_ELEMENT?: number };
// A Map, not an object literal, so a crafted class name such as `constructor` finds nothing.
export const VIEWS = new Map<string, ViewClass>();
for (const name of [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float16Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'DataView',
]) {
  const ctor = (globalThis as Record<string, unknown>)[name]; // Float16Array only exists on newer runtimes.
  if (typeof ctor === 'function') VIEWS.set(name, ctor as ViewClass);
}

/** Thrown by {@link encodeValue} for values that cannot be stored (functions, symbols, cycles, WeakMap...). */
export class ValueEncodeError extends TypeError {
  override readonly name = 'ValueEncodeError';
  readonly code = 'ERR_CACHET_VALUE_ENCODE';

  /** @param path - where the offending value sits, e.g. `value.user.callback` or `value.items[2]`. */
  constructor(
    message: string,
    readonly path: string,
    options?: ErrorOptions,
  ) {
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

/** Defines an own data property even for `__proto__`, where plain assignment would swap the prototype instead. */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key !== '__proto__') obj[key] = value;
  else Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
