import type { StoreError } from '../../lib/core/errors';
import type { RedisClientLike } from '../../lib/redis/connection';
import { RedisCircuitState, type RedisCircuitStateOptions } from '../../lib/redis/redis-circuit-state';
import { Circuit } from '../../lib/resilience/circuit-breaker';
import type { CircuitBreakerOptions } from '../../lib/resilience/circuit-breaker-options';
import { CircuitOpenError } from '../../lib/resilience/circuit-open-error';
import { uniquePrefix } from '../support/redis';
import type { RedisTarget } from '../support/redis-target';
import { manualClock, type ManualClock } from '../ports/cache-store-contract';
import { deferred, pollUntil } from '../support/async';
import { describeCircuitStateStore, type CircuitStateFixture } from '../ports/circuit-state-contract';

export class ProviderError extends Error {}
export const fail = () => Promise.reject(new ProviderError('boom'));
export const succeed = () => Promise.resolve('ok');

/**
 * The circuit-state contract's fixture: two RedisCircuitStates on `target`, each with its own connection
 * (two processes), timed by the test's `now` (`serverTime: false`). A decision that failed over to the
 * local fallback would pass without Redis, so cleanup fails the test on any store error.
 */
export function redisCircuitStateFixture(target: () => RedisTarget): () => Promise<CircuitStateFixture> {
  return async () => {
    const prefix = uniquePrefix('circuit');
    const faults: StoreError[] = [];
    const make = async (): Promise<RedisCircuitState> => {
      const store = new RedisCircuitState({
        ...(await target().source()),
        prefix,
        serverTime: false,
        operationTimeout: '2s',
      });
      store.events.on('error', (error) => faults.push(error));
      return store;
    };
    const stores = [await make(), await make()] as const;
    return {
      stores,
      async cleanup() {
        for (const store of stores) await store.close();
        await target().release();
        await target().deleteKeys(prefix, `{${prefix}`);
        expect(faults).toEqual([]);
      },
    };
  };
}

/**
 * Circuits shared through {@link RedisCircuitState} against one Redis target (a server or a cluster): the
 * circuit-state contract, then what only Redis does (its clock, key expiry, hash slots) and a Circuit on
 * top. `target` is read when the tests run, so a target made in `beforeAll` can be passed.
 */
export function describeRedisCircuitState(name: string, target: () => RedisTarget): void {
  describe(name, () => {
    describeCircuitStateStore('RedisCircuitState', redisCircuitStateFixture(target));

    let prefix: string;
    let clock: ManualClock;
    let admin: RedisClientLike;
    let stores: RedisCircuitState[];
    /** Redis faults the stores reported; none may happen here, or a decision silently went local. */
    let faults: StoreError[];

    beforeEach(() => {
      admin = target().admin;
      prefix = uniquePrefix('circuit');
      clock = manualClock();
      stores = [];
      faults = [];
    });
    afterEach(async () => {
      for (const store of stores) await store.close();
      await target().release();
      // Probe slots are named `{<prefix>:<name>}:probe`.
      await target().deleteKeys(prefix, `{${prefix}`);
      expect(faults).toEqual([]);
    });

    /** A state store with its own connection: one per simulated process. */
    async function state(options: Partial<RedisCircuitStateOptions> = {}): Promise<RedisCircuitState> {
      const store = new RedisCircuitState({
        ...(await target().source()),
        prefix,
        serverTime: false,
        operationTimeout: '2s',
        ...options,
      });
      store.events.on('error', (error) => faults.push(error));
      stores.push(store);
      return store;
    }
    /** Two breakers on one circuit, each with its own Redis connection, standing for two processes. */
    async function pair(options: CircuitBreakerOptions = {}): Promise<[Circuit, Circuit]> {
      const shared = { name: 'openai', clock, halfOpenAfter: '10s', threshold: 3, ...options };
      return [new Circuit({ ...shared, store: await state() }), new Circuit({ ...shared, store: await state() })];
    }
    async function failTimes(circuit: Circuit, n: number): Promise<void> {
      for (let i = 0; i < n; i++) await expect(circuit.execute(fail)).rejects.toBeInstanceOf(ProviderError);
    }

    it('lets only one process probe when the circuit half-opens, and closes it for all on success', async () => {
      const [a, b] = await pair({ threshold: 1 });
      await failTimes(a, 1);
      clock.advance(10_000);
      const probe = deferred<string>();
      const runs = { a: 0, b: 0 };
      const calls = [
        a.execute(() => (runs.a++, probe.promise)).catch((e: unknown) => e),
        b.execute(() => (runs.b++, probe.promise)).catch((e: unknown) => e),
      ];
      expect(await pollUntil(async () => runs.a + runs.b > 0, 5_000)).toBe(true);
      probe.resolve('recovered');
      const results = await Promise.all(calls);
      expect(runs.a + runs.b).toBe(1);
      expect(results.filter((r) => r === 'recovered')).toHaveLength(1);
      expect(results.filter((r) => r instanceof CircuitOpenError && r.state === 'half-open')).toHaveLength(1);
      await expect(a.execute(succeed)).resolves.toBe('ok');
      await expect(b.execute(succeed)).resolves.toBe('ok');
      expect([a.state, b.state]).toEqual(['closed', 'closed']);
    });

    it('times the circuit by the Redis server clock by default', async () => {
      const shared = { name: 'openai', threshold: 1, halfOpenAfter: '300ms' };
      const a = new Circuit({ ...shared, store: await state({ serverTime: true }) });
      const b = new Circuit({ ...shared, store: await state({ serverTime: true }) });
      await failTimes(a, 1);
      const rejection = await b.execute(succeed).catch((e: unknown) => e);
      expect(rejection).toBeInstanceOf(CircuitOpenError);
      expect((rejection as CircuitOpenError).retryAfterMs).toBeGreaterThan(0);
      expect((rejection as CircuitOpenError).retryAfterMs).toBeLessThanOrEqual(300);
      // Waits on the server's clock: bounded poll until a probe is admitted.
      expect(await pollUntil(async () => (await b.execute(succeed).catch(() => 'rejected')) === 'ok', 5_000)).toBe(
        true,
      );
      expect(b.state).toBe('closed');
      await expect(a.execute(succeed)).resolves.toBe('ok');
    });

    it('expires its keys after the spans the circuit needs', async () => {
      const [a] = await pair({ threshold: 1, window: '10s', probeTimeout: '20s' });
      await failTimes(a, 1);
      const ttl = await admin.sendCommand<number>(['PTTL', `${prefix}:openai`]);
      expect(ttl).toBeGreaterThan(30_000);
      expect(ttl).toBeLessThanOrEqual(40_000);
    });

    it.each(['tag{x}y', 'a}b', '}lead', '{}x'])(
      'shares the circuit and its single probe for the name %j',
      async (circuitName) => {
        const [a, b] = await pair({ name: circuitName, threshold: 1 });
        await failTimes(a, 1);
        await expect(b.execute(succeed)).rejects.toMatchObject({ state: 'open', retryAfterMs: 10_000 });
        clock.advance(10_000);
        const probe = deferred<string>();
        const started = deferred<void>();
        const probing = a.execute(() => (started.resolve(), probe.promise));
        await started.promise;
        await expect(b.execute(succeed)).rejects.toMatchObject({ state: 'half-open' });
        probe.resolve('recovered');
        await expect(probing).resolves.toBe('recovered');
        await expect(b.execute(succeed)).resolves.toBe('ok');
      },
    );

    it('keeps a circuit named `<name>:probe` apart from the probe slot of `<name>`', async () => {
      const [a] = await pair({ threshold: 1 });
      const [other] = await pair({ name: 'openai:probe', threshold: 1 });
      await failTimes(a, 1);
      clock.advance(10_000);
      const probe = deferred<string>();
      const started = deferred<void>();
      const probing = a.execute(() => (started.resolve(), probe.promise));
      await started.promise;
      await expect(other.execute(succeed)).resolves.toBe('ok');
      await failTimes(other, 1);
      expect(other.state).toBe('open');
      probe.resolve('recovered');
      await expect(probing).resolves.toBe('recovered');
      expect(a.state).toBe('closed');
    });
  });
}
