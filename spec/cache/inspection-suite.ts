import { Cache, Cached, isNotCachetKeyError, type CacheStore, type Clock } from '../../lib';
import { manualClock, type ManualClock } from '../ports/cache-store-contract';
import { deferred } from '../support/async';

/** Where the inspection suite runs: a memory store, one Redis, or the three-master cluster. */
export interface InspectionTarget {
  readonly kind: 'memory' | 'redis' | 'cluster';
  /** A new store on `clock`; closed by the cache that gets it. */
  store(clock: Clock): Promise<CacheStore>;
  /** Sends a command as another tool would, routed by its key (Redis only). */
  command?(args: string[]): Promise<unknown>;
  /** Calls of a command on each master so far, from `INFO commandstats` (Redis only). */
  commandCalls?(command: string): Promise<number[]>;
  /** Index of the master that holds `key` (cluster only). */
  masterOf?(key: string): number;
  /** Removes every key under `prefix` after a test. */
  cleanup(prefix: string): Promise<void>;
}

/** Long enough that no entry expires in real time during a test: Redis expires entries by its own clock. */
const TTL = '1m';

/**
 * `cache.peek`, `cache.keys` and `cache.inspect`, written once and run on every store. Time is the
 * injected clock (Redis keeps its own PX, longer than any test).
 */
export function describeInspection(
  kind: InspectionTarget['kind'],
  target: () => InspectionTarget,
  newPrefix: () => string,
): void {
  describe(`looking inside the cache (${kind} store)`, () => {
    let prefix: string;
    let clock: ManualClock;
    let cache: Cache;
    let t: InspectionTarget;

    beforeEach(async () => {
      t = target();
      prefix = newPrefix();
      clock = manualClock();
      cache = new Cache({ store: await t.store(clock), prefix, clock, ttl: TTL });
    });

    afterEach(async () => {
      await cache.close();
      await t.cleanup(prefix);
    });

    /** A service with a tagged method, a stale-serving one and a plain one in another namespace. */
    function service() {
      const calls: string[] = [];
      const fills: string[] = [];
      cache.on('fill', ({ key }) => fills.push(key));
      class Assistant {
        @Cached({ cache, namespace: 'chat', tags: (_answer, user: string) => [`user:${user}`, 'faq'] })
        async answer(_user: string, question: string): Promise<{ text: string; tokens: number }> {
          calls.push(question);
          return { text: `answer to ${question}`, tokens: question.length };
        }

        @Cached({ cache, namespace: 'chat', ttl: '10s', staleWhileRevalidate: '1m' })
        async summary(topic: string): Promise<string> {
          calls.push(topic);
          return `summary of ${topic}`;
        }

        @Cached({ cache, namespace: 'search' })
        async search(query: string): Promise<string[]> {
          calls.push(query);
          return [query, query.toUpperCase()];
        }
      }
      return { assistant: new Assistant(), calls, fills };
    }

    it('peeks at a call’s entry under the key the call used, counting no lookup and filling nothing', async () => {
      const { assistant, calls, fills } = service();
      await assistant.answer('ada', 'What is a monad?');
      const before = cache.stats();

      const entry = await cache.peek(assistant, 'answer', 'ada', 'What is a monad?');

      expect(entry).toEqual({
        key: fills[0],
        namespace: 'chat',
        method: 'Assistant.answer',
        value: { text: 'answer to What is a monad?', tokens: 16 },
        storedAt: t.kind === 'memory' ? clock.now() : undefined,
        expiresAt: clock.now() + 60_000,
        freshUntil: undefined,
        state: 'fresh',
        tags: ['faq', 'user:ada'],
        size: Buffer.byteLength('1:{"text":"answer to What is a monad?","tokens":16}'),
        store: t.kind === 'memory' ? 'memory' : 'redis',
      });
      expect(cache.stats()).toEqual(before);
      expect(calls).toEqual(['What is a monad?']);
    });

    it('resolves undefined for a call not cached, without a miss or a fill', async () => {
      const { assistant, calls } = service();
      await expect(cache.peek(assistant, 'search', 'nothing yet')).resolves.toBeUndefined();
      expect(cache.stats().total).toMatchObject({ hits: 0, misses: 0, fills: 0 });
      expect(calls).toEqual([]);
      expect(cache.fillsInProgress).toBe(0);
    });

    it('tells a stale entry, kept to be served while it refreshes, from a fresh one', async () => {
      const { assistant } = service();
      await assistant.summary('caching');
      const stored = clock.now();
      expect(await cache.peek(assistant, 'summary', 'caching')).toMatchObject({
        state: 'fresh',
        freshUntil: stored + 10_000,
        expiresAt: stored + 70_000,
      });
      clock.advance(10_000);
      expect(await cache.peek(assistant, 'summary', 'caching')).toMatchObject({ state: 'stale' });
      expect(cache.stats().total).toMatchObject({ stale: 0, refreshes: 0 });
    });

    it('peeks at a function made by cache.wrap with the key its calls use', async () => {
      const keys: string[] = [];
      cache.on('fill', ({ key }) => keys.push(key));
      const price = cache.wrap(async (sku: string, qty: number) => qty * sku.length, { name: 'price' });
      await price('abc', 2);
      expect(await cache.peek(price, 'abc', 2)).toMatchObject({ key: keys[0], value: 6, method: 'price' });
      await expect(cache.peek(price, 'abc', 3)).resolves.toBeUndefined();
      const other = new Cache({ prefix: `${prefix}x` });
      await expect(other.peek(price, 'abc', 2)).rejects.toThrow('Expected `fn` to be a function wrapped by this cache');
      await other.close();
    });

    it('lists 2,500 entries in pages of about 100', async () => {
      const bulk = cache.wrap(async (i: number) => i, { name: 'bulk', lock: false });
      const ids = Array.from({ length: 2_500 }, (_, i) => i);
      for (let i = 0; i < ids.length; i += 500) await Promise.all(ids.slice(i, i + 500).map((id) => bulk(id)));
      const scansBefore = await t.commandCalls?.('scan');
      const keysBefore = await t.commandCalls?.('keys');

      const pages: (readonly string[])[] = [];
      for await (const page of cache.keys({ count: 100 })) pages.push(page);

      const listed = pages.flat();
      expect(pages.length).toBeGreaterThan(10);
      expect(Math.max(...pages.map((page) => page.length))).toBeLessThan(200);
      // SCAN may list a key twice when Redis resizes its table meanwhile; each must be there once at least.
      expect(new Set(listed).size).toBe(2_500);
      expect(listed.every((key) => key.startsWith(`${prefix}:default:bulk:`))).toBe(true);
      if (t.masterOf !== undefined) expect(new Set(listed.map((key) => t.masterOf!(key))).size).toBe(3);
      if (scansBefore !== undefined && keysBefore !== undefined) {
        const scans = await t.commandCalls!('scan');
        // Every master was scanned, and none was asked for KEYS.
        scans.forEach((calls, i) => expect(calls).toBeGreaterThan(scansBefore[i]!));
        expect(await t.commandCalls!('keys')).toEqual(keysBefore);
      }
      expect(cache.stats().methods['default:bulk']).toMatchObject({ hits: 0, misses: 2_500 });
    });

    it('filters keys by namespace, method and glob', async () => {
      const { assistant } = service();
      await assistant.answer('ada', 'q1');
      await assistant.answer('bob', 'q2');
      await assistant.summary('s1');
      await assistant.search('x');
      const list = async (options: Parameters<Cache['keys']>[0]) => {
        const all: string[] = [];
        for await (const page of cache.keys(options)) all.push(...page);
        return all.sort();
      };
      const key = async (...call: [keyof typeof assistant, ...string[]]) =>
        (await (cache.peek as (...a: unknown[]) => Promise<{ key: string }>)(assistant, ...call)).key;
      const answers = [await key('answer', 'ada', 'q1'), await key('answer', 'bob', 'q2')].sort();
      const summary = await key('summary', 's1');
      const search = await key('search', 'x');

      expect(await list({})).toEqual([...answers, summary, search].sort());
      expect(await list({ namespace: 'chat' })).toEqual([...answers, summary].sort());
      expect(await list({ method: 'Assistant.answer' })).toEqual(answers);
      expect(await list({ namespace: 'chat', method: 'Assistant.summary' })).toEqual([summary]);
      expect(await list({ namespace: 'search', method: 'Assistant.answer' })).toEqual([]);
      expect(await list({ match: 'search:*' })).toEqual([search]);
      expect(await list({ namespace: 'chat', match: '*.s[t-v]mmary:*' })).toEqual([summary]);
    });

    it('leaves cachet’s own keys (tag sets) out of the list unless asked for them', async () => {
      const { assistant } = service();
      await assistant.answer('ada', 'q1');
      const entry = (await cache.peek(assistant, 'answer', 'ada', 'q1'))!.key;
      const listed: string[] = [];
      for await (const page of cache.keys()) listed.push(...page);
      expect(listed).toEqual([entry]);

      const all: string[] = [];
      for await (const page of cache.keys({ internal: true })) all.push(...page);
      if (t.kind === 'memory')
        expect(all).toEqual([entry]); // the memory store keeps tags beside its entries
      else expect(all.sort()).toEqual([entry, `${prefix}:tag:faq`, `${prefix}:tag:user:ada`].sort());
    });

    it('inspects a raw key: value, tags and expiry decoded', async () => {
      const { assistant } = service();
      await assistant.answer('ada', 'What is a monad?');
      const [key] = (await cache.keys()[Symbol.asyncIterator]().next()).value as string[];
      expect(await cache.inspect(key!)).toMatchObject({
        key,
        namespace: 'chat',
        method: 'Assistant.answer',
        value: { text: 'answer to What is a monad?', tokens: 16 },
        expiresAt: clock.now() + 60_000,
        tags: ['faq', 'user:ada'],
        state: 'fresh',
      });
      await cache.invalidate(assistant, 'answer', 'ada', 'What is a monad?');
      await expect(cache.inspect(key!)).resolves.toBeUndefined();
    });

    it('refuses, with a NotCachetKeyError, keys that are not those of this cache’s entries', async () => {
      const digest = 'A'.repeat(43);
      for (const key of [
        'hello',
        `${prefix}:tag:faq`,
        `${prefix}:stats`,
        `${prefix}:chat:Assistant.answer:${digest}#lock`,
        `${prefix}:chat:Assistant.answer:sem:${digest}`,
        `other:chat:Assistant.answer:${digest}`,
        `${prefix}:chat:Assistant.answer:short`,
      ]) {
        const error: unknown = await cache.inspect(key).catch((e: unknown) => e);
        expect(isNotCachetKeyError(error)).toBe(true);
        expect((error as Error).message).toBe(
          `Expected the key of a cachet entry (\`${prefix}:<namespace>:<method>:<digest>\`), got ${JSON.stringify(key)}`,
        );
        expect(error).toMatchObject({ code: 'ERR_CACHET_NOT_A_KEY', key });
      }
      expect(() => cache.inspect(42 as unknown as string)).toThrow(
        'Expected `key` to be a cache key (a string), got `42` (number)',
      );
    });

    it('checks keys() options when it is called', () => {
      expect(() => cache.keys({ count: 0 })).toThrow('Expected `count` to be a positive integer, got `0` (number)');
      expect(() => cache.keys({ namespace: 'a:b' })).toThrow(/Expected `namespace` to be a non-empty string/);
      expect(() => cache.keys({ mach: '*' } as never)).toThrow('Unknown keys option `mach`');
    });

    // Only Redis can hold what another tool wrote: a memory store holds only what the cache gave it.
    // Nor does a memory store keep fill leases: single flight in one process needs none.
    if (kind !== 'memory') {
      it('lists a running fill’s lease only when asked for internal keys', async () => {
        const started = deferred<void>();
        const release = deferred<void>();
        const slow = cache.wrap(
          async (x: string) => {
            started.resolve(); // the lease is taken before the method runs
            await release.promise;
            return x;
          },
          { name: 'slow' },
        );
        const call = slow('a');
        await started.promise;
        const list = async (internal: boolean) => {
          const all: string[] = [];
          for await (const page of cache.keys({ internal })) all.push(...page);
          return all;
        };
        const lease = `${prefix}:default:slow:`;
        expect((await list(true)).filter((key) => key.startsWith(lease) && key.endsWith('#lock'))).toHaveLength(1);
        expect(await list(false)).toEqual([]);
        release.resolve();
        await call;
        const [entry] = await list(false);
        expect((await list(true)).sort()).toEqual([entry]);
      });

      it('refuses, with a NotCachetKeyError, a key holding something cachet did not write', async () => {
        const text = `${prefix}:chat:Assistant.answer:${'B'.repeat(43)}`;
        const hash = `${prefix}:chat:Assistant.answer:${'C'.repeat(43)}`;
        await t.command!(['SET', text, 'written by another tool', 'PX', '60000']);
        await t.command!(['HSET', hash, 'field', 'value']);
        // The hash three times: enough failures in a row to open the breaker, were they counted as failures.
        for (const key of [text, hash, hash, hash]) {
          const error: unknown = await cache.inspect(key).catch((e: unknown) => e);
          expect(isNotCachetKeyError(error)).toBe(true);
          expect((error as Error).message).toBe(
            `Expected a key holding a cachet entry (this one holds something else), got ${JSON.stringify(key)}`,
          );
          expect((error as Error).cause).toBeDefined();
        }
        expect((cache.store as CacheStore & { circuit: string }).circuit).toBe('closed');
      });
    }
  });
}
