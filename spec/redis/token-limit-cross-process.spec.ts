import { LocalProvider } from '../../lib/testing';
import { busiestCorrectedWindow, byTime, type Corrected } from '../rate-limit/windows';
import { startWorker, type Worker } from '../support/child-processes';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';

interface WorkerRecord {
  atUs: number;
  units: number;
  overdraft: number;
  /** null when the call was never corrected (its usage matched the estimate). */
  settledUs: number | null;
}
interface WorkerResult {
  admissions: WorkerRecord[];
  calls: number;
  errors: number;
}

const LIMIT = 3_000; // tokens per second; the burst defaults to the same 3,000
const PROCESSES = 4;
const DURATION_MS = 2_000;

describe('A token budget shared through Redis across processes', () => {
  let workers: Worker[] = [];
  let provider: LocalProvider;
  beforeAll(async () => {
    // The answer's length is in the prompt (`chars:N`): the worker picks it, so usage differs from the estimate.
    provider = new LocalProvider({
      reply: (request) => 'x'.repeat(Number(/chars:(\d+)/.exec(String(request.messages[0]?.content))?.[1] ?? 0)),
    });
    await provider.start();
  });
  afterAll(() => provider.close());
  afterEach(() => workers.forEach((w) => w.kill()));

  it(`${PROCESSES} processes spending ${LIMIT} tokens/s with estimates corrected from usage admit at most limit + burst actual tokens in any second, plus the overdrafts not yet corrected, and use the budget`, async () => {
    const prefix = uniquePrefix('tokens-xproc');
    const env = {
      REDIS_URL: testRedisUrl(),
      PREFIX: prefix,
      BASE_URL: provider.url,
      LIMIT: String(LIMIT),
      DURATION_MS: String(DURATION_MS),
      LOOPS: '2',
    };
    workers = Array.from({ length: PROCESSES }, (_, i) =>
      startWorker('token-limit-worker', { ...env, SEED: String(i + 1) }),
    );
    await Promise.all(workers.map((w) => w.ready));
    workers.forEach((w) => w.go());
    const results = (await Promise.all(workers.map((w) => w.result))) as WorkerResult[];

    expect(results.map((r) => r.errors)).toEqual([0, 0, 0, 0]);
    // Every admission is ordered by the Redis server's clock; a correction in the same microsecond as an
    // admission counts as not yet seen by it.
    const all: Corrected[] = results
      .flatMap((r) => r.admissions)
      .map((a) => ({
        atUs: a.atUs,
        units: a.units,
        overdraft: a.overdraft,
        order: a.atUs,
        settledOrder: a.settledUs === null ? Infinity : a.settledUs + 0.5,
      }))
      .sort(byTime);
    // Usage really differed from the estimates, both ways.
    expect(all.filter((a) => a.overdraft > 0).length).toBeGreaterThan(10);
    expect(all.filter((a) => a.settledOrder !== Infinity && a.overdraft === 0).length).toBeGreaterThan(10);
    // The bound, on the server's clock.
    expect(busiestCorrectedWindow(all, 1_000_000)).toBeLessThanOrEqual(2 * LIMIT);
    // The budget is used: at least 90% of the burst plus the limit over the span of the admissions.
    const spanUs = (all.at(-1) as Corrected).atUs - (all[0] as Corrected).atUs;
    const total = all.reduce((sum, a) => sum + a.units, 0);
    expect(total).toBeGreaterThanOrEqual(0.9 * ((LIMIT * spanUs) / 1_000_000 + LIMIT));

    const client = await connectTestClient();
    await deleteKeys(client, prefix);
    client.destroy();
  }, 60_000);
});
