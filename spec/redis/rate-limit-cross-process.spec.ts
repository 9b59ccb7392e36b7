import { busiestWindow, byTime, type Admission } from '../rate-limit/windows';
import { startWorker, type Worker } from '../support/child-processes';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';

interface WorkerResult {
  admittedAtUs: number[];
  denied: number;
  errors: number;
}

const LIMIT = 50; // per second, with the default burst of 1
const BURST = 1;
const PROCESSES = 4;

describe('RedisRateLimiter across processes', () => {
  let workers: Worker[] = [];
  afterEach(() => workers.forEach((w) => w.kill()));

  it(`${PROCESSES} processes sharing ${LIMIT}/s at default settings, two waiting and two retrying, never admit more than limit + burst in any second`, async () => {
    const prefix = uniquePrefix('rl-xproc');
    const env = { REDIS_URL: testRedisUrl(), PREFIX: prefix, LIMIT: String(LIMIT), DURATION_MS: '1500', LOOPS: '4' };
    workers = (['wait', 'wait', 'reject', 'reject'] as const).map((mode) =>
      startWorker('rate-limit-worker', { ...env, MODE: mode }),
    );
    await Promise.all(workers.map((w) => w.ready));
    workers.forEach((w) => w.go());
    const results = (await Promise.all(workers.map((w) => w.result))) as WorkerResult[];

    expect(results.map((r) => r.errors)).toEqual([0, 0, 0, 0]);
    // Every process was refused at some point: they really contended for the one limit.
    for (const r of results) expect(r.denied).toBeGreaterThan(0);
    const all: Admission[] = results.flatMap((r) => r.admittedAtUs.map((atUs) => ({ atUs, units: 1 }))).sort(byTime);
    expect(all.length).toBeGreaterThanOrEqual(BURST);
    // The bound, to the microsecond of the server's clock, however the processes were scheduled.
    expect(busiestWindow(all, 1_000_000)).toBeLessThanOrEqual(LIMIT + BURST);
    // And over the whole span: limit × span + burst, plus the one slot the credit may carry.
    const spanUs = (all.at(-1) as Admission).atUs - (all[0] as Admission).atUs;
    expect(all.length).toBeLessThanOrEqual((LIMIT * spanUs) / 1_000_000 + BURST + 1);

    const client = await connectTestClient();
    await deleteKeys(client, prefix);
    client.destroy();
  }, 60_000);
});
