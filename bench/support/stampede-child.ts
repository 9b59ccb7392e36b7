/**
 * One of the processes of the cross-process stampede. Started by bench/scenarios/stampede.ts with
 * `node -r ts-node/register/transpile-only`; it prints `ready`, then for each line `plain` or `cached` on
 * stdin makes BENCH_CALLS concurrent calls and prints `result {"mode", "calls", "ms"}`; `exit` ends it.
 */
import { deepStrictEqual } from 'node:assert';
import { createInterface } from 'node:readline';
import { Cache } from '../../lib/index';
import { RedisStore } from '../../lib/redis';
import { ANSWER } from './fixtures';
import { elapsedMs } from './measure';
import { cachedWriter, PROMPT, Writer } from './writer';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`stampede-child: ${name} is not set`);
  return value;
}

async function main(): Promise<void> {
  const url = env('BENCH_REDIS_URL');
  const prefix = env('BENCH_PREFIX');
  const calls = Number(env('BENCH_CALLS'));
  const latencyMs = Number(env('BENCH_LATENCY_MS'));
  const store = new RedisStore({ url, channel: `${prefix}:fills` });
  const cache = new Cache({ store, prefix });
  // Connected before `ready`, so the barrier releases processes that can all reach Redis at once.
  await store.get(`${prefix}:warm-up`);
  const writers = { plain: new Writer(latencyMs), cached: cachedWriter(cache, latencyMs) };

  console.log('ready');
  for await (const line of createInterface({ input: process.stdin })) {
    const command = line.trim();
    if (command === 'exit') break;
    if (command !== 'plain' && command !== 'cached') throw new Error(`stampede-child: unknown command ${command}`);
    const writer = writers[command];
    const started = process.hrtime.bigint();
    const answers = await Promise.all(Array.from({ length: calls }, () => writer.draft(PROMPT)));
    const ms = elapsedMs(started);
    for (const answer of answers) deepStrictEqual(answer, ANSWER);
    console.log(`result ${JSON.stringify({ mode: command, calls: writer.calls, ms, stats: cache.stats().total })}`);
  }
  await cache.close();
  // Leaving the loop pauses stdin but keeps its pipe referenced; without this the process would wait for EOF.
  process.stdin.destroy();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
