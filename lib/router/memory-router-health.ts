import { systemClock, type Clock } from '../core/clock';
import { Emitter } from '../core/events';
import { assertKeyPart, assertKnownOptions, optionError, withDefaults } from '../core/validate';
import type {
  EndpointHealthStore,
  FailureOutcome,
  HealthFailure,
  HealthPolicy,
  ProbeClaim,
  SharedEndpointView,
} from '../ports/endpoint-health';
import { EndpointHealth } from './endpoint-health';

/** Options of {@link MemoryRouterHealth}. */
export interface MemoryRouterHealthOptions {
  /** Names this process in `health()`'s `prober`. @default 'local' */
  readonly instance?: string;
  /** Time source. @default Date.now */
  readonly clock?: Clock;
}

/** One endpoint's health and the lease of its probe. */
interface Slot {
  readonly health: EndpointHealth;
  token: string | undefined;
  leaseUntil: number;
}

interface ChangeEvents {
  change: (change: { readonly endpoint: string; readonly view: SharedEndpointView }) => void;
}

/**
 * An {@link EndpointHealthStore} in this process: routers that share it share their endpoints' health as
 * routers on several hosts share a `RedisRouterHealth`, with the same rules (one probe lease at a time, a
 * lease that frees after `probeLeaseMs`). A router without a `health` store keeps the same rules alone.
 */
export class MemoryRouterHealth implements EndpointHealthStore {
  readonly instance: string;
  readonly #clock: Clock;
  readonly #slots = new Map<string, Slot>();
  readonly #events = new Emitter<ChangeEvents>();
  #tokens = 0;

  constructor(options: MemoryRouterHealthOptions = {}) {
    assertKnownOptions('MemoryRouterHealth', options, ['instance', 'clock']);
    const o = withDefaults({ instance: 'local', clock: systemClock }, options);
    assertKeyPart('instance', o.instance);
    if (typeof o.clock?.now !== 'function') throw optionError('clock', 'an object with a now() method', o.clock);
    this.instance = o.instance;
    this.#clock = o.clock;
  }

  async claimProbe(endpoint: string, policy: HealthPolicy): Promise<ProbeClaim> {
    const now = this.#clock.now();
    const slot = this.#slot(endpoint, policy, now);
    const admission = slot.health.admit(now);
    if (admission !== 'probe') return { claimed: false, view: this.#view(slot, now) };
    const token = `${this.instance}/${++this.#tokens}`;
    slot.token = token;
    slot.leaseUntil = now + policy.probeLeaseMs;
    this.#changed(endpoint, slot, now);
    return { claimed: true, token };
  }

  async failed(endpoint: string, policy: HealthPolicy, failure: HealthFailure): Promise<FailureOutcome> {
    const now = this.#clock.now();
    const slot = this.#slot(endpoint, policy, now);
    const probe = failure.probe !== undefined && failure.probe === slot.token;
    if (probe) slot.token = undefined;
    const forMs = slot.health.failed(now, failure.retryAfterMs, probe);
    const view = this.#changed(endpoint, slot, now);
    return { forMs, view };
  }

  async succeeded(endpoint: string, policy: HealthPolicy, probe: string | undefined): Promise<boolean> {
    const now = this.#clock.now();
    const slot = this.#slot(endpoint, policy, now);
    const isProbe = probe !== undefined && probe === slot.token;
    const failing = slot.health.failures > 0;
    if (isProbe) slot.token = undefined;
    const recovered = slot.health.succeeded(0, isProbe);
    if (recovered || failing) this.#changed(endpoint, slot, now);
    return recovered;
  }

  async abandoned(endpoint: string, policy: HealthPolicy, probe: string): Promise<void> {
    const now = this.#clock.now();
    const slot = this.#slot(endpoint, policy, now);
    if (slot.token !== probe) return;
    slot.token = undefined;
    slot.health.abandoned();
    this.#changed(endpoint, slot, now);
  }

  async read(endpoint: string, policy: HealthPolicy): Promise<SharedEndpointView> {
    const now = this.#clock.now();
    return this.#view(this.#slot(endpoint, policy, now), now);
  }

  async watch(
    endpoints: readonly string[],
    policy: (endpoint: string) => HealthPolicy,
    listener: (endpoint: string, view: SharedEndpointView) => void,
  ): Promise<() => void> {
    const watched = new Set(endpoints);
    const stop = this.#events.on('change', ({ endpoint, view }) => {
      if (watched.has(endpoint)) listener(endpoint, view);
    });
    for (const endpoint of endpoints) listener(endpoint, await this.read(endpoint, policy(endpoint)));
    return stop;
  }

  /** The endpoint's slot; a probe whose lease ran out no longer holds it. */
  #slot(endpoint: string, policy: HealthPolicy, now: number): Slot {
    let slot = this.#slots.get(endpoint);
    if (slot === undefined) {
      const window = { failures: policy.windowFailures, ms: policy.windowMs };
      slot = {
        health: new EndpointHealth(policy.threshold, policy.cooldownMs, window),
        token: undefined,
        leaseUntil: 0,
      };
      this.#slots.set(endpoint, slot);
    }
    if (slot.token !== undefined && now >= slot.leaseUntil) {
      slot.token = undefined;
      slot.health.abandoned();
    }
    return slot;
  }

  #view(slot: Slot, now: number): SharedEndpointView {
    const state = slot.health.state(now);
    const failing = slot.health.failures;
    if (state === 'cooling') return { state, remainingMs: slot.health.until - now, prober: undefined, failing };
    if (state === 'probing' && slot.token !== undefined) {
      return {
        state,
        remainingMs: slot.leaseUntil - now,
        prober: slot.token.slice(0, slot.token.lastIndexOf('/')),
        failing,
      };
    }
    return { state, remainingMs: 0, prober: undefined, failing };
  }

  #changed(endpoint: string, slot: Slot, now: number): SharedEndpointView {
    const view = this.#view(slot, now);
    this.#events.emit('change', { endpoint, view });
    return view;
  }
}
