import { toRateRule } from '../../lib/rate-limit/gcra';
import type { RateLimiter } from '../../lib/ports/rate-limiter';
import { describeRateProperties } from '../rate-limit/rate-limit-properties';

/** What the contract needs from each limiter under test. */
export interface LimiterFixture {
  readonly limiter: RateLimiter;
  /** A key unique to this call. */
  key(label: string): string;
  /**
   * Lets `ms` (fractional) pass for `key`: the memory fixture moves its clock; the Redis one moves the key's
   * stored schedule back by as much, which is the same to the script.
   */
  elapse(key: string, ms: number): Promise<void>;
  /** When a decision on `key` was made on the test's timeline, in whole µs: the limiter's clock plus what `elapse` added. */
  timeUs(key: string, at: number): number;
  /** Real time that may pass unseen between two steps (0 on an injected clock); properties keep lateness clear of it. */
  readonly driftMs: number;
  /** Shortest emission interval the properties use, ms: long enough that `driftMs` is noise. */
  readonly minEmissionMs: number;
  /** Runs of each property. */
  readonly runs: number;
  /** Closes what the factory opened; called after every test. */
  cleanup(): Promise<void>;
}

// One unit per 20 minutes: nothing refills while a test runs, whatever clock the limiter reads, so the
// contract holds for the memory limiter and for Redis's server clock alike.
const HOUR = 3_600_000;
const EMISSION_MS = 1_200_000;

/**
 * The behaviour every {@link RateLimiter} shares, run once per implementation. Exact figures on a moving
 * clock are checked beside the memory limiter, whose clock a test can move.
 */
export function describeRateLimiter(name: string, factory: () => Promise<LimiterFixture>): void {
  describe(`${name} (RateLimiter contract)`, () => {
    let fixture: LimiterFixture;
    beforeEach(async () => {
      fixture = await factory();
    });
    afterEach(() => fixture.cleanup());

    it('admits the burst at once, then denies with the time until one unit has refilled', async () => {
      const rule = toRateRule(3, HOUR, 3);
      const key = fixture.key('burst');
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push(await fixture.limiter.decide(key, rule, 1));
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
      expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
      const denied = decisions[3]!;
      // Time passes between decisions (Redis's clock is real), so allow a little less than one emission.
      expect(denied.retryAfterMs).toBeLessThanOrEqual(EMISSION_MS);
      expect(denied.retryAfterMs).toBeGreaterThan(EMISSION_MS - 5_000);
      expect(denied.resetAfterMs).toBeGreaterThan(3 * EMISSION_MS - 5_000);
    });

    it('charges the cost in units and denies a cost that does not fit without charging it', async () => {
      const rule = toRateRule(5, HOUR, 5);
      const key = fixture.key('cost');
      const first = await fixture.limiter.decide(key, rule, 3);
      expect(first).toMatchObject({ allowed: true, remaining: 2 });
      const tooMuch = await fixture.limiter.decide(key, rule, 3);
      expect(tooMuch.allowed).toBe(false);
      // One more unit (720,000 ms at 5 per hour) must refill first.
      expect(tooMuch.retryAfterMs).toBeLessThanOrEqual(720_000);
      expect(tooMuch.retryAfterMs).toBeGreaterThan(720_000 - 5_000);
      // The denied request spent nothing: the two units left are still there.
      expect(await fixture.limiter.decide(key, rule, 2)).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('keeps keys apart: exhausting one key leaves another untouched', async () => {
      const rule = toRateRule(1, HOUR, 1);
      const [a, b] = [fixture.key('a'), fixture.key('b')];
      expect((await fixture.limiter.decide(a, rule, 1)).allowed).toBe(true);
      expect((await fixture.limiter.decide(a, rule, 1)).allowed).toBe(false);
      expect((await fixture.limiter.decide(b, rule, 1)).allowed).toBe(true);
    });

    it('with burst 1 admits one call and spaces the next by interval / limit', async () => {
      const rule = toRateRule(60, HOUR, 1);
      const key = fixture.key('paced');
      expect((await fixture.limiter.decide(key, rule, 1)).allowed).toBe(true);
      const next = await fixture.limiter.decide(key, rule, 1);
      expect(next.allowed).toBe(false);
      expect(next.retryAfterMs).toBeLessThanOrEqual(60_000);
      expect(next.retryAfterMs).toBeGreaterThan(55_000);
    });

    it('admits a zero cost even on an exhausted key', async () => {
      const rule = toRateRule(1, HOUR, 1);
      const key = fixture.key('free');
      await fixture.limiter.decide(key, rule, 1);
      expect((await fixture.limiter.decide(key, rule, 0)).allowed).toBe(true);
      expect((await fixture.limiter.decide(key, rule, 1)).allowed).toBe(false);
    });

    it('keeps the schedule within one emission of the clock: a late caller loses only the time beyond it, an idle key starts afresh', async () => {
      const rule = toRateRule(60, HOUR, 1); // one unit a minute
      const key = fixture.key('credit');
      expect((await fixture.limiter.decide(key, rule, 1)).allowed).toBe(true);
      // The second slot opened 59 s ago: a caller that late still takes it, and the third keeps its time,
      // 1 s from now.
      await fixture.elapse(key, 60_000 + 59_000);
      expect((await fixture.limiter.decide(key, rule, 1)).allowed).toBe(true);
      const onTime = await fixture.limiter.decide(key, rule, 1);
      expect(onTime.allowed).toBe(false);
      expect(onTime.retryAfterMs).toBeLessThanOrEqual(1_000);
      // 90 s after the third slot opened, the fourth has opened too: one is lost, the other is taken.
      await fixture.elapse(key, 1_000 + 90_000);
      expect((await fixture.limiter.decide(key, rule, 1)).allowed).toBe(true);
      await fixture.elapse(key, 0.001);
      expect((await fixture.limiter.decide(key, rule, 1)).allowed).toBe(true);
      expect((await fixture.limiter.decide(key, rule, 1)).retryAfterMs).toBeGreaterThan(55_000);
      // Two emissions behind, the key has rested: its burst, then the next a full emission later.
      await fixture.elapse(key, 60_000 + 120_000);
      expect((await fixture.limiter.decide(key, rule, 1)).allowed).toBe(true);
      const restarted = await fixture.limiter.decide(key, rule, 1);
      expect(restarted.allowed).toBe(false);
      expect(restarted.retryAfterMs).toBeGreaterThan(55_000);
    });

    it('charges an overdraft without deciding: later calls wait for it, even past the burst', async () => {
      const rule = toRateRule(10, HOUR, 10); // 6 minutes a unit
      const key = fixture.key('overdraft');
      const reserved = await fixture.limiter.decide(key, rule, 4);
      expect(reserved).toMatchObject({ allowed: true, remaining: 6 });
      // The call used 15 units, not 4: 11 more go on the schedule, 5 beyond the whole burst.
      await fixture.limiter.adjust(key, rule, 11, reserved.reservedUntil);
      const next = await fixture.limiter.decide(key, rule, 1);
      expect(next.allowed).toBe(false);
      // 15 units charged on a burst of 10: 6 units (36 minutes) must drain before one more fits.
      expect(next.retryAfterMs).toBeLessThanOrEqual(6 * 360_000);
      expect(next.retryAfterMs).toBeGreaterThan(6 * 360_000 - 5_000);
    });

    it('refunds what a call did not use, and an overdraft on a rested key starts from now', async () => {
      const rule = toRateRule(10, HOUR, 10);
      const key = fixture.key('refund');
      const reserved = await fixture.limiter.decide(key, rule, 8);
      expect((await fixture.limiter.decide(key, rule, 3)).allowed).toBe(false);
      // It used 2 of its 8: 6 come back at once.
      await fixture.limiter.adjust(key, rule, -6, reserved.reservedUntil);
      expect(await fixture.limiter.decide(key, rule, 8)).toMatchObject({ allowed: true, remaining: 0 });
      const rested = fixture.key('rested');
      await fixture.limiter.adjust(rested, rule, 3);
      expect(await fixture.limiter.decide(rested, rule, 7)).toMatchObject({ allowed: true, remaining: 0 });
      expect((await fixture.limiter.decide(rested, rule, 1)).allowed).toBe(false);
    });

    it('never refunds beyond the rested state, nor anything on a rested key', async () => {
      const rule = toRateRule(10, HOUR, 10);
      const key = fixture.key('floor');
      const reserved = await fixture.limiter.decide(key, rule, 5);
      // A refund larger than anything charged gives back the 5 units and no more: the burst, not 15.
      await fixture.limiter.adjust(key, rule, -10, reserved.reservedUntil);
      await fixture.limiter.adjust(key, rule, -10);
      expect(await fixture.limiter.decide(key, rule, 10)).toMatchObject({ allowed: true, remaining: 0 });
      expect((await fixture.limiter.decide(key, rule, 1)).allowed).toBe(false);
      const untouched = fixture.key('untouched');
      await fixture.limiter.adjust(untouched, rule, -5);
      expect(await fixture.limiter.decide(untouched, rule, 10)).toMatchObject({ allowed: true, remaining: 0 });
      expect((await fixture.limiter.decide(untouched, rule, 1)).allowed).toBe(false);
    });

    it('refunds only the part of a reservation still ahead of the clock: elapsed time was offered to others already', async () => {
      const rule = toRateRule(60, HOUR, 10); // one unit a minute
      const key = fixture.key('elapsed');
      const reserved = await fixture.limiter.decide(key, rule, 10);
      const untilUs = fixture.timeUs(key, reserved.reservedUntil);
      // Nine minutes later nine units have drained, and another call takes them.
      await fixture.elapse(key, 9 * 60_000);
      expect((await fixture.limiter.decide(key, rule, 9)).allowed).toBe(true);
      // The first call used nothing, but only its last minute still lies ahead: one unit comes back, not ten.
      // (On the limiter's clock as it reads now: the Redis fixture moves the schedule, not the clock.)
      await fixture.limiter.adjust(key, rule, -10, (untilUs - fixture.timeUs(key, 0)) / 1_000);
      expect((await fixture.limiter.decide(key, rule, 1)).allowed).toBe(true);
      expect((await fixture.limiter.decide(key, rule, 1)).allowed).toBe(false);
    });

    describeRateProperties(() => fixture);

    it('reports the time of each decision on its clock', async () => {
      const first = await fixture.limiter.decide(fixture.key('at'), toRateRule(10, HOUR, 10), 1);
      const second = await fixture.limiter.decide(fixture.key('at'), toRateRule(10, HOUR, 10), 1);
      expect(Number.isFinite(first.at)).toBe(true);
      expect(second.at).toBeGreaterThanOrEqual(first.at);
    });
  });
}
