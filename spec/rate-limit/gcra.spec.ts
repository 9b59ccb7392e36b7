import { costUs, gcraStep, toRateRule } from '../../lib/rate-limit/gcra';

const NOW = 1_000_000_000;

describe('gcraStep', () => {
  const rule = toRateRule(10, 1_000, 1); // one unit per 100,000 µs

  it('keeps a slot that opened unclaimed until the next one opens: a late caller takes it and the pace holds', () => {
    const tat = NOW - 99_999; // opened 99,999 µs ago, the last microsecond of its credit
    const step = gcraStep(tat, NOW, rule, costUs(rule, 1));
    expect(step).toMatchObject({ allowed: true, tat: tat + 100_000 });
    // The next slot opens on the original grid, 1 µs from now, not 100 ms from now.
    expect(gcraStep(step.tat, NOW, rule, costUs(rule, 1))).toMatchObject({ allowed: false, retryAfterUs: 1 });
    expect(gcraStep(step.tat, NOW + 1, rule, costUs(rule, 1)).allowed).toBe(true);
  });

  it('costs a caller later than one emission only the time beyond the credit: the latest slot is still open', () => {
    const step = gcraStep(NOW - 150_000, NOW, rule, costUs(rule, 1));
    // The slot that opened 150 ms ago is lost; the one that opened 50 ms ago is taken, 1 µs short of its time.
    expect(step).toMatchObject({ allowed: true, tat: NOW + 1 });
    expect(gcraStep(step.tat, NOW + 1, rule, costUs(rule, 1)).allowed).toBe(true);
  });

  it('restarts a schedule two emissions behind: the key has rested and gets its burst, no more', () => {
    const step = gcraStep(NOW - 200_000, NOW, rule, costUs(rule, 1));
    expect(step).toMatchObject({ allowed: true, tat: NOW + 100_000, remaining: 0 });
    expect(gcraStep(step.tat, NOW + 99_999, rule, costUs(rule, 1))).toMatchObject({ allowed: false, retryAfterUs: 1 });
    // One microsecond less behind, it is still late demand.
    expect(gcraStep(NOW - 199_999, NOW, rule, costUs(rule, 1)).tat).toBe(NOW + 1);
  });

  it('gives a rested key exactly burst whole units at once, with or without a slot in credit, and one less once a slot is taken', () => {
    const burst5 = toRateRule(10, 1_000, 5);
    for (const tat of [undefined, NOW - 1_000_000, NOW - 150_000, NOW - 99_999, NOW, NOW + 1]) {
      let state = tat;
      let admitted = 0;
      for (let i = 0; i < 10; i++) {
        const step = gcraStep(state, NOW, burst5, costUs(burst5, 1));
        if (!step.allowed) break;
        state = step.tat;
        admitted++;
      }
      expect({ tat, admitted }).toEqual({ tat, admitted: tat === NOW + 1 ? 4 : 5 });
    }
  });

  it('reports remaining and resetAfter from the credited schedule, never below zero', () => {
    const burst3 = toRateRule(10, 1_000, 3);
    const step = gcraStep(NOW - 50_000, NOW, burst3, 0);
    expect(step).toMatchObject({ allowed: true, tat: NOW - 50_000, remaining: 3, resetAfterUs: 0 });
    expect(gcraStep(NOW - 50_000, NOW, burst3, costUs(burst3, 1))).toMatchObject({
      remaining: 2,
      resetAfterUs: 50_000,
    });
  });

  it('rounds charges up, so a tiny cost is never free', () => {
    expect(costUs(rule, 1e-9)).toBe(1);
    expect(costUs(rule, 3)).toBe(300_000);
    expect(costUs(toRateRule(3, 1_000, 3), 1 / 3)).toBe(111_112);
  });

  it('gives every rule a credit of one emission less one microsecond, and rests a key two emissions behind', () => {
    expect(toRateRule(3, 1_000, 1)).toEqual({
      limit: 3,
      intervalMs: 1_000,
      burst: 1,
      emissionUs: 333_334,
      toleranceUs: 333_334,
      creditUs: 333_333,
      restUs: 666_668,
    });
  });
});
