/**
 * The value codec: how cached values are written to and read from Redis. Split by direction:
 * `format.ts` (version, tags, errors), `encode.ts`, `decode.ts`, and `estimate-size.ts` for the memory
 * store's byte accounting.
 */
export { CODEC_VERSION, ValueDecodeError, ValueEncodeError, isValueDecodeError, isValueEncodeError } from './format';
export { encodeValue, assertEncodable } from './encode';
export { registerClass } from './class-registry';
export type { ClassOptions } from './class-registry';
export { decodeValue, decodeValueAt } from './decode';
export { estimateSize } from './estimate-size';
