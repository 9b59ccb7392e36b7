import { startWorker, type Worker } from '../support/child-processes';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';

interface WorkerResult {
  admittedAt: number[];
  denied: number;
  errors: number;
}

const LIMIT = 20; // per second
const BURST = 20;
const PROCESSES = 4;

/** Most admissions in any half-open window [t, t + windowMs) that starts at an admission. */
function busiestWindow(sorted: number[], windowMs: number): number {
  let most = 0;
  for (let start = 0, end = 0; start < sorted.length; start++) {
    while (end < sorted.length && (sorted[end] as number) < (sorted[start] as number) + windowMs) end++;
    most = Math.max(most, end - start);
  }
  return most;
}

describe('RedisRateLimiter across processes', () => {
  let workers: Worker[] = [];
  afterEach(() => workers.forEach((w) => w.kill()));

  it(`${PROCESSES} processes sharing ${LIMIT}/s with burst ${BURST} together stay within limit × time + burst, and within limit + burst in any second`, async () => {
    const prefix = uniquePrefix('rl-xproc');
    const env = { REDIS_URL: testRedisUrl(), PREFIX: prefix, LIMIT: String(LIMIT), BURST: String(BURST), DURATION_MS: '1500', LOOPS: '4' };
    workers = Array.from({ length: PROCESSES }, () => startWorker('rate-limit-worker', env));
    await Promise.all(workers.map((w) => w.ready));
    workers.forEach((w) => w.go());
    const results = (await Promise.all(workers.map((w) => w.result))) as WorkerResult[];

    expect(results.map((r) => r.errors)).toEqual([0, 0, 0, 0]);
    const all = results.flatMap((r) => r.admittedAt).sort((a, b) => a - b);
    // Every process was refused at some point: they really contended for the one limit.
    for (const r of results) expect(r.denied).toBeGreaterThan(0);
    // The burst is there at once, so at least that much was admitted in total.
    expect(all.length).toBeGreaterThanOrEqual(BURST);
    // GCRA's bound over the span the admissions cover (server time): burst + limit × span, rounded up.
    const spanS = ((all.at(-1) as number) - (all[0] as number)) / 1_000;
    expect(all.length).toBeLessThanOrEqual(BURST + Math.ceil(LIMIT * spanS) + 1);
    expect(busiestWindow(all, 1_000)).toBeLessThanOrEqual(LIMIT + BURST);
    // Alone, each process would have taken the burst for itself: the limit really was shared.
    expect(all.length).toBeLessThan(PROCESSES * BURST);

    const client = await connectTestClient();
    await deleteKeys(client, prefix);
    client.destroy();
  }, 60_000);
});
