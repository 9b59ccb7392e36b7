import { Cache, type FillInfo } from '../../lib';

describe('Cache.scopeFills', () => {
  it('runs each fill’s method call inside the scope, never a hit, and stops when removed', async () => {
    const cache = new Cache({ namespace: 'faq' });
    const seen: FillInfo[] = [];
    let inside = false;
    const answer = cache.wrap(async (q: string) => `${q}:${inside ? 'scoped' : 'bare'}`, { name: 'Faq.answer' });
    const stop = cache.scopeFills(async (fill, run) => {
      seen.push(fill);
      inside = true;
      try {
        return await run();
      } finally {
        inside = false;
      }
    });
    expect(await answer('refunds')).toBe('refunds:scoped');
    expect(await answer('refunds')).toBe('refunds:scoped');
    expect(seen).toEqual([{ method: 'faq:Faq.answer', namespace: 'faq', key: expect.stringContaining('faq:') }]);
    stop();
    expect(await answer('shipping')).toBe('shipping:bare');
    expect(seen).toHaveLength(1);
  });

  it('scopes a streamed fill to its last chunk', async () => {
    const cache = new Cache();
    const events: string[] = [];
    cache.scopeFills(async (_fill, run) => {
      events.push('open');
      try {
        return await run();
      } finally {
        events.push('close');
      }
    });
    const stream = cache.wrap(
      async function* (n: number) {
        for (let i = 0; i < n; i++) {
          events.push(`chunk ${i}`);
          yield i;
        }
      },
      { name: 'count', stream: true },
    );
    const chunks: number[] = [];
    for await (const chunk of stream(2)) chunks.push(chunk);
    expect(chunks).toEqual([0, 1]);
    expect(events).toEqual(['open', 'chunk 0', 'chunk 1', 'close']);
  });

  it('rejects a scope that is not a function, saying what it expected', () => {
    expect(() => new Cache().scopeFills('trace' as never)).toThrow(
      'Expected `scope` to be a function (fill, run) => run(), got',
    );
  });
});
