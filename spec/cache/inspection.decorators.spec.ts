import { Cache, Cached, MemoryStore } from '../../lib';
import { manualClock } from '../ports/cache-store-contract';
import { describeInspection } from './inspection-suite';

// Runs twice: under legacy and TC39 standard decorators (`cache.peek` finds decorated methods in both).

let next = 0;
describeInspection(
  'memory',
  () => ({ kind: 'memory', store: async (clock) => new MemoryStore({ clock }), cleanup: async () => {} }),
  () => `mem${next++}`,
);

describe('looking inside a memory store', () => {
  it('peeks without refreshing the entry’s recency: the least recently used is still evicted first', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ clock, maxEntries: 2 });
    const cache = new Cache({ store, clock });
    class Service {
      @Cached({ cache })
      async get(id: string): Promise<string> {
        return id;
      }
    }
    const s = new Service();
    await s.get('old');
    await s.get('new');
    expect(await cache.peek(s, 'get', 'old')).toMatchObject({ value: 'old' });
    await s.get('third'); // evicts the least recently used: still `old`, as peek did not use it
    await expect(cache.peek(s, 'get', 'old')).resolves.toBeUndefined();
    expect(await cache.peek(s, 'get', 'new')).toMatchObject({ value: 'new' });
  });

  it('lists only live keys', async () => {
    const clock = manualClock();
    const cache = new Cache({ store: new MemoryStore({ clock }), clock });
    const f = cache.wrap(async (ttl: string) => ttl, { name: 'f', ttl: (v: string) => v });
    await f('1s');
    await f('1h');
    clock.advance(1_000);
    const listed: string[] = [];
    for await (const page of cache.keys()) listed.push(...page);
    expect(listed).toEqual([(await cache.peek(f, '1h'))!.key]);
  });
});
