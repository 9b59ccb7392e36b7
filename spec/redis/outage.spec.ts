import { Cache, type CacheOptions } from '../../lib/cache/cache';
import type { CacheErrorEvent } from '../../lib/cache/cache-events';
import {
  InvalidationQueuedError,
  isStoreError,
  isStoreTimeoutError,
  isStoreUnavailableError,
  StoreError,
} from '../../lib/core/errors';
import type { RedisClientLike } from '../../lib/redis/connection';
import { RedisStore } from '../../lib/redis/redis-store';
import { TieredStore } from '../../lib/redis/tiered-store';
import { closeRedis } from '../../lib/redis/close-client';
import type { StoreCircuitState } from '../../lib/redis/store-breaker';
import { startRedisServer, type TestRedisServer } from '../support/redis-server';
import { connectTestClient } from '../support/redis';
import { manualClock, type ManualClock } from '../ports/cache-store-contract';
import { eventually, pollUntil } from '../support/async';

// Each test gets a private redis-server that it may kill, restart or freeze. The store's breaker runs on a
// manual clock, so the circuit stays open until a test moves time past the cooldown.
const COOLDOWN_MS = 5_000;

interface Harness {
  readonly store: RedisStore;
  readonly cache: Cache;
  readonly clock: ManualClock;
  /** Cache `error` events, in order. */
  readonly errors: CacheErrorEvent[];
  /** Circuit changes the store reported, in order. */
  readonly circuit: StoreCircuitState[];
  /** How many times the wrapped method has run. */
  runs(): number;
  answer(question: string): Promise<string>;
}

describe('Cache over RedisStore when Redis fails', () => {
  let server: TestRedisServer;
  let open: RedisStore[];

  beforeEach(async () => {
    server = await startRedisServer();
    open = [];
  });

  afterEach(async () => {
    for (const store of open) {
      let settled = false;
      const closing = store.close().finally(() => (settled = true));
      // A close() that waits for an unreachable Redis would keep the run from exiting: bring Redis back for it.
      if (!(await pollUntil(() => settled, 5_000))) await server.start();
      await closing;
    }
    await server.stop();
  });

  function harness(cacheOptions: Omit<CacheOptions, 'store' | 'clock'> = {}): Harness {
    const clock = manualClock();
    const store = new RedisStore({ url: server.url, operationTimeout: '100ms', breakerCooldown: COOLDOWN_MS, clock });
    open.push(store);
    const cache = new Cache({ store, ...cacheOptions });
    const errors: CacheErrorEvent[] = [];
    const circuit: StoreCircuitState[] = [];
    cache.on('error', (event) => errors.push(event));
    store.events.on('circuit', (state) => circuit.push(state));
    let runs = 0;
    const answer = cache.wrap(
      async (question: string) => {
        runs++;
        return `answer to ${question}`;
      },
      { name: 'answer' },
    );
    return { store, cache, clock, errors, circuit, runs: () => runs, answer };
  }

  /** Calls until the circuit opens; every call must still answer. Bounded: the threshold is 3 failures. */
  async function callUntilOpen(h: Harness): Promise<void> {
    for (let i = 0; i < 5 && h.store.circuit !== 'open'; i++) {
      await expect(h.answer('q')).resolves.toBe('answer to q');
    }
    expect(h.store.circuit).toBe('open');
  }

  it("answers with the method's results while Redis is down, and counts and reports every store failure", async () => {
    const h = harness();
    await expect(h.answer('q')).resolves.toBe('answer to q');
    await expect(h.answer('q')).resolves.toBe('answer to q');
    expect(h.runs()).toBe(1);
    expect(h.cache.stats().total.hits).toBe(1);

    await server.stop();
    for (const question of ['q', 'other', 'q']) {
      await expect(h.answer(question)).resolves.toBe(`answer to ${question}`);
    }
    expect(h.runs()).toBe(4);
    const { storeErrors } = h.cache.stats().total;
    expect(storeErrors).toBeGreaterThan(0);
    expect(h.errors).toHaveLength(storeErrors);
    expect(h.errors.every((event) => isStoreError(event.error))).toBe(true);
    expect(h.errors[0]).toMatchObject({ method: 'default:answer', operation: 'get' });
  });

  it('opens the circuit, and while it is open skips Redis instead of trying it', async () => {
    const h = harness();
    await h.answer('q');
    await server.stop();
    await callUntilOpen(h);
    expect(h.circuit).toEqual(['open']);

    const before = h.errors.length;
    for (let i = 0; i < 5; i++) await expect(h.answer(`open ${i}`)).resolves.toBe(`answer to open ${i}`);
    const whileOpen = h.errors.slice(before).map((event) => event.error);
    // Every store operation of these calls was refused by the breaker: none reached Redis or its timeout.
    expect(whileOpen.length).toBeGreaterThanOrEqual(5);
    expect(whileOpen.every(isStoreUnavailableError)).toBe(true);
    expect(whileOpen.some(isStoreTimeoutError)).toBe(false);
    expect(h.store.circuit).toBe('open');
    expect(h.circuit).toEqual(['open']);
  });

  it('serves hits again once Redis is back and the cooldown has passed', async () => {
    const h = harness();
    await h.answer('q');
    await server.stop();
    await callUntilOpen(h);

    await server.start();
    // Each round lets one probe through; it fails until the client has reconnected, then the call fills the
    // (empty) server and a later round is a hit.
    const hitsBefore = h.cache.stats().total.hits;
    const recovered = await pollUntil(async () => {
      h.clock.advance(COOLDOWN_MS);
      await expect(h.answer('q')).resolves.toBe('answer to q');
      return h.cache.stats().total.hits > hitsBefore;
    }, 10_000);
    expect(recovered).toBe(true);
    expect(h.store.circuit).toBe('closed');
    expect(h.circuit.slice(-2)).toEqual(['half-open', 'closed']);

    const runs = h.runs();
    for (let i = 0; i < 5; i++) await expect(h.answer('q')).resolves.toBe('answer to q');
    expect(h.runs()).toBe(runs);
  });

  it("with onStoreError 'throw', rejects the call with the StoreError and does not run the method", async () => {
    const h = harness({ onStoreError: 'throw' });
    await h.answer('q');
    await server.stop();

    const first = h.answer('q');
    await expect(first).rejects.toBeInstanceOf(StoreError);
    await expect(first).rejects.toMatchObject({ operation: 'get' });
    expect(h.runs()).toBe(1);

    // Once the circuit is open, the call is rejected with the breaker's error.
    for (let i = 0; i < 3 && h.store.circuit !== 'open'; i++) await h.answer('q').catch(() => undefined);
    expect(h.store.circuit).toBe('open');
    await expect(h.answer('q')).rejects.toMatchObject({ code: 'ERR_CACHET_STORE_UNAVAILABLE' });
    expect(h.runs()).toBe(1);
  });

  describe('when Redis is down as the store is created', () => {
    it('answers calls, counts the timeouts and opens the circuit', async () => {
      await server.stop();
      const h = harness();
      await expect(h.answer('q')).resolves.toBe('answer to q');
      await expect(h.answer('q')).resolves.toBe('answer to q');
      expect(h.runs()).toBe(2);
      expect(h.cache.stats().total.storeErrors).toBeGreaterThan(0);
      expect(h.errors.some((event) => isStoreTimeoutError(event.error))).toBe(true);
      expect(h.store.circuit).toBe('open');
    });

    it('closes without waiting for Redis to come back', async () => {
      await server.stop();
      const h = harness();
      await h.answer('q');
      open = [];
      let settled = false;
      const closing = h.store.close().finally(() => (settled = true));
      const closedWhileDown = await pollUntil(() => settled, 5_000);
      // If close() hangs, bring Redis back so that it can finish and the test run can still exit.
      if (!closedWhileDown) await server.start();
      await closing;
      expect(closedWhileDown).toBe(true);
    });

    it('does not write a value whose set timed out once Redis comes back', async () => {
      await server.stop();
      const h = harness({ lock: false });
      await h.answer('q'); // its set times out: Redis is unreachable
      expect(h.errors.some((event) => event.operation === 'set' && isStoreTimeoutError(event.error))).toBe(true);

      await server.start();
      const admin = await connectTestClient(server.url);
      try {
        // Wait until the store is connected (a probe succeeds), then look for the timed-out write.
        const connected = await pollUntil(async () => {
          h.clock.advance(COOLDOWN_MS);
          await h.answer('probe');
          return h.store.circuit === 'closed';
        }, 10_000);
        expect(connected).toBe(true);
        const keys = await admin.sendCommand<string[]>(['KEYS', '*answer*']);
        // Only the probe's own fill may be there, not the value of the call made while Redis was down.
        const values = await Promise.all(keys.map((k) => admin.sendCommand<string>(['GET', k])));
        expect(values.filter((v) => v.endsWith('"answer to q"'))).toEqual([]);
      } finally {
        admin.destroy();
      }
    });
  });

  describe('when Redis hangs', () => {
    let admin: RedisClientLike | undefined;
    let pid: number | undefined;

    /** Freezes redis-server (SIGSTOP): it keeps its connections but answers nothing until thawed. */
    async function freeze(): Promise<void> {
      admin = await connectTestClient(server.url);
      const info = await admin.sendCommand<string>(['INFO', 'server']);
      admin.destroy();
      admin = undefined;
      pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
      expect(pid).toBeGreaterThan(0);
      process.kill(pid, 'SIGSTOP');
    }

    afterEach(() => {
      // Thaw before the outer afterEach closes the store, so that its pending commands are answered.
      if (pid !== undefined) process.kill(pid, 'SIGCONT');
      pid = undefined;
    });

    it("answers with the method's result after operationTimeout and reports a StoreTimeoutError", async () => {
      const h = harness();
      await h.answer('q'); // cached now
      await freeze();

      await expect(h.answer('q')).resolves.toBe('answer to q');
      expect(h.runs()).toBe(2);
      const timeouts = h.errors.map((event) => event.error).filter(isStoreTimeoutError);
      expect(timeouts.length).toBeGreaterThan(0);
      expect(timeouts[0]).toMatchObject({ operation: 'get', timeoutMs: 100 });
      expect(h.cache.stats().total.storeErrors).toBe(h.errors.length);
    });

    it('queues an invalidation it cannot deliver, tells the caller so, and applies it once Redis answers', async () => {
      const h = harness();
      await h.answer('q'); // cached now
      await freeze();

      const failure = await h.cache.clear().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(InvalidationQueuedError);
      expect(failure).toBeInstanceOf(StoreError);
      expect((failure as InvalidationQueuedError).cause).toBeInstanceOf(StoreError);
      expect(h.cache.pendingInvalidations).toBe(1);

      // Redis answers again; the breaker's cooldown passes, so replays reach it.
      process.kill(pid as number, 'SIGCONT');
      pid = undefined;
      h.clock.advance(COOLDOWN_MS);
      await (failure as InvalidationQueuedError).applied;
      expect(h.cache.pendingInvalidations).toBe(0);
      // The entry cached before the outage is gone: the next call runs the method.
      await expect(h.answer('q')).resolves.toBe('answer to q');
      expect(h.runs()).toBe(2);
    });

    it('gives up on queued invalidations when the cache closes, rejecting their applied promise', async () => {
      const h = harness();
      await h.answer('q');
      await freeze();
      const failure = (await h.cache.clear().catch((error: unknown) => error)) as InvalidationQueuedError;
      expect(failure).toBeInstanceOf(InvalidationQueuedError);
      // Closing tries once more (Redis still hangs), then gives up.
      await h.cache.close().catch(() => undefined);
      await expect(failure.applied).rejects.toThrow(/closed before the invalidation/);
    });

    it('a tag invalidation that cannot reach Redis drops the memory tier’s copies at once, and is queued', async () => {
      const redis = new RedisStore({ url: server.url, operationTimeout: '100ms' });
      const tiered = new TieredStore({ redis, channel: 'outage-tier' });
      open.push(redis);
      const cache = new Cache({ store: tiered, prefix: 'outage' });
      await eventually(() => tiered.coherent);
      await tiered.set('outage:default:k', 'v', 60_000);
      await tiered.tags.tag('outage:default:k', ['outage:tag:t'], 60_000);
      expect(tiered.memory.get('outage:default:k')).toBeDefined();
      await freeze();

      await expect(cache.invalidateTags(['t'])).rejects.toBeInstanceOf(InvalidationQueuedError);
      // Only Redis knows which keys carry the tag: every memory copy went rather than a stale one staying.
      expect(tiered.memory.get('outage:default:k')).toBeUndefined();
      expect(cache.pendingInvalidations).toBe(1);
    });

    it('closeRedis closes a client of yours that still waits for replies, instead of hanging', async () => {
      const mine = await connectTestClient(server.url);
      await freeze();
      const owed = mine.sendCommand(['GET', 'k']).catch((error: unknown) => error);
      await closeRedis(mine, '200ms');
      expect(mine.isOpen).toBe(false);
      // The reply it was owed is refused, not left pending.
      expect(await owed).toBeInstanceOf(Error);
    });

    it('opens the circuit after repeated timeouts, then refuses without waiting', async () => {
      const h = harness();
      await h.answer('q');
      await freeze();
      await callUntilOpen(h);
      expect(h.errors.filter((event) => isStoreTimeoutError(event.error)).length).toBeGreaterThanOrEqual(3);

      const before = h.errors.length;
      await expect(h.answer('later')).resolves.toBe('answer to later');
      const refused = h.errors.slice(before).map((event) => event.error);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every(isStoreUnavailableError)).toBe(true);
    });
  });
});
