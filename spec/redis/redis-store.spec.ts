import { createClient } from 'redis';
import { Cache } from '../../lib/cache/cache';
import type { CacheErrorEvent } from '../../lib/cache/cache-events';
import { CODEC_VERSION, decodeValue, isValueDecodeError } from '../../lib/codec/value-codec';
import type { RedisClientLike } from '../../lib/redis/connection';
import { RedisStore } from '../../lib/redis/redis-store';
import { startRedisServer, type TestRedisServer } from '../support/redis-server';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';
import { describeCacheStore, manualClock } from '../ports/cache-store-contract';

const TTL = 60_000;

describeCacheStore('RedisStore', async () => {
  const clock = manualClock();
  const store = new RedisStore({ url: testRedisUrl(), clock });
  return { store, clock, cleanup: () => store.close() };
});

/** True when `error` is a decode failure, bare or wrapped in a StoreError's `cause`. */
function isDecodeFailure(error: unknown): boolean {
  return isValueDecodeError(error) || (error instanceof Error && isValueDecodeError(error.cause));
}

/** The outcome of a promise, so that a rejection can be inspected without a try/catch in every test. */
async function settle<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

describe('RedisStore on the shared test server', () => {
  let admin: RedisClientLike;
  let store: RedisStore;
  let prefix: string;

  beforeAll(async () => {
    admin = await connectTestClient();
  });

  afterAll(() => {
    admin.destroy();
  });

  beforeEach(() => {
    prefix = uniquePrefix('redis-store');
    store = new RedisStore({ url: testRedisUrl() });
  });

  afterEach(async () => {
    await store.close();
    await deleteKeys(admin, prefix);
  });

  describe('stored format', () => {
    it('stores `<expiresAt>|<codec version>:<JSON>` under the key, with a matching PX', async () => {
      const k = `${prefix}:format`;
      await store.set(k, { a: 1, at: new Date(0) }, TTL);
      const raw = await admin.sendCommand<string>(['GET', k]);
      const entry = await store.get(k);
      expect(CODEC_VERSION).toBe(1);
      expect(raw).toBe(`${entry?.expiresAt}|1:{"a":1,"at":{"~":"D","v":0}}`);
      expect(decodeValue(raw.slice(raw.indexOf('|') + 1))).toEqual({ a: 1, at: new Date(0) });
      const pttl = await admin.sendCommand<number>(['PTTL', k]);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(TTL);
    });

    it('lets Redis expire an entry after its PX, and then reads it as a miss', async () => {
      const k = `${prefix}:short`;
      await store.set(k, 'brief', 20);
      const pttl = await admin.sendCommand<number>(['PTTL', k]);
      // -2: already gone, which is fine; -1 would mean the key was stored without an expiry.
      expect(pttl === -2 || (pttl > 0 && pttl <= 20)).toBe(true);
      await waitFor(async () => (await admin.sendCommand<number>(['EXISTS', k])) === 0, 5_000);
      await expect(store.get(k)).resolves.toBeUndefined();
    });

    it('rounds a sub-millisecond TTL up to a PX of 1 ms instead of storing forever', async () => {
      const k = `${prefix}:tiny`;
      await store.set(k, 'tiny', 0.25);
      await waitFor(async () => (await admin.sendCommand<number>(['EXISTS', k])) === 0, 5_000);
      await expect(store.get(k)).resolves.toBeUndefined();
    });

    it('returns a fresh copy on every read, so mutating one result does not change the entry', async () => {
      const k = `${prefix}:copy`;
      await store.set(k, { list: [1] }, TTL);
      const first = (await store.get(k))?.value as { list: number[] };
      first.list.push(2);
      const second = (await store.get(k))?.value as { list: number[] };
      expect(second).not.toBe(first);
      expect(second.list).toEqual([1]);
    });
  });

  describe('__proto__ in stored data', () => {
    const polluted = (): unknown => (({}) as Record<string, unknown>).polluted;

    it('keeps a `__proto__` key written by another writer as an own property, without polluting prototypes', async () => {
      const k = `${prefix}:proto`;
      const text = '{"__proto__":{"polluted":true},"nested":[{"__proto__":{"polluted":true}}]}';
      await admin.sendCommand(['SET', k, `${Date.now() + TTL}|1:${text}`, 'PX', String(TTL)]);
      const value = (await store.get(k))?.value as Record<string, unknown> & { nested: Record<string, unknown>[] };
      expect(polluted()).toBeUndefined();
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(value.polluted).toBeUndefined();
      expect(Object.hasOwn(value, '__proto__')).toBe(true);
      expect(Object.getPrototypeOf(value.nested[0])).toBe(Object.prototype);
      expect(value.nested[0]?.polluted).toBeUndefined();
    });

    it('keeps a tagged value under `__proto__` as an own property instead of swapping the prototype', async () => {
      const k = `${prefix}:proto-tagged`;
      const text =
        '{"__proto__":{"~":"D","v":0},"escaped":{"~":"o","v":{"~":1,"__proto__":{"~":"M","v":[["polluted",true]]}}}}';
      await admin.sendCommand(['SET', k, `${Date.now() + TTL}|1:${text}`, 'PX', String(TTL)]);
      const value = (await store.get(k))?.value as Record<string, unknown>;
      expect(polluted()).toBeUndefined();
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual(new Date(0));
      const escaped = value.escaped as Record<string, unknown>;
      expect(Object.getPrototypeOf(escaped)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(escaped, '__proto__')?.value).toEqual(new Map([['polluted', true]]));
      expect(escaped['~']).toBe(1);
    });

    it('round-trips an object that owns a `__proto__` key through set and get', async () => {
      const k = `${prefix}:proto-roundtrip`;
      const value = JSON.parse('{"__proto__":{"polluted":true},"when":null}') as Record<string, unknown>;
      value.when = new Date(5);
      await store.set(k, value, TTL);
      const got = (await store.get(k))?.value as Record<string, unknown>;
      expect(polluted()).toBeUndefined();
      expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(got, '__proto__')?.value).toEqual({ polluted: true });
      expect(got.when).toEqual(new Date(5));
    });
  });

  describe('corrupt stored values', () => {
    it.each([
      ['text that is no entry', 'garbage'],
      ['an expiry that is not a number', 'soon|1:"v"'],
      ['bad JSON after the version', `${Date.now() + TTL}|1:{"unterminated`],
      ['a codec version from the future', `${Date.now() + TTL}|2:"v"`],
      ['a value without the header (written by another tool)', '1:"plain"'],
      ['a value whose header is empty', '|1:"v"'],
      ['a header that is not whole milliseconds', `${Date.now() + TTL}.5|1:"v"`],
      ['an unknown tag', `${Date.now() + TTL}|1:{"~":"?","v":1}`],
    ])('rejects a get of %s with a decode error', async (_, raw) => {
      const k = `${prefix}:corrupt`;
      await admin.sendCommand(['SET', k, raw, 'PX', String(TTL)]);
      const outcome = await settle(store.get(k));
      expect('error' in outcome && isDecodeFailure(outcome.error)).toBe(true);
    });

    it('reads an entry Redis still holds past the expiry written in it (PERSIST, a manual SET) as a miss, and counts it', async () => {
      const clock = manualClock();
      const timed = new RedisStore({ url: testRedisUrl(), clock });
      try {
        const k = `${prefix}:persisted`;
        await timed.set(k, 'old', TTL);
        await admin.sendCommand(['PERSIST', k]);
        expect((await timed.get(k))?.value).toBe('old');
        clock.advance(TTL);
        expect(await timed.get(k)).toBeUndefined();
        expect(timed.counts.expired).toBe(1);
        expect(await admin.sendCommand(['EXISTS', k])).toBe(1);
        await timed.set(k, 'new', TTL);
        expect((await timed.get(k))?.value).toBe('new');
      } finally {
        await timed.close();
      }
    });

    it('names the codec version it found when the stored version is unknown', async () => {
      const k = `${prefix}:future`;
      await admin.sendCommand(['SET', k, `${Date.now() + TTL}|2:"v"`, 'PX', String(TTL)]);
      await expect(store.get(k)).rejects.toThrow(/codec version 2/);
    });

    it('rejects only the corrupt key of a batch, and does not count it as a Redis failure', async () => {
      const bad = `${prefix}:bad`;
      const good = `${prefix}:good`;
      await admin.sendCommand(['SET', bad, 'garbage', 'PX', String(TTL)]);
      await store.set(good, 'fine', TTL);
      for (let i = 0; i < 5; i++) {
        const [badOutcome, goodOutcome] = await Promise.all([settle(store.get(bad)), settle(store.get(good))]);
        expect('error' in badOutcome && isDecodeFailure(badOutcome.error)).toBe(true);
        expect(goodOutcome).toEqual({ value: expect.objectContaining({ value: 'fine' }) });
      }
      expect(store.circuit).toBe('closed');
    });

    it("through a Cache, answers with the method's result, counts one decode error and stores a good value", async () => {
      const cache = new Cache({ store, prefix });
      let runs = 0;
      const lookup = cache.wrap(
        async (id: number) => {
          runs++;
          return { id, name: `user ${id}` };
        },
        { name: 'lookup' },
      );
      const keys: string[] = [];
      cache.on('miss', ({ key }) => keys.push(key));
      const errors: CacheErrorEvent[] = [];
      cache.on('error', (event) => errors.push(event));

      await expect(lookup(7)).resolves.toEqual({ id: 7, name: 'user 7' });
      const [key] = keys;
      await admin.sendCommand(['SET', key as string, 'garbage', 'PX', String(TTL)]);

      await expect(lookup(7)).resolves.toEqual({ id: 7, name: 'user 7' });
      expect(runs).toBe(2);
      expect(cache.stats().total).toMatchObject({ decodeErrors: 1, storeErrors: 0 });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ operation: 'get', key });
      expect(isDecodeFailure(errors[0]?.error)).toBe(true);

      // The fill replaced the garbage, so the next call is a hit.
      await expect(lookup(7)).resolves.toEqual({ id: 7, name: 'user 7' });
      expect(runs).toBe(2);
      expect(cache.stats().total.hits).toBe(1);
    });
  });
});

describe('RedisStore with a node-redis client of the caller', () => {
  let client: RedisClientLike;
  let prefix: string;

  beforeEach(async () => {
    client = await connectTestClient();
    prefix = uniquePrefix('user-client');
  });

  afterEach(async () => {
    await deleteKeys(client, prefix);
    client.destroy();
  });

  it('reads and writes through the given client', async () => {
    const store = new RedisStore({ client });
    const k = `${prefix}:k`;
    await store.set(k, { via: 'user client' }, TTL);
    expect((await store.get(k))?.value).toEqual({ via: 'user client' });
    expect(await client.sendCommand<string>(['GET', k])).toMatch(/^\d+\|1:\{"via":"user client"\}$/);
    await store.close();
  });

  it('leaves the given client open on close(), also after fill coordination opened a subscriber', async () => {
    const store = new RedisStore({ client });
    const k = `${prefix}:waited`;
    await expect(store.coordinator.waitForFill(k, 50)).resolves.toEqual({ status: 'released' });
    await store.close();
    expect(client.isOpen).toBe(true);
    await expect(client.sendCommand(['PING'])).resolves.toBe('PONG');
  });
});

describe('RedisStore options', () => {
  const url = 'redis://127.0.0.1:6379';

  it('rejects options with neither a url nor a client', () => {
    expect(() => new RedisStore({})).toThrow(
      new TypeError(
        'Expected `url or client` to be exactly one of a Redis URL or a node-redis client, got `{}` (object)',
      ),
    );
  });

  it('rejects options with both a url and a client', () => {
    // Never connected: the constructor must refuse it before using it.
    const client = createClient({ url }) as unknown as RedisClientLike;
    expect(() => new RedisStore({ url, client })).toThrow(
      /^Expected `url or client` to be exactly one of a Redis URL or a node-redis client, got /,
    );
  });

  it.each([['http://127.0.0.1:6379'], ['127.0.0.1:6379'], ['']])('rejects the url %p', (bad) => {
    expect(() => new RedisStore({ url: bad })).toThrow(
      new TypeError(`Expected \`url\` to be a redis:// or rediss:// URL, got \`${JSON.stringify(bad)}\` (string)`),
    );
  });

  it.each([
    [0, 'a positive integer, got `0` (number)'],
    ['0ms', 'a positive integer, got `0` (number)'],
    [-1, "a duration: milliseconds >= 0, or a string such as '250ms', '30s', '10m', '2h', '1d', got `-1` (number)"],
    [
      'soon',
      "a duration: milliseconds >= 0, or a string such as '250ms', '30s', '10m', '2h', '1d', got `\"soon\"` (string)",
    ],
  ])('rejects operationTimeout %p', (operationTimeout, expected) => {
    expect(() => new RedisStore({ url, operationTimeout })).toThrow(
      new TypeError(`Expected \`operationTimeout\` to be ${expected}`),
    );
  });

  it('rejects a breakerThreshold that is not a positive integer', () => {
    expect(() => new RedisStore({ url, breakerThreshold: 0 })).toThrow(
      new TypeError('Expected `breakerThreshold` to be a positive integer, got `0` (number)'),
    );
  });

  it('rejects an unknown option, naming the known ones', () => {
    expect(() => new RedisStore({ url, timeout: 100 } as never)).toThrow(
      new TypeError(
        'Unknown RedisStore option `timeout`; expected one of `url`, `client`, `operationTimeout`, ' +
          '`breakerThreshold`, `breakerCooldown`, `clock`, `logger`, `channel`',
      ),
    );
  });
});

/** Calls of each command since the server started, from `INFO commandstats`. */
async function commandCalls(admin: RedisClientLike): Promise<{ get: number; mget: number }> {
  const info = await admin.sendCommand<string>(['INFO', 'commandstats']);
  const calls = (name: string): number => Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { get: calls('get'), mget: calls('mget') };
}

/** Polls `check` until it is true; fails after `boundMs` so a missing event cannot hang the suite. */
async function waitFor(check: () => Promise<boolean>, boundMs: number): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Condition not met within ${boundMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('RedisStore read batching (private server, counted with INFO commandstats)', () => {
  let server: TestRedisServer;
  let admin: RedisClientLike;
  let store: RedisStore;

  beforeAll(async () => {
    server = await startRedisServer();
    admin = await connectTestClient(server.url);
  });

  afterAll(async () => {
    admin.destroy();
    await server.stop();
  });

  beforeEach(async () => {
    store = new RedisStore({ url: server.url });
    // The server is private to this block, so its keys need no prefix; start each test from nothing.
    await admin.sendCommand(['FLUSHALL']);
  });

  afterEach(async () => {
    await store.close();
  });

  /** Runs `reads` and returns how many GET and MGET commands reached the server meanwhile. */
  async function countReads(reads: () => Promise<unknown>): Promise<{ get: number; mget: number }> {
    const before = await commandCalls(admin);
    await reads();
    const after = await commandCalls(admin);
    return { get: after.get - before.get, mget: after.mget - before.mget };
  }

  it('sends the first read at once and the rest of the tick as one MGET, answering each key with its own entry', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((k, i) => (i === 7 ? undefined : store.set(k, i, TTL))));
    let values: unknown[] = [];
    const sent = await countReads(async () => {
      values = (await Promise.all(keys.map((k) => store.get(k)))).map((e) => e?.value);
    });
    // The first read finds nothing on the wire and goes alone; the 19 issued meanwhile share one MGET.
    expect(sent).toEqual({ get: 1, mget: 1 });
    expect(values).toEqual(keys.map((_, i) => (i === 7 ? undefined : i)));
  });

  it('sends reads issued in separate ticks as separate round trips', async () => {
    await store.set('a', 1, TTL);
    await store.set('b', 2, TTL);
    const sent = await countReads(async () => {
      await store.get('a');
      await store.get('b');
    });
    expect(sent).toEqual({ get: 2, mget: 0 });
  });

  it('answers 100 concurrent gets of one key with one GET', async () => {
    await store.set('hot', { answer: 42 }, TTL);
    let values: unknown[] = [];
    const sent = await countReads(async () => {
      values = (await Promise.all(Array.from({ length: 100 }, () => store.get('hot')))).map((e) => e?.value);
    });
    expect(sent).toEqual({ get: 1, mget: 0 });
    expect(values).toHaveLength(100);
    expect(values.every((v) => JSON.stringify(v) === '{"answer":42}')).toBe(true);
  });

  it('lets a read of a key already on the wire share that round trip', async () => {
    await store.set('k', 'v', TTL);
    const sent = await countReads(async () => {
      const first = store.get('k');
      await new Promise((resolve) => process.nextTick(resolve)); // the first read is sent now
      const second = store.get('k');
      expect(second).toBe(first);
      await Promise.all([first, second]);
    });
    expect(sent).toEqual({ get: 1, mget: 0 });
  });

  it('asks Redis for each distinct key once when some keys are read several times', async () => {
    await store.set('a', 1, TTL);
    await store.set('b', 2, TTL);
    const lookups = async (): Promise<number> => {
      const info = await admin.sendCommand<string>(['INFO', 'stats']);
      return Number(/^keyspace_hits:(\d+)/m.exec(info)?.[1]) + Number(/^keyspace_misses:(\d+)/m.exec(info)?.[1]);
    };
    const before = await lookups();
    const sent = await countReads(async () => {
      const got = await Promise.all(['a', 'b', 'a', 'b', 'a', 'c'].map((k) => store.get(k)));
      expect(got.map((e) => e?.value)).toEqual([1, 2, 1, 2, 1, undefined]);
    });
    expect(sent).toEqual({ get: 1, mget: 1 });
    expect((await lookups()) - before).toBe(3);
  });
});
