// One process of the cross-process rate-limit test: takes as many units as it can from one shared Redis
// limit for DURATION_MS, from LOOPS concurrent loops, and reports the Redis server time of every admission.
// Env: REDIS_URL, PREFIX, LIMIT, BURST, DURATION_MS, LOOPS, RETRY_CAP_MS. Prints `ready`, waits for `go`, prints `{ result }`.
import { createInterface } from 'node:readline';
import { toRateRule } from '../../../lib/rate-limit/gcra';
import { RedisRateLimiter } from '../../../lib/redis/redis-rate-limiter';

async function main(): Promise<void> {
  const limiter = new RedisRateLimiter({ url: process.env.REDIS_URL!, prefix: process.env.PREFIX!, operationTimeout: '2s' });
  const rule = toRateRule(Number(process.env.LIMIT), 1_000, Number(process.env.BURST));
  // Connected (and the script loaded) before the barrier, on a key of its own.
  await limiter.decide(`warm-up-${process.pid}`, rule, 1);
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

  const admittedAt: number[] = [];
  let denied = 0;
  const retryCapMs = Number(process.env.RETRY_CAP_MS ?? 5);
  const end = Date.now() + Number(process.env.DURATION_MS ?? 1_500);
  const loop = async (): Promise<void> => {
    while (Date.now() < end) {
      const decision = await limiter.decide('shared', rule, 1);
      if (decision.allowed) admittedAt.push(decision.at);
      else {
        denied++;
        // Ask again when told to, as a well-behaved client would, but at most RETRY_CAP_MS later, so that
        // the loops keep contending.
        await new Promise((r) => setTimeout(r, Math.min(decision.retryAfterMs, retryCapMs)));
      }
    }
  };
  await Promise.all(Array.from({ length: Number(process.env.LOOPS ?? 4) }, loop));
  process.stdout.write(JSON.stringify({ result: { admittedAt, denied, errors: limiter.errors } }) + '\n');
  await limiter.close();
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});
