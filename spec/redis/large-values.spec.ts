import { Cache } from '../../lib';
import { RedisStore } from '../../lib/redis';
import { cleanUpKeys, testRedisUrl, uniquePrefix } from '../support/redis';

/** About `bytes` of JSON in many small records, the shape that costs the most to decode. */
function records(bytes: number, seed: number): { seed: number; items: object[] } {
  const items: object[] = [];
  for (let size = 0, i = 0; size < bytes; i++) {
    const item = {
      id: `${seed}-${i}`,
      title: `Item ${i}`,
      price: i * 1.25,
      tags: ['a', 'bb'],
      stock: { ok: i % 3 !== 0, n: i },
    };
    items.push(item);
    size += 90;
  }
  return { seed, items };
}

describe('large values on a RedisStore with default options', () => {
  const prefix = uniquePrefix('large');
  afterAll(() => cleanUpKeys(prefix));

  it('answers 64 concurrent hits of 1 MB values and small hits among them as hits: no store error, no method run, the breaker stays closed', async () => {
    const store = new RedisStore({ url: testRedisUrl() });
    const cache = new Cache({ store, prefix, ttl: '10m' });
    try {
      let runs = 0;
      const big = Array.from({ length: 64 }, (_, i) => records(1_000_000, i));
      const readBig = cache.wrap(async (i: number) => (runs++, big[i]), { name: 'big' });
      const readSmall = cache.wrap(async (i: number) => (runs++, `small ${i}`), { name: 'small' });
      for (let i = 0; i < 64; i += 8)
        await Promise.all(Array.from({ length: 8 }, (_, j) => Promise.all([readBig(i + j), readSmall(i + j)])));
      expect(runs).toBe(128);
      const circuit: string[] = [];
      store.events.on('circuit', (state) => circuit.push(state));

      for (let round = 0; round < 2; round++) {
        const bigHits = Array.from({ length: 64 }, (_, i) => readBig(i));
        const smallHits = Array.from({ length: 64 }, (_, i) => readSmall(i));
        const [bigValues, smallValues] = await Promise.all([Promise.all(bigHits), Promise.all(smallHits)]);
        expect(bigValues.map((v) => (v as { seed: number }).seed)).toEqual(big.map((v) => v.seed));
        expect(smallValues).toEqual(Array.from({ length: 64 }, (_, i) => `small ${i}`));
      }
      expect(runs).toBe(128);
      expect(cache.stats().total).toMatchObject({ storeErrors: 0, decodeErrors: 0, hits: 2 * 128 });
      expect(circuit).toEqual([]);
    } finally {
      await cache.close();
    }
  });
});
