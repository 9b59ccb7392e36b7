import { cosine } from '../../lib/semantic/calibrate';
import { OfflineEmbedder, offlineFeatures } from '../../lib/semantic/offline-embedder';

describe('OfflineEmbedder', () => {
  const embedder = new OfflineEmbedder();

  it('gives deterministic, L2-normalised vectors of its dimensions, named by model', async () => {
    const [a, b, empty] = await embedder.embed(['How do I reset my password?', '如何重置密码', '']);
    expect(embedder.dimensions).toBe(2048);
    expect(embedder.model).toBe('cachet-offline-v1-2048');
    expect(a).toBeInstanceOf(Float32Array);
    expect(a).toHaveLength(2048);
    expect(cosine(a!, a!)).toBeCloseTo(1, 5);
    expect(Math.hypot(...b!)).toBeCloseTo(1, 5);
    expect(empty!.every((x) => x === 0)).toBe(true);
    const [again] = await new OfflineEmbedder().embed(['How do I reset my password?']);
    expect(again).toEqual(a);
    expect(new OfflineEmbedder({ dimensions: 64 }).model).toBe('cachet-offline-v1-64');
  });

  it('stems English and weighs stop words less, so reworded questions score high', async () => {
    const [q, paraphrase, other] = await embedder.embed([
      'How do I reset my password?',
      'Resetting the password: how?',
      'How do I change my username?',
    ]);
    expect(cosine(q!, paraphrase!)).toBeGreaterThan(cosine(q!, other!));
    const features = offlineFeatures('The connections');
    expect(features.get('w:connect')).toBe(1);
    expect(features.get('w:the')).toBe(0.25);
  });

  it('uses character 1-3 grams for Chinese', async () => {
    const [q, paraphrase, other] = await embedder.embed(['花呗怎么还款', '花呗如何还款', '借呗怎么开通']);
    expect(cosine(q!, paraphrase!)).toBeGreaterThan(cosine(q!, other!));
    expect([...offlineFeatures('还款').keys()].sort()).toEqual(['c1:款', 'c1:还', 'c2:还款']);
  });

  it('rejects bad options and inputs with TypeErrors', async () => {
    expect(() => new OfflineEmbedder({ dimensions: 0 })).toThrow(
      'Expected `dimensions` to be a positive integer, got `0` (number)',
    );
    expect(() => new OfflineEmbedder({ dims: 8 } as never)).toThrow('Unknown OfflineEmbedder option `dims`');
    await expect(embedder.embed(['ok', 3 as never])).rejects.toThrow('Expected `texts[1]` to be a string');
  });
});
