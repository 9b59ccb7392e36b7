import { assertKnownOptions, assertOptionalFunction, assertPlainObject, optionError } from '../core/validate';
import { createMethodDecorator, type UniversalMethodDecorator } from '../decorate/method-decorator';
import { LocalSemaphore } from './local-semaphore';
import type { QueueOptions } from './queue-options';
import type { Semaphore } from '../ports/semaphore';
import { namedSemaphore } from '../resources/named-resources';

type AsyncFunction = (this: any, ...args: any[]) => Promise<any>;

/**
 * Options of {@link limitConcurrency} and {@link Concurrency}. Give `max` (an in-process
 * {@link LocalSemaphore} is made with `max`, `maxQueue` and `queueTimeout`) or `semaphore` (for
 * example a `RedisSemaphore` shared by every process; it carries its own queue options).
 *
 * @example
 * { max: 4, maxQueue: 100, queueTimeout: '30s', key: (req: Request) => req.model }
 * { semaphore: new RedisSemaphore({ client, name: 'gpu', max: 2 }) }
 */
export interface ConcurrencyOptions extends QueueOptions {
  /**
   * Caps calls per key instead of overall, e.g. `(prompt) => prompt.model`: each key has `max` slots
   * and its own queue. Called with the method's `this`.
   * @default one cap for every call
   */
  readonly key?: (this: any, ...args: any[]) => string;
  /** Picks an `AbortSignal` from the arguments; aborting it takes the caller out of the queue. @default none */
  readonly signal?: (this: any, ...args: any[]) => AbortSignal | undefined;
  /**
   * A semaphore to use instead of a new {@link LocalSemaphore}; then `max`, `maxQueue`, `queueTimeout` are not
   * allowed. A string names a semaphore registered with `registerResource('semaphore', name, semaphore)`,
   * looked up at each call.
   */
  readonly semaphore?: Semaphore | string;
}

/** What {@link limitConcurrency} adds to the function it returns. @example limited.inFlight // 3 */
export interface ConcurrencyLimited {
  /** The semaphore that holds the slots. */
  readonly semaphore: Semaphore;
  /** Calls running now (all keys). */
  readonly inFlight: number;
  /** Calls waiting for a slot now (all keys). */
  readonly queued: number;
}

const KNOWN = ['max', 'maxQueue', 'queueTimeout', 'key', 'signal', 'semaphore'] as const;
const limited = new WeakMap<object, Semaphore>();

/** Validates options and makes the semaphore, once, at decoration or wrapping time. */
function resolveConcurrencyOptions(options: ConcurrencyOptions): Semaphore {
  assertPlainObject('options', options);
  assertKnownOptions('@Concurrency', options, KNOWN);
  assertOptionalFunction('key', options.key);
  assertOptionalFunction('signal', options.signal);
  const { max, maxQueue, queueTimeout } = options;
  const semaphore = typeof options.semaphore === 'string' ? namedSemaphore(options.semaphore) : options.semaphore;
  if (semaphore === undefined) return new LocalSemaphore({ max, maxQueue, queueTimeout });
  if (typeof semaphore !== 'object' || semaphore === null || typeof semaphore.acquire !== 'function') {
    throw optionError('semaphore', 'a Semaphore (an object with acquire())', semaphore);
  }
  for (const [name, value] of Object.entries({ max, maxQueue, queueTimeout })) {
    // The semaphore owns its limits; two sources of truth would silently disagree.
    if (value !== undefined) throw optionError(name, 'undefined when `semaphore` is given', value);
  }
  return semaphore;
}

/**
 * Wraps an async function so that at most `max` calls run at once (per key); the rest wait in a FIFO
 * queue bounded by `maxQueue` and `queueTimeout`. The slot is released exactly once when the call
 * settles, whether it resolved or threw.
 *
 * @example
 * const complete = limitConcurrency((prompt: string) => openai.complete(prompt), { max: 4, queueTimeout: '30s' });
 * await complete('hello'); complete.inFlight; // 0
 */
export function limitConcurrency<F extends AsyncFunction>(fn: F, options: ConcurrencyOptions): F & ConcurrencyLimited {
  if (typeof fn !== 'function') throw optionError('fn', 'a function', fn);
  const semaphore = resolveConcurrencyOptions(options);
  const { key, signal } = options;
  const wrapped = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const permit = await semaphore.acquire({
      key: key === undefined ? undefined : checkedKey(key.apply(this, args)),
      signal: signal?.apply(this, args),
    });
    try {
      return await fn.apply(this, args);
    } finally {
      void permit.release();
    }
  };
  limited.set(wrapped, semaphore);
  Object.defineProperties(wrapped, {
    semaphore: { value: semaphore },
    inFlight: { get: () => semaphore.inFlight },
    queued: { get: () => semaphore.queued },
  });
  return wrapped as unknown as F & ConcurrencyLimited;
}

function checkedKey(value: unknown): string {
  if (typeof value !== 'string') throw optionError('key(...)', 'a string', value);
  return value;
}

/**
 * Caps how many calls of an async method run at once, over every instance of the class (use `key` with
 * an instance id for a per-instance cap). A thin adapter over {@link limitConcurrency}; invalid options
 * throw a `TypeError` when the class is defined. Inspect it with {@link concurrencyOf}.
 *
 * @example
 * class ModelClient {
 *   @Concurrency({ max: 4, maxQueue: 100, queueTimeout: '30s', key: (req: Request) => req.model })
 *   async complete(req: Request): Promise<string> { ... }
 * }
 */
export function Concurrency(options: ConcurrencyOptions): UniversalMethodDecorator<AsyncFunction> {
  // Validate now, when the class is defined; each decorated method then gets its own semaphore.
  resolveConcurrencyOptions(options);
  return createMethodDecorator<AsyncFunction>('concurrency', options as Record<string, unknown>, (original) =>
    limitConcurrency(original, options),
  );
}

/**
 * The semaphore behind a function made by {@link limitConcurrency} or a method decorated with
 * {@link Concurrency} (`concurrencyOf(Client.prototype.complete)?.inFlight`), or `undefined`.
 */
export function concurrencyOf(fn: unknown): Semaphore | undefined {
  return typeof fn === 'function' ? limited.get(fn) : undefined;
}
