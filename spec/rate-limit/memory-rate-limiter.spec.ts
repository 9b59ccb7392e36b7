import { toRateRule } from '../../lib/rate-limit/gcra';
import { MemoryRateLimiter } from '../../lib/rate-limit/memory-rate-limiter';
import { manualClock } from '../ports/cache-store-contract';
import { describeRateLimiter } from '../ports/rate-limiter-contract';
import { busiestWindow, type Admission } from './windows';

describeRateLimiter('MemoryRateLimiter', async () => {
  const clock = manualClock();
  const limiter = new MemoryRateLimiter({ clock });
  let n = 0;
  return {
    limiter,
    key: (label) => `${label}-${n++}`,
    elapse: async (_key, ms) => clock.advance(ms),
    timeUs: (_key, at) => Math.round(at * 1_000),
    driftMs: 0,
    minEmissionMs: 0.005,
    runs: 200,
    cleanup: () => limiter.close(),
  };
});

describe('MemoryRateLimiter on a manual clock', () => {
  it('admits the burst at once, then exactly one call per interval / limit', () => {
    const clock = manualClock();
    const limiter = new MemoryRateLimiter({ clock });
    const rule = toRateRule(10, 1_000, 5);
    const admitted = (): boolean => limiter.decideNow('k', rule, 1).allowed;
    expect([admitted(), admitted(), admitted(), admitted(), admitted(), admitted()]).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
    ]);
    clock.advance(99);
    expect(admitted()).toBe(false);
    clock.advance(1);
    expect(admitted()).toBe(true);
    expect(admitted()).toBe(false);
    clock.advance(100);
    expect(admitted()).toBe(true);
  });

  it('reports retryAfterMs that is exact: denied 1 ms before it, admitted at it', () => {
    const clock = manualClock();
    const limiter = new MemoryRateLimiter({ clock });
    const rule = toRateRule(4, 1_000, 2); // one unit per 250 ms
    limiter.decideNow('k', rule, 1);
    limiter.decideNow('k', rule, 1);
    clock.advance(30);
    const denied = limiter.decideNow('k', rule, 1);
    expect(denied).toMatchObject({ allowed: false, retryAfterMs: 220, remaining: 0, resetAfterMs: 470 });
    clock.advance(219);
    expect(limiter.decideNow('k', rule, 1)).toMatchObject({ allowed: false, retryAfterMs: 1 });
    clock.advance(1);
    expect(limiter.decideNow('k', rule, 1)).toMatchObject({ allowed: true, retryAfterMs: 0 });
  });

  it('reports the wait for a cost of several units as the time until all of them fit', () => {
    const clock = manualClock();
    const limiter = new MemoryRateLimiter({ clock });
    const rule = toRateRule(10, 1_000, 10); // 100 ms per unit
    expect(limiter.decideNow('k', rule, 8)).toMatchObject({ allowed: true, remaining: 2 });
    expect(limiter.decideNow('k', rule, 5)).toMatchObject({ allowed: false, retryAfterMs: 300, remaining: 2 });
    clock.advance(300);
    expect(limiter.decideNow('k', rule, 5)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('paces greedy demand at one unit per interval / limit, for a limit that does not divide the interval', () => {
    const clock = manualClock();
    const limiter = new MemoryRateLimiter({ clock });
    const rule = toRateRule(3, 1_000, 1); // 333.33 ms, rounded up to 333,334 µs
    const admittedAt: number[] = [];
    for (let t = 0; t < 5_000; t++) {
      if (limiter.decideNow('k', rule, 1).allowed) admittedAt.push(t);
      clock.advance(1);
    }
    for (const start of admittedAt) {
      expect(admittedAt.filter((t) => t >= start && t < start + 1_000).length).toBeLessThanOrEqual(3);
    }
    expect(admittedAt.length).toBe(15);
  });

  it('refills while idle: after a full rest the whole burst is available again, not more', () => {
    const clock = manualClock();
    const limiter = new MemoryRateLimiter({ clock });
    const rule = toRateRule(2, 1_000, 2);
    limiter.decideNow('k', rule, 2);
    clock.advance(60_000);
    expect(limiter.decideNow('k', rule, 1)).toMatchObject({ allowed: true, remaining: 1 });
    expect(limiter.decideNow('k', rule, 1)).toMatchObject({ allowed: true, remaining: 0 });
    expect(limiter.decideNow('k', rule, 1).allowed).toBe(false);
  });

  it('sweeps rested keys so that the map holds only recently active ones', () => {
    const clock = manualClock();
    const limiter = new MemoryRateLimiter({ clock });
    const rule = toRateRule(1, 1_000, 1);
    for (let i = 0; i < 1_000; i++) limiter.decideNow(`old-${i}`, rule, 1);
    // A key has rested once its schedule is two emissions behind: its next slot opened 2 s ago.
    clock.advance(3_000);
    for (let i = 0; i < 100; i++) limiter.decideNow(`new-${i}`, rule, 1);
    // The sweep at 1,024 keys dropped the 1,000 rested ones; without it there would be 1,100.
    expect(limiter.size).toBe(100);
  });

  it('keeps a key that has not rested through a sweep, as Redis keeps its key', () => {
    const clock = manualClock();
    const limiter = new MemoryRateLimiter({ clock });
    const rule = toRateRule(1, 1_000, 1);
    for (let i = 0; i < 1_000; i++) limiter.decideNow(`old-${i}`, rule, 1);
    // Each old key's next slot opened 500 ms ago: still claimable, so not rested.
    clock.advance(1_500);
    for (let i = 0; i < 100; i++) limiter.decideNow(`new-${i}`, rule, 1);
    expect(limiter.size).toBe(1_100);
    expect(limiter.decideNow('old-0', rule, 1).allowed).toBe(true);
    expect(limiter.decideNow('old-0', rule, 1)).toMatchObject({ allowed: false, retryAfterMs: 500 });
  });

  it('rejects unknown options', () => {
    expect(() => new MemoryRateLimiter({ clok: Date } as never)).toThrow('Unknown MemoryRateLimiter option `clok`');
  });
});

describe('MemoryRateLimiter on its default clock', () => {
  afterEach(() => jest.restoreAllMocks());

  /** Puts the default clock (performance.now) and the wall clock (Date.now, whole ms) under the test's control. */
  function clocks(): { advanceUs(us: number): void; stepWall(ms: number): void; readonly monotonicUs: number } {
    let monotonicUs = 5_000_123; // the process has run for a while, not on a whole millisecond
    let wallMs = Date.UTC(2030, 0, 1);
    jest.spyOn(performance, 'now').mockImplementation(() => monotonicUs / 1_000);
    jest.spyOn(Date, 'now').mockImplementation(() => wallMs + Math.floor(monotonicUs / 1_000));
    return {
      advanceUs: (us) => void (monotonicUs += us),
      stepWall: (ms) => void (wallMs += ms),
      get monotonicUs() {
        return monotonicUs;
      },
    };
  }

  it('reads it to the microsecond: a slot opens 333,334 µs after the last, not on the next millisecond', () => {
    const clock = clocks();
    const limiter = new MemoryRateLimiter();
    const rule = toRateRule(3, 1_000, 1);
    expect(limiter.decideNow('k', rule, 1).allowed).toBe(true);
    clock.advanceUs(333_333);
    expect(limiter.decideNow('k', rule, 1)).toMatchObject({ allowed: false, retryAfterMs: 1 });
    clock.advanceUs(1);
    expect(limiter.decideNow('k', rule, 1).allowed).toBe(true);
  });

  it('reads a monotonic clock: a wall clock stepped forward a minute refills nothing', () => {
    const clock = clocks();
    const limiter = new MemoryRateLimiter();
    const rule = toRateRule(10, 1_000, 5);
    const admitted: Admission[] = [];
    // Greedy demand for 3 s, every 100 µs; NTP steps the wall clock a minute forward halfway.
    for (let elapsedUs = 0; elapsedUs < 3_000_000; elapsedUs += 100) {
      if (elapsedUs === 1_500_000) clock.stepWall(60_000);
      if (limiter.decideNow('k', rule, 1).allowed) admitted.push({ atUs: clock.monotonicUs, units: 1 });
      clock.advanceUs(100);
    }
    // The burst, then one unit every 100 ms: 5 + 29, and never more than limit + burst in a second.
    expect(admitted.length).toBe(34);
    expect(busiestWindow(admitted, 1_000_000)).toBeLessThanOrEqual(15);
  });
});
