import { types } from 'node:util';

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
