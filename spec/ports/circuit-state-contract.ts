import type { CircuitAdmission, CircuitPolicy, CircuitStateStore } from '../../lib/ports/circuit-state';
import { eventually } from '../support/async';

/** What the contract needs from each store under test. */
export interface CircuitStateFixture {
  /**
   * Two handles on one shared state, as two processes hold them: the same object for an in-process store,
   * two stores with their own connections for Redis. The contract spreads its calls over both.
   */
  readonly stores: readonly [CircuitStateStore, CircuitStateStore];
  /** Closes what the factory opened (and fails the test if a decision did not come from the store itself). Called after every test. */
  cleanup(): Promise<void>;
}

const SECOND = 1_000;

/** A policy with one trigger; the cases turn on what they test. */
function policy(overrides: Partial<CircuitPolicy> = {}): CircuitPolicy {
  return {
    threshold: 0,
    failureRate: 0,
    minimumCalls: 1,
    windowMs: 10 * SECOND,
    halfOpenAfterMs: 10 * SECOND,
    probeTimeoutMs: 60 * SECOND,
    ...overrides,
  };
}

/**
 * The enter/report semantics every {@link CircuitStateStore} shares, run once per implementation. The
 * test owns the clock: every decision gets its `now`, so a store must time circuits by the `now` it is
 * given (a Redis store with `serverTime: false`). The one exception is the probe slot, which a Redis store
 * expires on the server's clock: the case for `probeTimeout` uses a short one and waits for its outcome.
 */
export function describeCircuitStateStore(name: string, factory: () => Promise<CircuitStateFixture>): void {
  describe(`${name} (CircuitStateStore contract)`, () => {
    let fixture: CircuitStateFixture;
    let a: CircuitStateStore;
    let b: CircuitStateStore;
    let now: number;
    let circuit: string;
    let n = 0;

    beforeEach(async () => {
      fixture = await factory();
      [a, b] = fixture.stores;
      // Far from the real time: a store that read its own clock instead of `now` would decide differently.
      now = Date.UTC(2030, 0, 1);
      circuit = `openai-${n++}`;
    });
    afterEach(() => fixture.cleanup());

    const enter = (store: CircuitStateStore, rules: CircuitPolicy) => store.enter(circuit, rules, now);
    const succeed = (store: CircuitStateStore, rules: CircuitPolicy, probe?: string) =>
      store.report(circuit, rules, { failed: false, probe }, now);
    const fail = (store: CircuitStateStore, rules: CircuitPolicy, probe?: string) =>
      store.report(circuit, rules, { failed: true, probe }, now);
    /** A whole call: admitted (or the test fails), then reported; resolves the state afterwards. */
    const call = async (store: CircuitStateStore, rules: CircuitPolicy, failed: boolean) => {
      expect(await enter(store, rules)).toMatchObject({ admitted: true, state: 'closed', probe: undefined });
      return failed ? fail(store, rules) : succeed(store, rules);
    };
    /** Opens the circuit with one failure (threshold 1) and moves past halfOpenAfter; resolves the probe's admission. */
    const halfOpen = async (rules: CircuitPolicy): Promise<string> => {
      expect(await call(a, rules, true)).toBe('open');
      now += rules.halfOpenAfterMs;
      const admission = await enter(b, rules);
      expect(admission).toMatchObject({ admitted: true, state: 'half-open', probe: expect.any(String) });
      return (admission as Extract<CircuitAdmission, { admitted: true }>).probe!;
    };

    it('admits every call of a circuit it has never seen, as closed and not as a probe', async () => {
      const rules = policy({ threshold: 3 });
      expect(await enter(a, rules)).toEqual({ admitted: true, state: 'closed', probe: undefined });
      expect(await succeed(b, rules)).toBe('closed');
      expect(await enter(b, rules)).toEqual({ admitted: true, state: 'closed', probe: undefined });
    });

    it('opens after `threshold` consecutive failures from either handle and rejects for halfOpenAfter', async () => {
      const rules = policy({ threshold: 3 });
      expect(await call(a, rules, true)).toBe('closed');
      expect(await call(b, rules, true)).toBe('closed');
      expect(await call(a, rules, true)).toBe('open');
      expect(await enter(b, rules)).toEqual({ admitted: false, state: 'open', retryAfterMs: 10 * SECOND });
      now += 2_500;
      expect(await enter(a, rules)).toEqual({ admitted: false, state: 'open', retryAfterMs: 7_500 });
      now += 7_499;
      expect(await enter(b, rules)).toEqual({ admitted: false, state: 'open', retryAfterMs: 1 });
    });

    it.each([
      ['alone', policy({ threshold: 3 })],
      ['beside a failure rate', policy({ threshold: 3, failureRate: 0.9, minimumCalls: 100 })],
    ])('starts the consecutive count again after a success (threshold %s)', async (_, rules) => {
      await call(a, rules, true);
      await call(b, rules, true);
      expect(await call(a, rules, false)).toBe('closed');
      await call(b, rules, true);
      expect(await call(a, rules, true)).toBe('closed');
      expect(await call(b, rules, true)).toBe('open');
    });

    it('keeps circuits of different names apart', async () => {
      const rules = policy({ threshold: 1 });
      expect(await call(a, rules, true)).toBe('open');
      expect(await b.enter(`${circuit}-other`, rules, now)).toEqual({
        admitted: true,
        state: 'closed',
        probe: undefined,
      });
      expect(await b.report(`${circuit}-other`, rules, { failed: false, probe: undefined }, now)).toBe('closed');
      expect(await enter(b, rules)).toMatchObject({ admitted: false, state: 'open' });
    });

    it('opens on the failure rate once the window holds minimumCalls calls, not before', async () => {
      const rules = policy({ failureRate: 0.5, minimumCalls: 6 });
      // Five failures in a row: the consecutive trigger is off, and five calls are below minimumCalls.
      for (let i = 0; i < 5; i++) expect(await call(i % 2 === 0 ? a : b, rules, true)).toBe('closed');
      expect(await call(a, rules, false)).toBe('closed'); // a success never opens it, whatever the rate
      expect(await call(b, rules, true)).toBe('open'); // 6 of 7 failed
    });

    it('opens when the failure share reaches failureRate exactly, and not below it', async () => {
      const rules = policy({ failureRate: 0.5, minimumCalls: 4 });
      await call(a, rules, false);
      await call(b, rules, true);
      await call(a, rules, false);
      await call(b, rules, false);
      expect(await call(a, rules, true)).toBe('closed'); // 2 of 5
      expect(await call(b, rules, true)).toBe('open'); // 3 of 6
    });

    it('forgets calls that left the rolling window', async () => {
      const rules = policy({ failureRate: 0.5, minimumCalls: 4 });
      for (let i = 0; i < 3; i++) await call(a, rules, true);
      now += 11 * SECOND;
      for (let i = 0; i < 3; i++) await call(b, rules, false);
      // 1 of 4 in the window; with the 3 old failures it would be 4 of 7 and open.
      expect(await call(a, rules, true)).toBe('closed');
      expect(await call(b, rules, true)).toBe('closed'); // 2 of 5
      expect(await call(a, rules, true)).toBe('open'); // 3 of 6
    });

    it('admits exactly one probe after halfOpenAfter and rejects every other caller until it reports', async () => {
      const rules = policy({ threshold: 1 });
      expect(await call(a, rules, true)).toBe('open');
      now += rules.halfOpenAfterMs - 1;
      expect(await enter(b, rules)).toEqual({ admitted: false, state: 'open', retryAfterMs: 1 });
      now += 1;
      const admissions = await Promise.all(Array.from({ length: 10 }, (_, i) => enter(i % 2 === 0 ? a : b, rules)));
      const probes = admissions.filter((x) => x.admitted);
      expect(probes).toEqual([{ admitted: true, state: 'half-open', probe: expect.any(String) }]);
      for (const rejected of admissions.filter((x) => !x.admitted)) {
        expect(rejected).toMatchObject({ admitted: false, state: 'half-open' });
        // The rest of the probe's time: exact on the caller's clock, a few ms less on Redis's own.
        const { retryAfterMs } = rejected as Extract<CircuitAdmission, { admitted: false }>;
        expect(retryAfterMs).toBeLessThanOrEqual(rules.probeTimeoutMs);
        expect(retryAfterMs).toBeGreaterThan(rules.probeTimeoutMs - 5 * SECOND);
      }
    });

    it('closes the circuit when the probe succeeds, with a fresh count', async () => {
      const rules = policy({ threshold: 2 });
      await call(a, rules, true);
      expect(await call(b, rules, true)).toBe('open');
      now += rules.halfOpenAfterMs;
      const probe = (await enter(a, rules)) as Extract<CircuitAdmission, { admitted: true }>;
      expect(await succeed(a, rules, probe.probe)).toBe('closed');
      expect(await enter(b, rules)).toEqual({ admitted: true, state: 'closed', probe: undefined });
      // The failures before the circuit opened count no more: one failure is not two in a row.
      expect(await call(b, rules, true)).toBe('closed');
    });

    it('opens the circuit again for halfOpenAfter when the probe fails', async () => {
      const rules = policy({ threshold: 1 });
      const probe = await halfOpen(rules);
      now += 500;
      expect(await fail(b, rules, probe)).toBe('open');
      now += 4 * SECOND;
      expect(await enter(a, rules)).toEqual({ admitted: false, state: 'open', retryAfterMs: 6 * SECOND });
      now += 6 * SECOND;
      expect(await enter(a, rules)).toMatchObject({ admitted: true, state: 'half-open' });
    });

    it('lets another caller probe once probeTimeout has passed, and the stale probe then decides nothing', async () => {
      // Short, because a Redis store expires the probe slot on the server's clock.
      const rules = policy({ threshold: 1, probeTimeoutMs: 100 });
      const stale = await halfOpen(rules);
      now += rules.probeTimeoutMs;
      // The second probe's own timeout is long, so that its slot cannot expire while the test reports for it.
      const patient = { ...rules, probeTimeoutMs: 60 * SECOND };
      let second: CircuitAdmission | undefined;
      await eventually(async () => (second = await enter(a, patient)).admitted, 5_000, 10);
      const fresh = (second as Extract<CircuitAdmission, { admitted: true }>).probe!;
      expect(second).toMatchObject({ state: 'half-open' });
      expect(fresh).not.toBe(stale);
      // The stale probe's failure neither reopens the circuit nor takes the slot from the fresh one.
      expect(await fail(b, rules, stale)).toBe('half-open');
      expect(await enter(b, patient)).toMatchObject({ admitted: false, state: 'half-open' });
      expect(await succeed(a, rules, fresh)).toBe('closed');
      // Nor does it count once the circuit is closed.
      expect(await fail(b, rules, stale)).toBe('closed');
      expect(await enter(b, rules)).toEqual({ admitted: true, state: 'closed', probe: undefined });
    });

    it('ignores the outcomes of calls admitted before the circuit opened', async () => {
      const rules = policy({ threshold: 1 });
      const early = await enter(a, rules);
      const later = await enter(b, rules);
      expect([early.admitted, later.admitted]).toEqual([true, true]);
      expect(await call(a, rules, true)).toBe('open');
      now += 1_000;
      // A late failure does not push the open period back; a late success does not close it.
      expect(await fail(a, rules)).toBe('open');
      expect(await succeed(b, rules)).toBe('open');
      expect(await enter(a, rules)).toEqual({ admitted: false, state: 'open', retryAfterMs: 9_000 });
      now += 9_000;
      const probe = (await enter(b, rules)) as Extract<CircuitAdmission, { admitted: true }>;
      expect(probe.probe).toEqual(expect.any(String));
      // While the probe is out, only the probe decides.
      expect(await succeed(a, rules)).toBe('half-open');
      expect(await fail(a, rules)).toBe('half-open');
      expect(await succeed(b, rules, probe.probe)).toBe('closed');
    });
  });
}
