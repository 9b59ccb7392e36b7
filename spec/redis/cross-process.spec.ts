import { startWorker, type Worker } from '../support/child-processes';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';

interface FillResult {
  methodCalls: number;
  distinct: string[];
  stats: { fills: number; coalesced: number };
}

describe('single flight across processes', () => {
  let workers: Worker[] = [];
  afterEach(() => workers.forEach((w) => w.kill()));

  it('runs the method once in total for 4 processes x 250 concurrent calls on one key', async () => {
    const prefix = uniquePrefix('xproc');
    workers = Array.from({ length: 4 }, () =>
      startWorker('fill-worker', { REDIS_URL: testRedisUrl(), PREFIX: prefix, CALLS: '250' }),
    );
    await Promise.all(workers.map((w) => w.ready));
    workers.forEach((w) => w.go());
    // The fill runs until every process has missed: one holds the lease, the other three wait for its value.
    const steps = await Promise.all(
      workers.map((w) =>
        Promise.race([w.reached('filling').then(() => 'filling'), w.reached('waiting').then(() => 'waiting')]),
      ),
    );
    expect(steps.sort()).toEqual(['filling', 'waiting', 'waiting', 'waiting']);
    workers.forEach((w) => w.tell('finish'));
    const results = (await Promise.all(workers.map((w) => w.result))) as FillResult[];

    expect(results.reduce((sum, r) => sum + r.methodCalls, 0)).toBe(1);
    // Every caller in every process got the one answer.
    const answers = new Set(results.flatMap((r) => r.distinct));
    expect(answers.size).toBe(1);
    expect(results.reduce((sum, r) => sum + r.stats.coalesced, 0)).toBe(999);

    const client = await connectTestClient();
    await deleteKeys(client, prefix);
    client.destroy();
  }, 60_000);
});
