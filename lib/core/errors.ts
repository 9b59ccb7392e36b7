/**
 * Base class of every error cachet throws on purpose. Each subclass has a stable `code` that callers can
 * switch on, and a message that says what was expected and what was found.
 */
export abstract class CachetError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A method's arguments cannot be turned into a cache key (a function, a symbol or a circular reference
 * somewhere in them). Give the decorator a `key` option to choose what identifies a call.
 */
export class CacheKeyError extends CachetError {
  readonly code = 'ERR_CACHET_KEY';

  constructor(
    /** Where the offending value sits, e.g. `args[1].callback`. */
    readonly path: string,
    /** What was found there: `function`, `symbol` or `circular reference`. */
    readonly found: string,
    /** `Class.method` whose key was being derived. */
    readonly method: string,
  ) {
    super(
      `Cannot derive a cache key for ${method}: found a ${found} at \`${path}\`. ` +
        'Arguments must be data (primitives, plain objects, arrays, Date, Map, Set, BigInt, Buffer, typed arrays, RegExp); ' +
        'pass a `key` option to choose what identifies a call.',
    );
  }
}

/** A cache store operation failed or took longer than its timeout. Wraps the driver's error in `cause`. */
export class StoreError extends CachetError {
  readonly code: string = 'ERR_CACHET_STORE';

  constructor(
    /** The store operation: `get`, `set`, `delete`, `lease`, ... */
    readonly operation: string,
    /** The cache key involved, when there is one. */
    readonly key: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A store operation did not answer within the store's `operationTimeout`. */
export class StoreTimeoutError extends StoreError {
  override readonly code = 'ERR_CACHET_STORE_TIMEOUT';

  constructor(
    operation: string,
    key: string | undefined,
    readonly timeoutMs: number,
  ) {
    super(operation, key, `Store operation \`${operation}\` did not answer within ${timeoutMs} ms`);
  }
}

/** The store's circuit is open after repeated failures; operations are skipped until it half-opens. */
export class StoreUnavailableError extends StoreError {
  override readonly code = 'ERR_CACHET_STORE_UNAVAILABLE';

  constructor(
    operation: string,
    key: string | undefined,
    readonly retryAfterMs: number,
  ) {
    super(
      operation,
      key,
      `Store is unavailable after repeated failures; \`${operation}\` skipped, next attempt in ${retryAfterMs} ms`,
    );
  }
}

/**
 * An invalidation (`invalidate`, `invalidateTags`, `clear`) could not reach the store. It is not lost:
 * memory copies in this process are already gone, and the cache replays it until the store answers.
 * `applied` resolves once it has been, and rejects if the cache closes first. `cause` is the store's error.
 */
export class InvalidationQueuedError extends StoreError {
  override readonly code = 'ERR_CACHET_INVALIDATION_QUEUED';

  constructor(
    operation: string,
    key: string | undefined,
    /** Settles when the replay has been applied (or rejects when the cache closed before it could be). */
    readonly applied: Promise<void>,
    cause: StoreError,
  ) {
    super(
      operation,
      key,
      `${cause.message}; the invalidation is queued and will be applied once the store answers (await error.applied)`,
      { cause },
    );
  }
}

/**
 * A key given to `cache.inspect` is not one of the cache's entries: its name is not
 * `<prefix>:<namespace>:<method>:<digest>` (a lease, a tag set, another prefix, a key of another tool), or
 * what the store holds under it is not a cachet entry (`cause` says why).
 */
export class NotCachetKeyError extends CachetError {
  readonly code = 'ERR_CACHET_NOT_A_KEY';

  constructor(
    /** The key asked about. */
    readonly key: string,
    /** What was expected of it. */
    expected: string,
    options?: { cause?: unknown },
  ) {
    super(`Expected ${expected}, got ${JSON.stringify(key)}`, options);
  }
}

export function isCachetError(error: unknown): error is CachetError {
  return error instanceof CachetError;
}
export function isCacheKeyError(error: unknown): error is CacheKeyError {
  return error instanceof CacheKeyError;
}
export function isStoreError(error: unknown): error is StoreError {
  return error instanceof StoreError;
}
export function isStoreTimeoutError(error: unknown): error is StoreTimeoutError {
  return error instanceof StoreTimeoutError;
}
export function isStoreUnavailableError(error: unknown): error is StoreUnavailableError {
  return error instanceof StoreUnavailableError;
}
export function isNotCachetKeyError(error: unknown): error is NotCachetKeyError {
  return error instanceof NotCachetKeyError;
}
export function isInvalidationQueuedError(error: unknown): error is InvalidationQueuedError {
  return error instanceof InvalidationQueuedError;
}
