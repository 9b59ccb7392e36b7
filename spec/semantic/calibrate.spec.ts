import {
  CalibrationError,
  calibrateThreshold,
  cosine,
  recallAtFalseHitRate,
  rocAuc,
  type LabelledPair,
} from '../../lib/semantic/calibrate';

describe('rocAuc', () => {
  it('is the share of positive-negative pairs ranked right, ties counting ½', () => {
    // Pairs (positive, negative): 0.9>0.8, 0.9>0.3, 0.8=0.8 (½), 0.8>0.3 -> 3.5 / 4.
    expect(rocAuc([0.9, 0.8, 0.8, 0.3], [1, 1, 0, 0])).toBe(0.875);
    expect(rocAuc([1, 2], [1, 0])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5], [1, 0, 0])).toBe(0.5);
    expect(rocAuc([0.2, 0.1], [true, false])).toBe(1);
  });

  it('takes -Infinity (a refused pair) as the lowest score, tied with other refused pairs', () => {
    expect(rocAuc([-Infinity, -Infinity, 0.1], [1, 0, 0])).toBe(0.25);
  });

  it('agrees with the quadratic definition on random scores', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 0.999;
    const scores = Array.from({ length: 200 }, () => Math.round(random() * 20) / 20);
    const labels = scores.map((_, i) => (i % 3 === 0 ? 1 : 0));
    let wins = 0;
    let pairs = 0;
    scores.forEach((p, i) => {
      if (labels[i] !== 1) return;
      scores.forEach((n, j) => {
        if (labels[j] !== 0) return;
        pairs++;
        wins += p > n ? 1 : p === n ? 0.5 : 0;
      });
    });
    expect(rocAuc(scores, labels)).toBeCloseTo(wins / pairs, 12);
  });
});

describe('recallAtFalseHitRate', () => {
  const negatives = [0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.01, 0];
  const positives = [0.65, 0.6, 0.8];
  const scores = [...negatives, ...positives];
  const labels = [...negatives.map(() => 0 as const), ...positives.map(() => 1 as const)];

  it('puts the threshold at the (k+1)-th highest negative, k = ⌊rate · negatives⌋, and counts hits strictly above it', () => {
    // k = 1: t = 0.6; 0.65 and 0.8 are hits, 0.6 is not (strictly above); one false hit (0.7).
    expect(recallAtFalseHitRate(scores, labels, 0.1)).toEqual({
      recall: 2 / 3,
      threshold: 0.6,
      falseHits: 1,
      falseHitRate: 0.1,
    });
    // k = 0: t = 0.7, only 0.8.
    expect(recallAtFalseHitRate(scores, labels, 0.05)).toEqual({
      recall: 1 / 3,
      threshold: 0.7,
      falseHits: 0,
      falseHitRate: 0,
    });
    // k = 2: t = 0.5.
    expect(recallAtFalseHitRate(scores, labels, 0.25)).toMatchObject({ recall: 1, threshold: 0.5, falseHits: 2 });
  });

  it('rejects a rate outside (0, 1) and unusable scores with typed errors', () => {
    for (const rate of [0, 1, -0.1, NaN]) {
      expect(() => recallAtFalseHitRate(scores, labels, rate)).toThrow(TypeError);
    }
    expect(() => recallAtFalseHitRate(scores, labels, 1.5)).toThrow('Expected `rate` to be a number in (0, 1)');
    const problem = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error instanceof CalibrationError ? error.problem : error;
      }
      return undefined;
    };
    expect(problem(() => rocAuc([], []))).toBe('no-pairs');
    expect(problem(() => rocAuc([0.1, 0.2], [1, 1]))).toBe('no-negatives');
    expect(problem(() => rocAuc([0.1, 0.2], [0, 0]))).toBe('no-positives');
    expect(problem(() => rocAuc([0.1], [1, 0]))).toBe('length-mismatch');
    expect(problem(() => rocAuc([NaN, 0.1], [1, 0]))).toBe('not-a-number');
    expect(new CalibrationError('no-pairs', 'x').code).toBe('ERR_CACHET_CALIBRATION');
  });
});

describe('cosine', () => {
  it('is the cosine of the angle, 0 for a zero vector', () => {
    expect(cosine([1, 0], [0, 1])).toBe(0);
    expect(cosine(new Float32Array([3, 4]), [6, 8])).toBeCloseTo(1, 6);
    expect(cosine([0, 0], [1, 1])).toBe(0);
    expect(() => cosine([1], [1, 2])).toThrow(RangeError);
  });
});

describe('calibrateThreshold', () => {
  // A synthetic embedder: text "θ" embeds at angle θ degrees, so a pair's cosine is cos(θa - θb).
  const embed = async (texts: readonly string[]) =>
    texts.map((t) => {
      const angle = (Number(t.replace(/[^0-9.]/g, '')) * Math.PI) / 180;
      return new Float32Array([Math.cos(angle), Math.sin(angle)]);
    });
  // Positives 5°..50° apart, negatives 30°..120° apart (20 of them).
  const positives = [5, 10, 15, 20, 25, 35, 40, 50].map((d): LabelledPair => ({ a: '0', b: String(d), label: 1 }));
  const negatives = Array.from({ length: 20 }, (_, i): LabelledPair => ({ a: '0', b: String(30 + i * 4.5), label: 0 }));
  const pairs = [...positives, ...negatives];

  it('chooses the threshold that keeps the false-hit rate, and reports recall and ROC-AUC at it', async () => {
    // 5 %: k = 1, t = cos(34.5°); hits: the positives under 34.5° (5 of 8), plus one negative (30°).
    const result = await calibrateThreshold(pairs, embed, { maxFalseHitRate: 0.05 });
    expect(result.threshold).toBeCloseTo(Math.cos((34.5 * Math.PI) / 180), 6);
    expect(result.recall).toBe(5 / 8);
    expect(result.falseHitRate).toBe(0.05);
    expect(result.refused).toEqual({ positives: 0, negatives: 0 });
    const expectedAuc = rocAuc(
      pairs.map((p) => Math.cos((Number(p.b) * Math.PI) / 180)),
      pairs.map((p) => p.label),
    );
    expect(result.rocAuc).toBeCloseTo(expectedAuc, 6);
    // An Embedder object works as well as its function.
    expect(await calibrateThreshold(pairs, { embed }, { maxFalseHitRate: 0.05 })).toEqual(result);
  });

  it('scores a pair a guard refuses -Infinity: never a hit, never a false hit', async () => {
    const guarded: LabelledPair[] = [
      { a: '0 the Plus plan', b: '0 the Pro plan', label: 0 },
      { a: '0 is allowed', b: '1 is not allowed', label: 1 },
      ...pairs,
    ];
    // The synthetic texts carry their angle as a number, so the numbers guard is off here.
    const guards = { numbers: false, entities: ['Plus', 'Pro'] };
    const result = await calibrateThreshold(guarded, embed, { maxFalseHitRate: 0.05, guards });
    expect(result.refused).toEqual({ positives: 1, negatives: 1 });
    // Guarded: both refused pairs score -Infinity. k = 1 of 21 negatives, t = cos 34.5°: hits are the
    // positives at 5°..25° (5 of 9; the refused 1° paraphrase is a miss) and one near miss (30°).
    const rad = (degrees: number) => (degrees * Math.PI) / 180;
    expect(result.threshold).toBeCloseTo(Math.cos(rad(34.5)), 6);
    expect(result.recall).toBe(5 / 9);
    expect(result.falseHitRate).toBe(1 / 21);
    // Unguarded: the Plus/Pro near miss (cosine 1) is the false hit, and t falls to cos 30°.
    const unguarded = await calibrateThreshold(guarded, embed, { maxFalseHitRate: 0.05 });
    expect(unguarded.refused).toEqual({ positives: 0, negatives: 0 });
    expect(unguarded.threshold).toBeCloseTo(Math.cos(rad(30)), 6);
    expect(unguarded.recall).toBe(6 / 9);
  });

  it('rejects bad input with typed errors', async () => {
    await expect(calibrateThreshold([], embed, { maxFalseHitRate: 0.05 })).rejects.toMatchObject({
      problem: 'no-pairs',
    });
    await expect(calibrateThreshold(positives, embed, { maxFalseHitRate: 0.05 })).rejects.toMatchObject({
      problem: 'no-negatives',
    });
    await expect(calibrateThreshold(pairs, embed, { maxFalseHitRate: 1 })).rejects.toThrow(
      'Expected `maxFalseHitRate` to be a number in (0, 1), got `1` (number)',
    );
    await expect(calibrateThreshold(pairs, embed, { maxFalseHitRate: 0.05, guard: {} } as never)).rejects.toThrow(
      'Unknown calibrateThreshold option `guard`',
    );
    await expect(calibrateThreshold(pairs, {} as never, { maxFalseHitRate: 0.05 })).rejects.toThrow(
      'Expected `embed` to be an Embedder or an embed function',
    );
    await expect(
      calibrateThreshold([{ a: 'x', b: 'y', label: 2 } as never], embed, { maxFalseHitRate: 0.05 }),
    ).rejects.toThrow('Expected `pairs[0].label` to be 0, 1 or a boolean');
    await expect(calibrateThreshold(pairs, async () => [], { maxFalseHitRate: 0.05 })).rejects.toThrow(
      'The embedder returned 0 vectors for 56 texts',
    );
  });
});
