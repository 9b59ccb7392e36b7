import { optionError } from './validate';

/** What a cachet log message is about; the `event` field of every message, stable for filtering. */
export type CachetLogEvent =
  /** Two different cached methods resolve to the same `namespace:name` and share entries. */
  | 'cachet.key-collision'
  /** A method returned a value the store cannot keep (a function, a cycle, an unregistered class). */
  | 'cachet.value-refused'
  /** An entry read from the store could not be decoded; it was treated as a miss. */
  | 'cachet.decode-failed'
  /** An event listener, `onRetry` or `onFallback` callback threw; the call it observed went on. */
  | 'cachet.listener-threw'
  /** A Redis breaker opened: operations skip that Redis (or cluster master) until a probe succeeds. */
  | 'cachet.breaker-opened'
  /** A Redis breaker closed again after a probe succeeded. */
  | 'cachet.breaker-closed'
  /** The notice channel (the pub/sub subscription) was lost: notices may be missed until it is back. */
  | 'cachet.notices-lost'
  /** The notice channel is subscribed again. */
  | 'cachet.notices-restored';

/**
 * The fields of a log message: `event` always; then, where they apply, `namespace`, `method`, `key`,
 * `store` (the store or Redis class), `node` (a cluster master), `listener`, and `err` (the error, under
 * the name pino serialises with its stack).
 */
export interface LogFields {
  readonly event: CachetLogEvent;
  readonly [field: string]: unknown;
}

/**
 * Where cachet logs. Called as `logger.warn(fields, message)`, pino's shape: `console`, a pino logger
 * and NestJS's `Logger` all fit as they are. `debug` and `info` may be left out; cachet logs only rare
 * events (a breaker opening, a refused value), never on a cache hit.
 *
 * @example
 * setLogger(pino()); // or console, or new Logger('cachet') in NestJS
 */
export interface CachetLogger {
  debug?(fields: LogFields, message: string): void;
  info?(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** How a message goes out when no logger is set: the process warning cachet emitted before loggers. */
export interface ProcessWarning {
  readonly type: string;
  readonly code?: string;
}

let current: CachetLogger | undefined;

/**
 * Sets the logger of every cachet object that was given none of its own (`new Cache({ logger })`,
 * `new RedisStore({ logger })`), and of the decorators' callbacks. Takes effect at once, also for objects
 * already made. `undefined` restores the default: the warnings cachet has always emitted go to
 * `process.emitWarning`, and the rest is not logged.
 * @throws TypeError unless `logger` is undefined or has `warn` and `error` methods.
 */
export function setLogger(logger: CachetLogger | undefined): void {
  if (logger !== undefined) assertLogger('logger', logger);
  current = logger;
}

/** The logger set with {@link setLogger}, if any. */
export function getLogger(): CachetLogger | undefined {
  return current;
}

/** Throws the standard option error unless `value` has `warn` and `error` methods (and `debug`, `info` if given). */
export function assertLogger(name: string, value: unknown): asserts value is CachetLogger {
  const ok =
    typeof value === 'object' &&
    value !== null &&
    (['warn', 'error'] as const).every((m) => typeof (value as CachetLogger)[m] === 'function') &&
    (['debug', 'info'] as const).every((m) => {
      const method = (value as CachetLogger)[m];
      return method === undefined || typeof method === 'function';
    });
  if (!ok) throw optionError(name, 'a logger with warn(fields, message) and error(fields, message) methods', value);
}

/**
 * Logs one message on `own` (the object's logger), else on the one {@link setLogger} set. With neither,
 * a message that has a `warning` becomes that process warning, as before loggers; others are dropped. A
 * logger that throws never breaks the operation that logged: its error becomes a process warning.
 */
export function logEvent(
  own: CachetLogger | undefined,
  level: LogLevel,
  fields: LogFields,
  message: string,
  warning?: ProcessWarning,
): void {
  const logger = own ?? current;
  if (logger === undefined) {
    // The same arguments as before loggers: the type alone when there is no code.
    if (warning?.code !== undefined) process.emitWarning(message, warning);
    else if (warning !== undefined) process.emitWarning(message, warning.type);
    return;
  }
  const method = logger[level];
  if (method === undefined) return;
  try {
    method.call(logger, fields, message);
  } catch (error) {
    process.emitWarning(`The cachet logger threw on '${fields.event}': ${String(error)}`, 'CachetLoggerWarning');
  }
}
