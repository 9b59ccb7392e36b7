import type { EndpointHealthStore, HealthPolicy, SharedEndpointView } from '../../lib/ports/endpoint-health';
import { eventually } from '../support/async';

/** What the contract needs from each store under test. */
export interface EndpointHealthFixture {
  /**
   * Two handles on one shared health, as two instances hold them: one object for an in-process store,
   * two stores with their own connections for Redis. The contract spreads its calls over both.
   */
  readonly stores: readonly [EndpointHealthStore, EndpointHealthStore];
  /** Ends `endpoint`'s cooldown now, as the passing of its time would. */
  endCooldown(endpoint: string): Promise<void>;
  /** Runs out the lease of `endpoint`'s probe, as the passing of its time would. */
  expireLease(endpoint: string): Promise<void>;
  /** Moves `endpoint`'s recorded failures `ms` into the past. */
  ageFailures(endpoint: string, ms: number): Promise<void>;
  cleanup(): Promise<void>;
}

const policy = (overrides: Partial<HealthPolicy> = {}): HealthPolicy => ({
  threshold: 3,
  windowFailures: 0,
  windowMs: 0,
  cooldownMs: 10_000,
  probeLeaseMs: 5_000,
  ...overrides,
});

/** The semantics every {@link EndpointHealthStore} shares, run once per implementation. */
export function describeEndpointHealthStore(name: string, factory: () => Promise<EndpointHealthFixture>): void {
  describe(`${name} (EndpointHealthStore contract)`, () => {
    let fixture: EndpointHealthFixture;
    let a: EndpointHealthStore;
    let b: EndpointHealthStore;
    let endpoint: string;
    let n = 0;

    beforeEach(async () => {
      fixture = await factory();
      [a, b] = fixture.stores;
      endpoint = `openai-${n++}`;
    });
    afterEach(() => fixture.cleanup());

    const fail = (store: EndpointHealthStore, rules: HealthPolicy, retryAfterMs?: number, probe?: string) =>
      store.failed(endpoint, rules, {
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        ...(probe ? { probe } : {}),
      });
    const stateOf = async (store: EndpointHealthStore, rules: HealthPolicy) =>
      (await store.read(endpoint, rules)).state;
    const claim = async (store: EndpointHealthStore, rules: HealthPolicy): Promise<string> => {
      const result = await store.claimProbe(endpoint, rules);
      if (!result.claimed) throw new Error(`the probe was not claimed: ${JSON.stringify(result.view)}`);
      return result.token;
    };

    it('sets an endpoint aside after `threshold` failures in a row from any instance; a success ends the run', async () => {
      const rules = policy();
      expect((await fail(a, rules)).forMs).toBe(0);
      expect((await fail(b, rules)).view).toMatchObject({ state: 'healthy', failing: 2 });
      expect(await b.succeeded(endpoint, rules, undefined)).toBe(false);
      expect((await a.read(endpoint, rules)).failing).toBe(0);
      await fail(a, rules);
      await fail(b, rules);
      const outcome = await fail(a, rules);
      expect(outcome.forMs).toBe(10_000);
      expect(outcome.view.state).toBe('cooling');
      expect(outcome.view.remainingMs).toBeGreaterThan(9_000);
      expect(outcome.view.remainingMs).toBeLessThanOrEqual(10_000);
      expect(await stateOf(b, rules)).toBe('cooling');
    });

    it('sets it aside after `windowFailures` within the window, whatever succeeded between; older failures do not count', async () => {
      const rules = policy({ threshold: 100, windowFailures: 3, windowMs: 60_000 });
      await fail(a, rules);
      await fail(b, rules);
      await fixture.ageFailures(endpoint, 61_000);
      await a.succeeded(endpoint, rules, undefined);
      expect((await fail(a, rules)).forMs).toBe(0); // the first two are out of the window
      await b.succeeded(endpoint, rules, undefined);
      expect((await fail(b, rules)).forMs).toBe(0);
      expect((await fail(a, rules)).forMs).toBe(10_000);
      expect(await stateOf(b, rules)).toBe('cooling');
    });

    it('sets it aside at once for exactly a Retry-After; no probe is given meanwhile, and a late success does not end it', async () => {
      const rules = policy();
      const outcome = await fail(a, rules, 2_500);
      expect(outcome.forMs).toBe(2_500);
      expect(outcome.view.remainingMs).toBeGreaterThan(2_000);
      expect(outcome.view.remainingMs).toBeLessThanOrEqual(2_500);
      const refused = await b.claimProbe(endpoint, rules);
      expect(refused).toMatchObject({ claimed: false, view: { state: 'cooling' } });
      expect(await b.succeeded(endpoint, rules, undefined)).toBe(false);
      // Late news from before the cooldown: only a longer Retry-After moves its end.
      expect((await fail(b, rules)).forMs).toBe(0);
      const extended = await fail(b, rules, 8_000);
      expect(extended.forMs).toBe(0);
      expect(extended.view.remainingMs).toBeGreaterThan(7_000);
      expect(await stateOf(a, rules)).toBe('cooling');
    });

    it('gives exactly one probe lease across instances; its success brings the endpoint back for all', async () => {
      const rules = policy();
      await fail(a, rules, 1_000);
      await fixture.endCooldown(endpoint);
      expect(await stateOf(b, rules)).toBe('probing');
      const token = await claim(b, rules);
      const refused = await a.claimProbe(endpoint, rules);
      expect(refused).toMatchObject({ claimed: false, view: { state: 'probing', prober: b.instance } });
      if (refused.claimed) return;
      expect(refused.view.remainingMs).toBeGreaterThan(0);
      expect(refused.view.remainingMs).toBeLessThanOrEqual(5_000);
      expect(await a.succeeded(endpoint, rules, 'not-the-token')).toBe(false);
      expect(await b.succeeded(endpoint, rules, token)).toBe(true);
      expect(await a.read(endpoint, rules)).toEqual({
        state: 'healthy',
        remainingMs: 0,
        prober: undefined,
        failing: 0,
      });
    });

    it('sets it aside again when the probe fails; an abandoned or expired lease lets another instance probe', async () => {
      const rules = policy();
      await fail(a, rules, 1_000);
      await fixture.endCooldown(endpoint);
      const first = await claim(a, rules);
      const again = await fail(a, rules, undefined, first);
      expect(again.forMs).toBe(10_000);
      expect(again.view.state).toBe('cooling');
      await fixture.endCooldown(endpoint);
      const second = await claim(a, rules);
      await a.abandoned(endpoint, rules, second);
      const third = await claim(b, rules);
      await fixture.expireLease(endpoint);
      const fourth = await claim(a, rules);
      // The expired probe's report no longer decides anything.
      expect(await b.succeeded(endpoint, rules, third)).toBe(false);
      expect(await stateOf(a, rules)).toBe('probing');
      expect(await a.succeeded(endpoint, rules, fourth)).toBe(true);
    });

    it('tells every watcher of each change, by any instance, and of the current view when watching starts', async () => {
      const rules = policy();
      await fail(a, rules, 3_000);
      const seen: SharedEndpointView[] = [];
      const stop = await b.watch(
        [endpoint, 'other'],
        () => rules,
        (name, view) => {
          if (name === endpoint) seen.push(view);
        },
      );
      try {
        await eventually(() => seen.some((v) => v.state === 'cooling'));
        await fixture.endCooldown(endpoint);
        const token = await claim(a, rules);
        await eventually(() => seen.some((v) => v.state === 'probing' && v.prober === a.instance));
        await a.succeeded(endpoint, rules, token);
        await eventually(() => seen.at(-1)?.state === 'healthy');
      } finally {
        stop();
      }
    });
  });
}
