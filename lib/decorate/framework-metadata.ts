// Carries the metadata that frameworks attach to a method (NestJS routes, guards, pipes, interceptors,
// `SetMetadata`, Swagger operations) from the method a cachet decorator wraps to the wrapper, so that a
// decorator applied before cachet's (below it in the source) is not lost. Runs at decoration time only.
//
// The metadata is `reflect-metadata`'s: per-object maps that frameworks write with
// `Reflect.defineMetadata(key, value, method)`. cachet installs no global API to read it (see
// docs/decisions.md, "Framework metadata follows the wrapper"):
// - when the global API exists (NestJS, TypeORM, class-validator and others load `reflect-metadata`, or core-js
//   installs the same API), it is read through that API;
// - when only the shared registry of `reflect-metadata` 0.2 exists (a library wrote metadata through
//   `reflect-metadata/no-conflict`), `reflect-metadata/no-conflict` is loaded to read it: the registry is
//   there already, so loading it installs nothing;
// - otherwise nothing can have written such metadata, and there is nothing to carry.

/** The part of the Metadata Reflection API this module uses. */
interface MetadataApi {
  getOwnMetadataKeys(target: object): unknown[];
  getOwnMetadata(key: unknown, target: object): unknown;
  defineMetadata(key: unknown, value: unknown, target: object): void;
}

const REGISTRY = Symbol.for('@reflect-metadata:registry');

function isMetadataApi(value: unknown): value is MetadataApi {
  const api = value as Partial<MetadataApi> | undefined;
  return (
    typeof api?.getOwnMetadataKeys === 'function' &&
    typeof api.getOwnMetadata === 'function' &&
    typeof api.defineMetadata === 'function'
  );
}

let noConflict: MetadataApi | undefined;

/** The metadata API in use now, or undefined when no metadata can have been written. */
function metadataApi(): MetadataApi | undefined {
  if (isMetadataApi(Reflect)) return Reflect;
  if (!(REGISTRY in Reflect)) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  noConflict ??= require('reflect-metadata/no-conflict') as MetadataApi;
  return noConflict;
}

/**
 * Defines on `wrapper` every metadata entry that `original` holds itself (not through its prototype),
 * unless `wrapper` already holds that key.
 */
export function carryFrameworkMetadata(original: object, wrapper: object): void {
  const api = metadataApi();
  if (api === undefined) return;
  for (const key of api.getOwnMetadataKeys(original)) {
    if (api.getOwnMetadataKeys(wrapper).includes(key)) continue;
    api.defineMetadata(key, api.getOwnMetadata(key, original), wrapper);
  }
}
