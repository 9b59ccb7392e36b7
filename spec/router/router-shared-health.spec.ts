import { LocalProvider } from '../../lib/testing';
import { eventually } from '../support/async';
import { startWorker, type Worker } from '../support/child-processes';
import { startRedisServer } from '../support/redis-server';
import { cleanUpKeys, connectTestClient, testRedisUrl, uniquePrefix } from '../support/redis';

/** One route's outcome, as a worker prints it. */
interface Routed {
  readonly ok: boolean;
  readonly probe: boolean;
  readonly skipped: readonly string[];
}

interface HealthLine {
  readonly state: string;
  readonly prober?: string;
}

// Each test has 120 s: it starts three worker processes through ts-node, which takes tens of seconds on a
// loaded 2-core machine. The budget is for that, not for anything the tests time.
/** Three processes, each with a ConcurrentRouter sharing health through Redis, in front of one provider. */
describe('ConcurrentRouter health shared across 3 processes (RedisRouterHealth)', () => {
  let provider: LocalProvider;
  let baseURL: string;
  let workers: Worker[] = [];
  let prefix: string;

  beforeAll(async () => {
    provider = new LocalProvider();
    baseURL = await provider.start();
  });
  beforeEach(() => {
    prefix = uniquePrefix('health');
    provider.resetCounters();
    provider.clearFailures();
  });
  afterEach(async () => {
    provider.resume();
    workers.forEach((w) => w.kill());
    await Promise.all(workers.map((w) => w.exited));
    workers = [];
    await cleanUpKeys(prefix);
  });
  afterAll(() => provider.close());

  async function start(env: Record<string, string>, redisUrl = testRedisUrl()): Promise<string[]> {
    workers = [1, 2, 3].map(() =>
      startWorker('health-worker', { REDIS_URL: redisUrl, PREFIX: prefix, BASE_URL: baseURL, ...env }),
    );
    const instances = await Promise.all(workers.map((w) => w.message<string>('instance')));
    await Promise.all(workers.map((w) => w.ready));
    return instances;
  }

  /** Tells `worker` to route `n` requests at once and collects each outcome into `into` as it ends. */
  function route(worker: Worker, n: number, into: Routed[] = []): Promise<Routed[]> {
    worker.tell(`route ${n}`);
    return (async () => {
      for (let i = 0; i < n; i++) into.push(await worker.message<Routed>('routed'));
      return into;
    })();
  }

  async function healthOf(worker: Worker): Promise<HealthLine> {
    worker.tell('health');
    return worker.message<HealthLine>('health');
  }

  it('honours one 429 Retry-After in every process, then lets exactly one probe through, and all come back', async () => {
    const instances = await start({ THRESHOLD: '3' });
    const [a, b, c] = workers as [Worker, Worker, Worker];
    provider.failNext(1, 429, { retryAfter: '3s' });

    // The first 429 sets the endpoint aside in every process (each prints its router's `cooldown`).
    expect(await route(a, 1)).toEqual([{ ok: false, probe: false, skipped: [] }]);
    const cooldowns = await Promise.all(workers.map((w) => w.message<number>('cooldown')));
    for (const forMs of cooldowns) {
      expect(forMs).toBeGreaterThan(2_000);
      expect(forMs).toBeLessThanOrEqual(3_000);
    }
    expect(provider.byStatus).toEqual({ 429: 1 });

    // Until the window ends, no process sends anything.
    const during = (await Promise.all(workers.map((w) => route(w, 3)))).flat();
    expect(during).toHaveLength(9);
    for (const outcome of during) expect(outcome).toEqual({ ok: false, probe: false, skipped: ['cooling'] });
    expect(provider.requests).toBe(1);

    // When it ends, every process tries at once: exactly one request reaches the provider, the probe,
    // which the provider holds until the test has looked.
    await Promise.all(workers.map((w) => (w.tell('wait-cooldown'), w.message('cooled'))));
    provider.pause();
    const outcomes: Routed[] = [];
    const settled = workers.map((w) => route(w, 3, outcomes));
    await eventually(() => outcomes.length === 8 && provider.inFlight === 1);
    expect(provider.requests).toBe(1);
    for (const outcome of outcomes) {
      expect(outcome.ok).toBe(false);
      expect(outcome.skipped.length).toBe(1);
      expect(['cooling', 'probing']).toContain(outcome.skipped[0]);
    }
    // `health()` shows the shared view: all three name the one prober, one of them.
    const views = await Promise.all(workers.map(healthOf));
    expect(views.every((v) => v.state === 'probing')).toBe(true);
    expect(new Set(views.map((v) => v.prober)).size).toBe(1);
    expect(instances).toContain(views[0]?.prober);

    // The probe succeeds: every process hears of it and routes again.
    provider.resume();
    await Promise.all(settled);
    expect(outcomes.filter((o) => o.ok)).toEqual([{ ok: true, probe: true, skipped: [] }]);
    await Promise.all(workers.map((w) => w.message('recovered')));
    const after = (await Promise.all([route(a, 5), route(b, 5), route(c, 5)])).flat();
    expect(after.every((o) => o.ok && !o.probe)).toBe(true);
    expect(provider.byStatus).toEqual({ 429: 1, 200: 16 });
  }, 120_000);

  it('sets the endpoint aside for all after failures within the window, whoever saw them and whatever succeeded between', async () => {
    await start({ THRESHOLD: '100', WINDOW_FAILURES: '4', COOLDOWN: '1m' });
    const [a, b, c] = workers as [Worker, Worker, Worker];
    // Failures and successes alternate over the three processes: no two failures in a row anywhere.
    const plan: [Worker, boolean][] = [
      [a, true],
      [b, false],
      [c, true],
      [a, false],
      [b, true],
      [c, false],
    ];
    for (const [worker, fails] of plan) {
      if (fails) provider.failNext(1, 500);
      expect((await route(worker, 1))[0]?.ok).toBe(!fails);
    }
    expect((await Promise.all(workers.map(healthOf))).map((h) => h.state)).toEqual(['healthy', 'healthy', 'healthy']);

    provider.failNext(1, 500);
    expect((await route(a, 1))[0]?.ok).toBe(false); // the fourth failure within the window
    const cooldowns = await Promise.all(workers.map((w) => w.message<number>('cooldown')));
    for (const forMs of cooldowns) expect(forMs).toBeGreaterThan(50_000);
    const served = provider.requests;
    const during = (await Promise.all(workers.map((w) => route(w, 2)))).flat();
    expect(during.every((o) => !o.ok && o.skipped[0] === 'cooling')).toBe(true);
    expect(provider.requests).toBe(served);
  }, 120_000);

  it('counts failures in a row across processes, and a success anywhere ends the run', async () => {
    await start({ THRESHOLD: '2', COOLDOWN: '1m' });
    const [a, b, c] = workers as [Worker, Worker, Worker];
    provider.failNext(1, 500);
    expect((await route(a, 1))[0]?.ok).toBe(false);
    // b learns of the run from a's notice; its next success ends the run for everyone (in Redis).
    const admin = await connectTestClient();
    try {
      await eventually(async () => {
        expect((await route(b, 1))[0]?.ok).toBe(true);
        return (await admin.sendCommand(['HGET', `${prefix}:provider`, 'consecutive'])) === null;
      });
    } finally {
      await admin.close();
    }
    provider.failNext(1, 500);
    expect((await route(c, 1))[0]?.ok).toBe(false);
    expect((await Promise.all(workers.map(healthOf))).map((h) => h.state)).toEqual(['healthy', 'healthy', 'healthy']);
    provider.failNext(1, 500);
    expect((await route(b, 1))[0]?.ok).toBe(false); // second in a row, in another process
    await Promise.all(workers.map((w) => w.message('cooldown')));
    expect((await Promise.all(workers.map(healthOf))).map((h) => h.state)).toEqual(['cooling', 'cooling', 'cooling']);
  }, 120_000);

  it('falls back to local health in each process while Redis is down, and keeps routing', async () => {
    const server = await startRedisServer();
    try {
      await start({ THRESHOLD: '3' }, server.url);
      const [a, b] = workers as [Worker, Worker, Worker];
      await server.stop();
      // Redis is gone: routing goes on.
      expect((await route(a, 2)).every((o) => o.ok)).toBe(true);
      // A 429 sets the endpoint aside in the process that got it, alone.
      provider.failNext(1, 429, { retryAfter: '1m' });
      expect((await route(a, 1))[0]?.ok).toBe(false);
      expect(await a.message<number>('cooldown')).toBe(60_000);
      await a.message('healthError');
      const served = provider.requests;
      expect(await route(a, 2)).toEqual([
        { ok: false, probe: false, skipped: ['cooling'] },
        { ok: false, probe: false, skipped: ['cooling'] },
      ]);
      expect(provider.requests).toBe(served);
      // The others did not hear of it and keep routing; failures in a row are counted locally.
      expect((await route(b, 2)).every((o) => o.ok)).toBe(true);
      provider.failNext(3, 500);
      expect((await route(b, 3)).every((o) => !o.ok)).toBe(true);
      await b.message('cooldown');
      expect((await healthOf(b)).state).toBe('cooling');
    } finally {
      await server.stop();
    }
  }, 120_000);
});
