// One process sharing a Redis rate limit: LOOPS concurrent loops call a `rateLimited` function for
// DURATION_MS and report the Redis server time (µs) of every admission.
// Env: REDIS_URL, PREFIX, LIMIT (per second), BURST (absent: the default), DURATION_MS, LOOPS,
// MODE ('wait': queue in `mode: 'wait'`; 'reject': sleep the `retryAfterMs` of each RateLimitError, as
// `@Retry` would), CREDIT ('none': the same script without the credit, i.e. plain GCRA, for the bench's
// baseline). Prints `ready`, waits for `go`, prints `{ result }`.
import { createInterface } from 'node:readline';
import { toRateRule } from '../../../lib/rate-limit/gcra';
import { isRateLimitError } from '../../../lib/rate-limit/rate-limit-error';
import { rateLimited } from '../../../lib/rate-limit/rate-limited';
import type { RateLimiter } from '../../../lib/ports/rate-limiter';
import { RedisRateLimiter } from '../../../lib/redis/redis-rate-limiter';

async function main(): Promise<void> {
  const redis = new RedisRateLimiter({
    url: process.env.REDIS_URL!,
    prefix: process.env.PREFIX!,
    operationTimeout: '2s',
  });
  const plain = process.env.CREDIT === 'none';
  const admittedAtUs: number[] = [];
  let denied = 0;
  // Records what the limiter decided, on the server's clock, under the policy `rateLimited` applies.
  const recording: RateLimiter = {
    name: 'recording',
    adjust: (key, rule, delta, until) => redis.adjust(key, rule, delta, until),
    async decide(key, rule, cost) {
      const decision = await redis.decide(key, plain ? { ...rule, creditUs: 0 } : rule, cost);
      if (decision.allowed) admittedAtUs.push(Math.round(decision.at * 1_000));
      else denied++;
      return decision;
    },
    close: () => redis.close(),
  };
  const mode = process.env.MODE === 'wait' ? 'wait' : 'reject';
  const burst = process.env.BURST === undefined ? {} : { burst: Number(process.env.BURST) };
  const call = rateLimited(async () => undefined, {
    limit: Number(process.env.LIMIT),
    interval: '1s',
    ...burst,
    mode,
    limiter: recording,
    key: () => 'shared',
    onStoreError: 'deny',
  });

  // Connected (and the script loaded) before the barrier, on a key of its own.
  await redis.decide(`warm-up-${process.pid}`, toRateRule(1, 1, 1), 1);
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

  const end = Date.now() + Number(process.env.DURATION_MS ?? 1_500);
  const loop = async (): Promise<void> => {
    while (Date.now() < end) {
      try {
        await call();
      } catch (error) {
        if (!isRateLimitError(error) || error.reason !== 'rejected') throw error;
        await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs));
      }
    }
  };
  await Promise.all(Array.from({ length: Number(process.env.LOOPS ?? 4) }, loop));
  process.stdout.write(JSON.stringify({ result: { admittedAtUs, denied, errors: redis.errors } }) + '\n');
  await redis.close();
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});
