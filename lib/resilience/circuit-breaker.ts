import type { Clock } from '../core/clock';
import { Emitter } from '../core/events';
import type { AsyncMethod } from '../decorate/method-decorator';
import { createMethodDecorator, type UniversalMethodDecorator } from '../decorate/method-decorator';
import { resolveCircuitOptions, type CircuitBreakerOptions } from './circuit-breaker-options';
import { CircuitOpenError } from './circuit-open-error';
import { MemoryCircuitState } from './memory-circuit-state';
import { type CircuitPolicy, type CircuitStateName, type CircuitStateStore } from '../ports/circuit-state';

/** Payload of every {@link Circuit} event. */
export interface CircuitEvent {
  /** The circuit's name. */
  readonly circuit: string;
  /** The state this circuit instance saw before. */
  readonly previous: CircuitStateName;
}

/** Events of a {@link Circuit}, each emitted when this instance observes the change. */
export interface CircuitEvents {
  open: (event: CircuitEvent) => void;
  close: (event: CircuitEvent) => void;
  halfOpen: (event: CircuitEvent) => void;
}

const EVENT_OF = { open: 'open', closed: 'close', 'half-open': 'halfOpen' } as const satisfies Record<
  CircuitStateName,
  keyof CircuitEvents
>;

/**
 * A circuit breaker: after `threshold` consecutive failures, or a `failureRate` over a rolling `window`,
 * it rejects calls with {@link CircuitOpenError} for `halfOpenAfter`; then exactly one probe call goes
 * through (concurrent calls are still rejected). The probe's success closes the circuit, its failure
 * opens it again. Errors always reach the caller unchanged.
 *
 * One instance can guard several methods (give it to `@CircuitBreaker(circuit)`), and its `state` and
 * events can be watched. With a `RedisCircuitState` as `store`, every process sees one circuit and only
 * one process probes; `state` and events then reflect what this instance last observed.
 *
 * @example
 * const openai = new Circuit({ name: 'openai', threshold: 5, halfOpenAfter: '30s' });
 * openai.on('open', () => metrics.increment('openai.circuit.open'));
 * const answer = await openai.execute(() => client.complete(prompt));
 */
export class Circuit {
  /** The circuit's name; the key of its shared state. */
  readonly name: string;
  readonly #events = new Emitter<CircuitEvents>();
  readonly #policy: CircuitPolicy;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #store: CircuitStateStore;
  readonly #clock: Clock;
  #state: CircuitStateName = 'closed';

  /** @throws TypeError on an invalid option. */
  constructor(options: CircuitBreakerOptions = {}) {
    const resolved = resolveCircuitOptions(options);
    this.name = resolved.name ?? 'default';
    this.#policy = resolved.policy;
    this.#isFailure = resolved.on;
    this.#store = resolved.store ?? new MemoryCircuitState();
    this.#clock = resolved.clock;
  }

  /**
   * The state this instance last observed. An open circuit becomes `half-open` only when a call takes
   * the probe, so it reads `open` after `halfOpenAfter` until the next call.
   */
  get state(): CircuitStateName {
    return this.#state;
  }

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof CircuitEvents>(event: E, listener: CircuitEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Runs `fn` through the circuit. Rejects with {@link CircuitOpenError} without calling `fn` while the
   * circuit is open; otherwise settles exactly as `fn` did.
   */
  async execute<T>(fn: () => Promise<T>): Promise<T> {
    const admission = await this.#store.enter(this.name, this.#policy, this.#clock.now());
    this.#observe(admission.state);
    if (!admission.admitted) {
      throw new CircuitOpenError(
        this.name,
        admission.retryAfterMs,
        admission.state === 'closed' ? 'open' : admission.state,
      );
    }
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      await this.#report(this.#counts(error), admission.probe);
      throw error;
    }
    await this.#report(false, admission.probe);
    return result;
  }

  #counts(error: unknown): boolean {
    try {
      return this.#isFailure(error) === true;
    } catch {
      // A predicate that throws must not replace the caller's error; count the call as a failure.
      return true;
    }
  }

  async #report(failed: boolean, probe: string | undefined): Promise<void> {
    this.#observe(await this.#store.report(this.name, this.#policy, { failed, probe }, this.#clock.now()));
  }

  #observe(state: CircuitStateName): void {
    const previous = this.#state;
    if (state === previous) return;
    this.#state = state;
    this.#events.emit(EVENT_OF[state], { circuit: this.name, previous });
  }
}

/**
 * Wraps `fn` in a circuit breaker; `this` and the arguments pass through. Give a {@link Circuit} to
 * share one circuit between several functions, or options to make a private one (named after `fn`).
 *
 * @example
 * const complete = circuitBreaker((prompt: string) => provider.complete(prompt), { threshold: 3 });
 */
export function circuitBreaker<F extends AsyncMethod>(fn: F, options?: CircuitBreakerOptions): F;
export function circuitBreaker<F extends AsyncMethod>(fn: F, circuit: Circuit): F;
// Overloads rather than a union: `Circuit` has an `on` method, which would spoil the inferred type of the
// `on` option's parameter.
export function circuitBreaker<F extends AsyncMethod>(fn: F, circuit: Circuit | CircuitBreakerOptions = {}): F {
  const breaker =
    circuit instanceof Circuit ? circuit : new Circuit({ ...circuit, name: circuit.name ?? (fn.name || 'default') });
  return function (this: unknown, ...args: unknown[]) {
    return breaker.execute(() => fn.apply(this, args));
  } as F;
}

/**
 * Guards an async method with a circuit breaker, in both decorator dialects. With options, each decorated
 * method gets one circuit (shared by all instances of the class, named `Class.method` unless `name` is
 * given); with a {@link Circuit}, every method decorated with it shares that circuit. Invalid options throw
 * a `TypeError` when the class is defined.
 *
 * @example
 * const provider = new Circuit({ name: 'openai', failureRate: 0.5, minimumCalls: 20, window: '1m' });
 * class Assistant {
 *   @CircuitBreaker(provider) async answer(q: string): Promise<string> { ... }
 *   @CircuitBreaker(provider) async summarize(text: string): Promise<string> { ... }
 *   @CircuitBreaker({ threshold: 3 }) async embed(text: string): Promise<number[]> { ... }
 * }
 */
export function CircuitBreaker(options?: CircuitBreakerOptions): UniversalMethodDecorator<AsyncMethod>;
export function CircuitBreaker(circuit: Circuit): UniversalMethodDecorator<AsyncMethod>;
export function CircuitBreaker(circuit: Circuit | CircuitBreakerOptions = {}): UniversalMethodDecorator<AsyncMethod> {
  const shared = circuit instanceof Circuit ? circuit : undefined;
  const options = shared === undefined ? (circuit as CircuitBreakerOptions) : undefined;
  if (options !== undefined) resolveCircuitOptions(options);
  const recorded = shared !== undefined ? { circuit: shared.name } : (options as Record<string, unknown>);
  return createMethodDecorator<AsyncMethod>('circuitBreaker', recorded, (original, site) => {
    // Built at the first call: standard decorators learn the class name (`Class.method`) only from `this`.
    let breaker = shared;
    return function (this: unknown, ...args: unknown[]): Promise<unknown> {
      breaker ??= new Circuit({ ...options, name: options?.name ?? site.qualifiedName(this) });
      return breaker.execute(() => original.apply(this, args));
    };
  });
}
