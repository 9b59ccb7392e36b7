import { Cache, Circuit } from '../../lib';
import { ChatClient, type ChatCompletion, type ChatRequest } from '../../lib/llm';
import { instrument, instrumentCache, instrumentStore, METRICS } from '../../lib/otel';
import { RedisCircuitState, RedisSemaphore, RedisStore, TieredStore } from '../../lib/redis';
import { ConcurrentRouter } from '../../lib/router';
import { LocalProvider } from '../../lib/testing';
import { eventually } from '../support/async';
import { cleanUpKeys, connectTestClient, testRedisUrl, uniquePrefix } from '../support/redis';
import { startRedisServer } from '../support/redis-server';
import { pointsOf, Telemetry, valueOf } from './telemetry';

// The events cachet/otel turns into counters besides lookups and calls: invalidations, a TieredStore's
// channel, a RedisSemaphore's fallbacks and lost leases, a RedisCircuitState's failures and a router's
// shared-health failures, each caused for real (a Redis stopped, paused or whose keys vanish).

describe('cachet/otel: invalidations and backend events', () => {
  const prefix = uniquePrefix('otel-ev');
  let telemetry: Telemetry;
  beforeEach(() => {
    telemetry = new Telemetry();
  });
  afterEach(() => telemetry.close());
  afterAll(() => cleanUpKeys(prefix));

  it('counts a cache’s invalidations by kind, with the namespace of a key or a namespace', async () => {
    const cache = new Cache({ store: new RedisStore({ url: testRedisUrl() }), prefix: `${prefix}-inv` });
    const stop = instrumentCache(cache, { meterProvider: telemetry.meterProvider, traceFills: false });
    try {
      const read = cache.wrap(async (id: string) => id, { name: 'Docs.read', namespace: 'docs', tags: () => ['doc'] });
      const other = cache.wrap(async (id: string) => id, { name: 'Other.get', namespace: 'other' });
      await read('a');
      await read('b');
      await other('x');
      expect(await cache.invalidateKey((await cache.peek(read, 'a'))!.key)).toBe(true);
      expect(await cache.invalidateTags(['doc'])).toBe(1);
      expect(await cache.clear({ namespace: 'other' })).toBe(1);
      await cache.clear({ namespace: 'docs' });
      await cache.clear();
      const metrics = await telemetry.collect();
      const kind = 'cachet.invalidation.kind';
      expect(valueOf(metrics, METRICS.cacheInvalidations, { [kind]: 'key', 'cachet.namespace': 'docs' })).toBe(1);
      expect(valueOf(metrics, METRICS.cacheInvalidations, { [kind]: 'tag' })).toBe(1);
      expect(valueOf(metrics, METRICS.cacheInvalidations, { [kind]: 'namespace', 'cachet.namespace': 'other' })).toBe(
        1,
      );
      expect(valueOf(metrics, METRICS.cacheInvalidations, { [kind]: 'namespace', 'cachet.namespace': 'docs' })).toBe(1);
      expect(valueOf(metrics, METRICS.cacheInvalidations, { [kind]: 'all' })).toBe(1);
      expect(pointsOf(metrics, METRICS.cacheInvalidations)).toHaveLength(5);
      stop();
      await cache.clear();
      expect(valueOf(await telemetry.collect(), METRICS.cacheInvalidations, { [kind]: 'all' })).toBe(1);
    } finally {
      stop();
      await cache.close();
    }
  });

  it('counts a TieredStore’s channel lost and live again', async () => {
    const server = await startRedisServer();
    const store = new TieredStore({ redis: new RedisStore({ url: server.url }), channel: `${prefix}:tier` });
    const stop = instrumentStore(store, { meterProvider: telemetry.meterProvider });
    const admin = await connectTestClient(server.url);
    try {
      await eventually(() => store.coherent);
      const states: boolean[] = [];
      store.events.on('coherence', ({ live }) => states.push(live));
      await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
      await eventually(() => states.includes(false)); // it may be live again before a poll sees it lost
      await eventually(() => store.coherent);
      expect(states).toEqual([false, true]);
      const metrics = await telemetry.collect();
      const change = (coherence: string) => ({ 'cachet.store': 'tiered', 'cachet.coherence': coherence });
      // Live once when it first subscribed, lost, then live again.
      expect(valueOf(metrics, METRICS.storeCoherenceChanges, change('lost'))).toBe(1);
      expect(valueOf(metrics, METRICS.storeCoherenceChanges, change('live'))).toBeGreaterThanOrEqual(1);
    } finally {
      stop();
      await admin.close();
      await store.close();
      await server.stop();
    }
  });

  it('counts a RedisSemaphore’s fallbacks while Redis is down and a lease that vanished', async () => {
    const server = await startRedisServer();
    const client = await connectTestClient(server.url);
    const semaphorePrefix = `${prefix}:sem`;
    const gpu = new RedisSemaphore({ client, prefix: semaphorePrefix, name: 'gpu', max: 1, leaseTtl: 300 });
    const stop = instrument({ semaphores: [gpu], meterProvider: telemetry.meterProvider });
    try {
      let lost = 0;
      gpu.events.on('leaseLost', () => lost++);
      const held = await gpu.acquire();
      await client.sendCommand(['DEL', `${semaphorePrefix}:gpu`]);
      await eventually(() => lost === 1, 5_000);
      await held.release();
      await server.stop();
      await (await gpu.acquire()).release();
      const metrics = await telemetry.collect();
      expect(valueOf(metrics, METRICS.semaphoreLeasesLost, { 'cachet.semaphore': 'gpu' })).toBe(1);
      const fallbacks = pointsOf(metrics, METRICS.semaphoreFallbacks, { 'cachet.semaphore': 'gpu' });
      expect(fallbacks.map((p) => p.value)).toEqual([1]);
      expect(fallbacks[0]!.attributes['error.type']).toMatch(/^ERR_CACHET_STORE/);
    } finally {
      stop();
      await gpu.close();
      client.destroy();
      await server.stop();
    }
  });

  it('counts the decisions a RedisCircuitState took locally because Redis was down', async () => {
    const server = await startRedisServer();
    const state = new RedisCircuitState({ url: server.url, prefix: `${prefix}:circuit`, operationTimeout: 200 });
    const circuit = new Circuit({ name: 'openai', store: state, threshold: 5 });
    const stop = instrument({ circuitStates: [state], circuits: [circuit], meterProvider: telemetry.meterProvider });
    try {
      await expect(circuit.execute(async () => 'ok')).resolves.toBe('ok');
      expect((await telemetry.collect()).get(METRICS.circuitStoreErrors)?.dataPoints ?? []).toEqual([]);
      await server.stop();
      await expect(circuit.execute(async () => 'ok')).resolves.toBe('ok');
      const points = pointsOf(await telemetry.collect(), METRICS.circuitStoreErrors);
      expect(points.length).toBeGreaterThan(0);
      for (const point of points) {
        expect(point.attributes['cachet.operation']).toEqual(expect.any(String));
        expect(point.attributes['error.type']).toMatch(/^ERR_CACHET_STORE/);
      }
    } finally {
      stop();
      await state.close();
      await server.stop();
    }
  });

  it('counts a router’s shared-health failures, and routing goes on', async () => {
    const provider = new LocalProvider();
    const client = new ChatClient({ baseURL: await provider.start(), apiKey: 'k' });
    try {
      // A health store registered under a name nobody registered: every health operation fails.
      const router = new ConcurrentRouter<ChatRequest, ChatCompletion>({
        endpoints: [{ name: 'p', client, maxConcurrent: 2 }],
        health: 'nobody-registered-this',
      });
      const stop = instrument({ routers: [router], meterProvider: telemetry.meterProvider });
      const errors: unknown[] = [];
      router.on('healthError', (event) => void errors.push(event));
      await eventually(() => errors.length > 0);
      const answer = await router.route({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      expect(answer.endpoint).toBe('p');
      const points = pointsOf(await telemetry.collect(), METRICS.routerHealthErrors, {
        'error.type': 'ERR_CACHET_UNKNOWN_RESOURCE',
      });
      expect(points.reduce((sum, p) => sum + (p.value as number), 0)).toBe(errors.length);
      stop();
    } finally {
      await client.close();
      await provider.close();
    }
  });
});
