import { Cache, Cached, InvalidatesCache, MemoryStore, type CacheStore } from '../../lib';
import { RedisStore } from '../../lib/redis';
import { deferred, eventually } from '../support/async';
import { cleanUpKeys, connectTestClient, testRedisUrl, uniquePrefix } from '../support/redis';

// This suite runs twice: under experimentalDecorators (legacy, as NestJS) and under TC39 standard decorators.

interface Config {
  readonly agent: string;
  readonly version: number;
}

/** Agents whose configuration reads are cached and tagged, and whose update invalidates them. */
function agentsOn(cache: Cache) {
  const db = new Map<string, number>([
    ['a1', 1],
    ['a2', 1],
  ]);
  const reads: string[] = [];
  class Agents {
    @Cached({ cache, tags: (_config: Config, agent: string) => [`agent:${agent}`] })
    async config(agent: string): Promise<Config> {
      reads.push(agent);
      return { agent, version: db.get(agent) ?? 0 };
    }

    @Cached({ cache, namespace: 'prompts', tags: ['prompts'] })
    async prompt(name: string): Promise<string> {
      reads.push(`prompt:${name}`);
      return `prompt ${name}`;
    }

    @InvalidatesCache({ cache, tags: (_result: void, agent: string) => [`agent:${agent}`] })
    async update(agent: string, version: number): Promise<void> {
      if (version < 0) throw new Error('bad version');
      db.set(agent, version);
    }
  }
  return { agents: new Agents(), reads };
}

const stores: [string, () => CacheStore][] = [
  ['memory', () => new MemoryStore()],
  ['redis', () => new RedisStore({ url: testRedisUrl() })],
];

describe.each(stores)('invalidation on the %s store', (_name, makeStore) => {
  // A prefix per test: entries a Redis test leaves must not be hits for the next one.
  const base = uniquePrefix('inv');
  let cache: Cache;
  let n = 0;
  beforeEach(() => {
    cache = new Cache({ store: makeStore(), prefix: `${base}-${n++}` });
  });
  afterEach(() => cache.close());
  afterAll(() => cleanUpKeys(base));

  it('removes exactly the entries carrying a tag', async () => {
    const { agents, reads } = agentsOn(cache);
    await agents.config('a1');
    await agents.config('a2');
    await agents.prompt('greeting');
    expect(await cache.invalidateTags(['agent:a1'])).toBe(1);
    await agents.config('a1');
    await agents.config('a2');
    await agents.prompt('greeting');
    expect(reads).toEqual(['a1', 'a2', 'prompt:greeting', 'a1']);
    expect(await cache.invalidateTags(['agent:nobody'])).toBe(0);
  });

  it('@InvalidatesCache makes the next read see the update, and a failed update invalidates nothing', async () => {
    const { agents, reads } = agentsOn(cache);
    expect(await agents.config('a1')).toEqual({ agent: 'a1', version: 1 });
    await agents.update('a1', 2);
    expect(await agents.config('a1')).toEqual({ agent: 'a1', version: 2 });
    await expect(agents.update('a1', -1)).rejects.toThrow('bad version');
    await agents.config('a1');
    expect(reads).toEqual(['a1', 'a1']);
  });

  it('removes one call’s entry by method and arguments', async () => {
    const { agents, reads } = agentsOn(cache);
    await agents.config('a1');
    await agents.config('a2');
    expect(await cache.invalidate(agents, 'config', 'a1')).toBe(true);
    expect(await cache.invalidate(agents, 'config', 'a1')).toBe(false);
    await agents.config('a1');
    await agents.config('a2');
    expect(reads).toEqual(['a1', 'a2', 'a1']);
    await expect(cache.invalidate(agents, 'update', 'a1', 1)).rejects.toThrow(
      /Expected `method` to be the name of a @Cached method/,
    );
  });

  it('removes an entry by its store key, and refuses a key that is not an entry of this cache', async () => {
    const { agents, reads } = agentsOn(cache);
    await agents.config('a1');
    const details = await cache.peek(agents, 'config', 'a1');
    const events: unknown[] = [];
    cache.on('invalidate', (event) => events.push(event));
    expect(await cache.invalidateKey(details!.key)).toBe(true);
    expect(await cache.invalidateKey(details!.key)).toBe(false);
    expect(events).toEqual([
      { tags: [], keys: [details!.key], removed: 1 },
      { tags: [], keys: [details!.key], removed: 0 },
    ]);
    await agents.config('a1');
    expect(reads).toEqual(['a1', 'a1']);
    for (const key of [`${details!.key}#lock`, 'other:default:x:y', 'cachet-ledger'])
      await expect(cache.invalidateKey(key)).rejects.toMatchObject({
        code: 'ERR_CACHET_NOT_A_KEY',
        message: expect.stringMatching(
          /^Expected the key of a cachet entry \(`.+:<namespace>:<method>:<digest>`\), got /,
        ),
      });
    await expect(cache.invalidateKey(42 as never)).rejects.toThrow(
      'Expected `key` to be a cache key (a string), got `42` (number)',
    );
    expect(await agents.config('a1')).toEqual({ agent: 'a1', version: 1 });
    expect(reads).toEqual(['a1', 'a1']);
  });

  it('clears one namespace and leaves the others', async () => {
    const { agents, reads } = agentsOn(cache);
    await agents.config('a1');
    await agents.prompt('greeting');
    expect(await cache.clear({ namespace: 'prompts' })).toBe(1);
    await agents.config('a1');
    await agents.prompt('greeting');
    expect(reads).toEqual(['a1', 'prompt:greeting', 'prompt:greeting']);
    // The whole prefix: both entries, and in Redis also the two tag sets, which are keys there.
    expect(await cache.clear()).toBe(cache.store.name === 'redis' ? 4 : 2);
    await agents.config('a1');
    expect(reads.at(-1)).toBe('a1');
  });

  it('clears exactly one namespace: neighbours whose names start alike, and the tag sets, stay', async () => {
    const reads: string[] = [];
    const read = (namespace: string) =>
      cache.wrap(async (id: string) => (reads.push(`${namespace}/${id}`), id), {
        name: 'read',
        namespace,
        tags: ['all'],
      });
    const readers = ['a', 'ab', 'a-b', 'a_b', 'a.b'].map(read);
    for (const reader of readers) await reader('x');
    expect(await cache.clear({ namespace: 'a' })).toBe(1);
    for (const reader of readers) await reader('x');
    expect(reads.slice(5)).toEqual(['a/x']);
    // The tag set still names every neighbour's entry.
    expect(await cache.invalidateTags(['all'])).toBe(5);
  });

  it('refuses a namespace with `:` when clearing too, which could not be told apart from its neighbours', async () => {
    await expect(cache.clear({ namespace: 'a:b' })).rejects.toThrow(
      /^Expected `namespace` to be a non-empty string of at most 200 characters without whitespace or `:`, got `"a:b"` \(string\)$/,
    );
    await expect(cache.clear({ namespace: 'tag' })).rejects.toThrow(
      /^Expected `namespace` to be a namespace other than `tag`/,
    );
  });

  it('does not keep a value whose fill ran across an invalidation of the cache’s tags', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    class Slow {
      @Cached({ cache, tags: (_v: number, id: string) => [`item:${id}`] })
      async read(_id: string): Promise<number> {
        calls++;
        if (calls === 1) await held;
        return calls;
      }
    }
    const slow = new Slow();
    const first = slow.read('x'); // reads the data, then is slow to store it
    await eventually(() => calls === 1);
    await cache.invalidateTags(['item:x']); // the data changed meanwhile
    release();
    expect(await first).toBe(1); // the caller still gets its answer...
    expect(await slow.read('x')).toBe(2); // ...but it was not kept: the next call reads again
    expect(await slow.read('x')).toBe(2);
  });

  /** A method whose first call per id waits for `gate` after reading its data, so an invalidation can run meanwhile. */
  function slowReads(tagsOf: (id: string) => string[], namespace?: string) {
    const gate = deferred<void>();
    const data = new Map<string, number>();
    let calls = 0;
    const held = new Set<string>();
    class Slow {
      @Cached({ cache, namespace, tags: (_v: number, id: string) => tagsOf(id) })
      async read(id: string): Promise<number> {
        calls++;
        const version = data.get(id) ?? 1;
        if (!held.has(id)) {
          held.add(id);
          await gate.promise;
        }
        return version;
      }
    }
    // The key of the first fill, as `cachet keys` would list it once stored.
    const missed: string[] = [];
    cache.on('miss', (event) => missed.push(event.key));
    return { slow: new Slow(), gate, data, calls: () => calls, key: () => missed[0]! };
  }

  it('keeps a value whose fill ran across an invalidation of other tags only', async () => {
    const { slow, gate, calls } = slowReads((id) => [`item:${id}`]);
    const first = slow.read('x');
    await eventually(() => calls() === 1);
    await cache.invalidateTags(['item:y', 'unrelated']);
    gate.resolve();
    expect(await first).toBe(1);
    expect(await slow.read('x')).toBe(1);
    expect(calls()).toBe(1);
    expect(cache.stats().total.hits).toBe(1);
  });

  it.each([
    ['its tag is invalidated', (c: Cache) => c.invalidateTags(['item:x'])],
    [
      'its own entry is invalidated',
      (c: Cache, slow: { read(id: string): Promise<number> }) => c.invalidate(slow, 'read', 'x'),
    ],
    ['its entry is invalidated by its store key', (c: Cache, _slow: unknown, key: string) => c.invalidateKey(key)],
    ['its namespace is cleared', (c: Cache) => c.clear({ namespace: 'reads' })],
    ['the whole cache is cleared', (c: Cache) => c.clear()],
  ] as [string, (c: Cache, slow: { read(id: string): Promise<number> }, key: string) => Promise<unknown>][])(
    'never hands a fill older than an invalidation to a call made after it, nor keeps its value, when %s',
    async (_case, invalidate) => {
      const { slow, gate, data, calls, key } = slowReads((id) => [`item:${id}`], 'reads');
      const first = slow.read('x'); // reads version 1, then is slow to return
      await eventually(() => calls() === 1);
      data.set('x', 2); // the data changes...
      await invalidate(cache, slow, key()); // ...and is invalidated; this resolves before the next call starts
      const later = slow.read('x'); // a call made after the invalidation resolved
      gate.resolve();
      expect(await first).toBe(1); // the call made before may see the old version
      expect(await later).toBe(2); // the later one never does, though a fill of its key was in flight
      expect(await slow.read('x')).toBe(2); // and the old value was not kept
    },
  );

  it('rejects a tags function that returns something other than tags, storing nothing', async () => {
    class Bad {
      @Cached({ cache, tags: () => ['has space'] })
      async read(): Promise<number> {
        return 1;
      }
    }
    await expect(new Bad().read()).rejects.toThrow(/Expected `tags\[0\] \(returned by the tags function\)`/);
    expect(cache.stats().total.fills).toBe(1);
  });
});

describe('invalidation across instances on one Redis', () => {
  const prefix = uniquePrefix('inv-x');
  afterAll(() => cleanUpKeys(prefix));

  it('a tag invalidated by one instance is gone for the other; the tag set lives as long as its entries', async () => {
    const [one, two] = [0, 1].map(
      () => new Cache({ store: new RedisStore({ url: testRedisUrl() }), prefix, ttl: '10m' }),
    );
    try {
      const first = agentsOn(one!);
      const second = agentsOn(two!);
      await first.agents.config('a1');
      await second.agents.config('a1');
      expect(second.reads).toEqual([]); // a hit on what instance one stored
      const client = await connectTestClient();
      const ttl = await client.sendCommand<number>(['PTTL', `${prefix}:tag:agent:a1`]);
      await client.close();
      expect(ttl).toBeGreaterThan(9 * 60_000);
      await second.agents.update('a1', 7);
      expect(await first.agents.config('a1')).toEqual({ agent: 'a1', version: 1 }); // instance one's own db
      expect(first.reads).toEqual(['a1', 'a1']);
    } finally {
      await Promise.all([one!.close(), two!.close()]);
    }
  });

  it('an invalidation by one instance during another instance’s fill: the value is not kept, and a later joiner looks again', async () => {
    const [one, two] = [0, 1].map(
      () => new Cache({ store: new RedisStore({ url: testRedisUrl() }), prefix: `${prefix}-race`, ttl: '10m' }),
    );
    try {
      const gate = deferred<void>();
      let version = 1;
      let calls = 0;
      const reader = (cache: Cache) =>
        cache.wrap(
          async (id: string) => {
            calls++;
            const seen = version;
            if (calls === 1) await gate.promise;
            return `${id}@${seen}`;
          },
          { name: 'Reader.read', tags: (_v: string, id: string) => [`item:${id}`] },
        );
      const onOne = reader(one!);
      const first = onOne('x');
      await eventually(() => calls === 1);
      version = 2;
      await two!.invalidateTags(['item:x']); // another instance changed the data and invalidated it
      const later = onOne('x'); // joins instance one's fill in flight, which started before that
      gate.resolve();
      expect(await first).toBe('x@1');
      expect(await later).toBe('x@2');
      expect(await reader(two!)('x')).toBe('x@2');
    } finally {
      await Promise.all([one!.close(), two!.close()]);
    }
  });

  it('clears a namespace of more keys than one SCAN page', async () => {
    const cache = new Cache({ store: new RedisStore({ url: testRedisUrl() }), prefix: `${prefix}-many` });
    try {
      const store = cache.store;
      await Promise.all(Array.from({ length: 1_200 }, (_, i) => store.set(`${prefix}-many:bulk:k${i}`, i, 60_000)));
      await store.set(`${prefix}-many:keep:k`, 1, 60_000);
      expect(await cache.clear({ namespace: 'bulk' })).toBe(1_200);
      expect(await store.get(`${prefix}-many:keep:k`)).toMatchObject({ value: 1 });
    } finally {
      await cache.close();
    }
  });
});

describe('tags need a store that keeps them', () => {
  it('says so when the method is first bound', async () => {
    const bare: CacheStore = {
      name: 'bare',
      get: () => undefined,
      set: () => undefined,
      delete: () => false,
      close: async () => {},
    };
    const cache = new Cache({ store: bare });
    class Tagged {
      @Cached({ cache, tags: ['t'] })
      async read(): Promise<number> {
        return 1;
      }
    }
    expect(() => new Tagged().read()).toThrow(/Tagged.read has `tags`, but the bare store keeps no tags/);
    await expect(cache.invalidateTags(['t'])).rejects.toThrow(/The bare store keeps no tags/);
  });
});
