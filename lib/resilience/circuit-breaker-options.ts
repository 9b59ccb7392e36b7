import { systemClock, type Clock } from '../core/clock';
import { parseDuration, type Duration } from '../core/duration';
import {
  assertFunction,
  assertKeyPart,
  assertKnownOptions,
  assertPlainObject,
  assertPositiveInteger,
  optionError,
  withDefaults,
} from '../core/validate';
import { MemoryCircuitState } from './memory-circuit-state';
import { type CircuitPolicy, type CircuitStateStore } from '../ports/circuit-state';
import { namedCircuitStore } from '../resources/named-resources';

/**
 * Options of a {@link Circuit} and of `@CircuitBreaker`. The circuit opens when EITHER trigger fires:
 * `threshold` consecutive failures, or a `failureRate` over the last `window` once `minimumCalls` were
 * seen there.
 */
export interface CircuitBreakerOptions {
  /**
   * Identifies the circuit. Circuits with the same name on one shared {@link CircuitStateStore} (a
   * `RedisCircuitState`) are one circuit. Non-empty, at most 200 characters, no whitespace.
   * @default 'default' for a `Circuit`; `Class.method` for `@CircuitBreaker(options)`
   */
  readonly name?: string;
  /**
   * Consecutive failures that open the circuit; a success resets the count. Positive integer.
   * @default 5, or off when only `failureRate` is given
   */
  readonly threshold?: number;
  /**
   * Share of failed calls in the last `window` that opens the circuit, in (0, 1]. Off unless given.
   * @default undefined (off)
   */
  readonly failureRate?: number;
  /**
   * Calls the last `window` must hold before `failureRate` may open the circuit, so that one failure
   * out of one call does not count as 100 %. Positive integer.
   * @default 10
   */
  readonly minimumCalls?: number;
  /**
   * Span of the rolling window for `failureRate`, kept as 10 buckets of a tenth each (so the window
   * moves on in steps of `window / 10`). At least 10 ms.
   * @default '1m'
   */
  readonly window?: Duration;
  /**
   * How long the circuit stays open before one probe call may test the service.
   * @default '30s'
   */
  readonly halfOpenAfter?: Duration;
  /**
   * Longest a probe may hold the half-open slot. A probe that never reports (its process crashed) frees
   * the slot for another probe after this. Should exceed the slowest legitimate call.
   * @default '1m'
   */
  readonly probeTimeout?: Duration;
  /**
   * Decides which errors count as failures. Other errors propagate unchanged and count as successes:
   * the service answered (a 400 for a bad prompt says nothing about the provider's health).
   * @default every error counts
   */
  readonly on?: (error: unknown) => boolean;
  /**
   * Where the circuit's state lives. Give a `RedisCircuitState` to share one circuit between processes, or
   * the name of a store registered with `registerResource('circuitStore', name, store)` (looked up at each call).
   * @default a private in-memory store
   */
  readonly store?: CircuitStateStore | string;
  /** Time source. @default Date.now */
  readonly clock?: Clock;
}

/** Options after validation, with durations in milliseconds. */
export interface ResolvedCircuitOptions {
  readonly name: string | undefined;
  readonly policy: CircuitPolicy;
  readonly on: (error: unknown) => boolean;
  readonly store: CircuitStateStore | undefined;
  readonly clock: Clock;
}

const DEFAULTS = {
  minimumCalls: 10,
  window: '1m',
  halfOpenAfter: '30s',
  probeTimeout: '1m',
  on: () => true,
  clock: systemClock,
} as const satisfies Partial<CircuitBreakerOptions>;

/** `threshold` when neither trigger is given. Kept apart from DEFAULTS: giving `failureRate` turns it off. */
const DEFAULT_THRESHOLD = 5;

const KNOWN = ['name', 'threshold', 'failureRate', 'store', ...Object.keys(DEFAULTS)] as const;

/**
 * Validates options once (at construction, or when a decorated class is defined); throws a `TypeError`
 * in the standard format on the first bad option.
 *
 * @example
 * resolveCircuitOptions({ threshold: 0 }) // TypeError: Expected `threshold` to be a positive integer, got `0` (number)
 */
export function resolveCircuitOptions(options: CircuitBreakerOptions): ResolvedCircuitOptions {
  assertPlainObject('options', options);
  assertKnownOptions('CircuitBreaker', options, KNOWN);
  const o = withDefaults(DEFAULTS, options);
  if (o.name !== undefined) assertKeyPart('name', o.name);
  const threshold = o.threshold ?? (o.failureRate === undefined ? DEFAULT_THRESHOLD : 0);
  if (o.threshold !== undefined) assertPositiveInteger('threshold', o.threshold);
  if (o.failureRate !== undefined && !(typeof o.failureRate === 'number' && o.failureRate > 0 && o.failureRate <= 1)) {
    throw optionError('failureRate', 'a number in (0, 1]', o.failureRate);
  }
  assertPositiveInteger('minimumCalls', o.minimumCalls);
  const windowMs = parseDuration('window', o.window);
  if (windowMs < 10) throw optionError('window', 'a duration of at least 10 ms', o.window);
  const halfOpenAfterMs = parseDuration('halfOpenAfter', o.halfOpenAfter);
  const probeTimeoutMs = parseDuration('probeTimeout', o.probeTimeout);
  assertPositiveInteger('probeTimeout', probeTimeoutMs);
  assertFunction('on', o.on);
  const store = typeof o.store === 'string' ? namedCircuitStore(o.store) : o.store;
  if (store !== undefined && !isStateStore(store)) {
    throw optionError('store', 'a CircuitStateStore (MemoryCircuitState or RedisCircuitState)', o.store);
  }
  if (typeof o.clock?.now !== 'function') throw optionError('clock', 'an object with a now() method', o.clock);
  return {
    name: o.name,
    policy: {
      threshold,
      failureRate: o.failureRate ?? 0,
      minimumCalls: o.minimumCalls,
      windowMs,
      halfOpenAfterMs,
      probeTimeoutMs,
    },
    on: o.on,
    store,
    clock: o.clock,
  };
}

function isStateStore(value: unknown): value is CircuitStateStore {
  if (value instanceof MemoryCircuitState) return true;
  const candidate = value as Partial<CircuitStateStore> | null;
  return typeof candidate?.enter === 'function' && typeof candidate.report === 'function';
}
