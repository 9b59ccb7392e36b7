// One process sharing a token budget through Redis: LOOPS concurrent loops, one call at a time each, send
// chat requests to a LocalProvider through a `rateLimited` ChatClient call that reserves
// estimateChatTokens(request) and is corrected from the answer's usage. The answer's length is random
// (the provider's reply reads it from the prompt), so usage lies below or above the estimate.
// Env: REDIS_URL, PREFIX, BASE_URL, LIMIT (tokens per second; the burst is the default, LIMIT),
// DURATION_MS, LOOPS, SEED. Prints `ready`, waits for `go`, prints `{ result }` with every admission on the
// Redis server's clock (µs): its actual tokens, its overdraft and when that was corrected.
import { createInterface } from 'node:readline';
import { ChatClient, estimateChatTokens, type ChatCompletion, type ChatRequest } from '../../../lib/llm';
import { toRateRule } from '../../../lib/rate-limit/gcra';
import { rateLimited } from '../../../lib/rate-limit/rate-limited';
import type { RateLimiter } from '../../../lib/ports/rate-limiter';
import { RedisRateLimiter } from '../../../lib/redis/redis-rate-limiter';

interface Record {
  atUs: number;
  units: number;
  overdraft: number;
  settledUs: number;
}

async function main(): Promise<void> {
  const redis = new RedisRateLimiter({
    url: process.env.REDIS_URL!,
    prefix: process.env.PREFIX!,
    operationTimeout: '2s',
  });
  const client = new ChatClient({ baseURL: process.env.BASE_URL!, connections: 8 });
  const admissions: Record[] = [];
  // A correction names its reservation by where the reservation ended (reservedUntil).
  const open = new Map<number, { record: Record; reserved: number }[]>();
  const recording: RateLimiter = {
    name: 'recording',
    async decide(key, rule, cost) {
      const decision = await redis.decide(key, rule, cost);
      if (decision.allowed) {
        const record = { atUs: Math.round(decision.at * 1_000), units: cost, overdraft: 0, settledUs: Infinity };
        admissions.push(record);
        open.set(decision.reservedUntil, [...(open.get(decision.reservedUntil) ?? []), { record, reserved: cost }]);
      }
      return decision;
    },
    async adjust(key, rule, delta, reservedUntil) {
      const adjusted = await redis.adjust(key, rule, delta, reservedUntil);
      const entry = open.get(reservedUntil!)?.shift();
      if (entry !== undefined) {
        entry.record.units = entry.reserved + delta;
        entry.record.overdraft = Math.max(0, delta);
        entry.record.settledUs = Math.round(adjusted.at * 1_000);
      }
      return adjusted;
    },
    close: () => redis.close(),
  };
  const limit = Number(process.env.LIMIT);
  const chat = rateLimited((request: ChatRequest) => client.complete(request) as Promise<ChatCompletion>, {
    limit,
    interval: '1s',
    cost: (request) => estimateChatTokens(request),
    actualCost: (answer: ChatCompletion) => answer.usage?.total_tokens,
    mode: 'wait',
    maxWait: '20s',
    limiter: recording,
    key: () => 'tokens',
    onStoreError: 'deny',
  });

  let seed = Number(process.env.SEED ?? 1);
  const random = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  await redis.decide(`warm-up-${process.pid}`, toRateRule(1, 1, 1), 1);
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

  let calls = 0;
  const end = Date.now() + Number(process.env.DURATION_MS ?? 2_000);
  const loop = async (): Promise<void> => {
    while (Date.now() < end) {
      const maxTokens = 50 + Math.floor(random() * 100);
      // The provider answers with `chars` characters: from none to twice what max_tokens allows.
      const chars = Math.floor(random() * maxTokens * 8);
      await chat({ model: 'm', messages: [{ role: 'user', content: `chars:${chars}` }], max_tokens: maxTokens });
      calls++;
    }
  };
  await Promise.all(Array.from({ length: Number(process.env.LOOPS ?? 2) }, loop));
  process.stdout.write(JSON.stringify({ result: { admissions, calls, errors: redis.errors } }) + '\n');
  await client.close();
  await redis.close();
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});
