import { Cache } from '../../lib/index';
import { ChatClient, type ChatCompletionChunk, type ChatRequest } from '../../lib/llm';
import { RedisStore } from '../../lib/redis';
import { LocalProvider } from '../../lib/testing';
import { summarize, type Summary } from '../support/measure';
import { atLeast, row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'stream-replay';
const CONCURRENCY = 4;
const ROUNDS = 5;
const WORDS = 200;

const REQUEST: ChatRequest = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Explain the refund policy in detail.' }],
  temperature: 0,
};

/** About 200 words; the provider streams one chunk per word. */
const REPLY =
  Array.from({ length: WORDS }, (_, i) => ['refunds', 'arrive', 'within', 'five', 'business', 'days'][i % 6]).join(
    ' ',
  ) + '.';

/**
 * Chunks per second of a streamed cache hit (`cache.wrap(fn, { stream: true })` replaying a recorded
 * stream, memory and Redis), against reading the live stream from a LocalProvider with no delay.
 */
export const streamReplay: Scenario = {
  name: NAME,
  measures: `\`for await (const chunk of cachedStream(request))\` hitting a recorded ${WORDS}-word stream (\`cache.wrap(fn, { stream: true })\`), ${CONCURRENCY} concurrent loops`,
  baseline: `\`for await (const chunk of client.stream(request))\` live from a LocalProvider with \`chunkDelay: 0\` (one chunk per word), ${CONCURRENCY} concurrent loops`,
  async run(ctx: BenchContext): Promise<Result[]> {
    const options = { latency: 0, chunkDelay: 0, reply: () => REPLY };
    // The live baseline and the cache fills go to different providers, so the second one counts fills only.
    const liveProvider = new LocalProvider(options);
    const fillProvider = new LocalProvider(options);
    const liveClient = new ChatClient({
      baseURL: await liveProvider.start(),
      apiKey: 'bench',
      connections: CONCURRENCY,
    });
    const fillClient = new ChatClient({
      baseURL: await fillProvider.start(),
      apiKey: 'bench',
      connections: CONCURRENCY,
    });
    const memory = new Cache();
    const redis = new Cache({
      store: new RedisStore({ url: await ctx.redisUrl() }),
      prefix: ctx.prefix('stream-replay'),
    });
    try {
      const fromMemory = memory.wrap((req: ChatRequest) => fillClient.stream(req), { name: 'stream', stream: true });
      const fromRedis = redis.wrap((req: ChatRequest) => fillClient.stream(req), { name: 'stream', stream: true });

      const read = async (stream: AsyncIterable<ChatCompletionChunk>): Promise<{ chunks: number; text: string }> => {
        let chunks = 0;
        let text = '';
        for await (const chunk of stream) {
          chunks++;
          text += chunk.choices[0]?.delta.content ?? '';
        }
        return { chunks, text };
      };
      const live = await read(liveClient.stream(REQUEST));
      if (live.text !== REPLY) throw new Error(`${NAME}: the live stream did not carry the reply`);
      if (live.chunks < WORDS)
        throw new Error(`${NAME}: expected at least ${WORDS} chunks per stream, got ${live.chunks}`);
      // The fills: one request per cache, recorded while it streams.
      for (const [label, cached] of [
        ['memory', fromMemory],
        ['redis', fromRedis],
      ] as const) {
        const filled = await read(cached(REQUEST));
        if (filled.chunks !== live.chunks || filled.text !== REPLY) {
          throw new Error(
            `${NAME}: the ${label} fill streamed ${filled.chunks} chunks, the live stream ${live.chunks}`,
          );
        }
      }
      if (fillProvider.requests !== 2)
        throw new Error(`${NAME}: expected 2 fill requests, the provider served ${fillProvider.requests}`);

      const counted = { live: 0, memory: 0, redis: 0 };
      const consume = async (
        label: keyof typeof counted,
        stream: AsyncIterable<ChatCompletionChunk>,
      ): Promise<void> => {
        const { chunks, text } = await read(stream);
        if (chunks !== live.chunks || text !== REPLY) {
          throw new Error(`${NAME}: a ${label} stream yielded ${chunks} chunks, the live stream ${live.chunks}`);
        }
        counted[label]++;
      };
      const timings = await compareStreams(
        {
          live: () => consume('live', liveClient.stream(REQUEST)),
          memory: () => consume('memory', fromMemory(REQUEST)),
          redis: () => consume('redis', fromRedis(REQUEST)),
        },
        ctx.ms(500),
        ctx.ms(1000),
      );

      if (fillProvider.requests !== 2) {
        throw new Error(
          `${NAME}: expected only the 2 fills at the provider, it served ${fillProvider.requests} (a hit went live)`,
        );
      }
      for (const [label, cache] of [
        ['memory', memory],
        ['redis', redis],
      ] as const) {
        const stats = cache.stats().total;
        const replays = counted[label as 'memory' | 'redis'];
        if (stats.fills !== 1 || stats.hits !== replays || stats.storeErrors > 0) {
          throw new Error(
            `${NAME}: ${label}: expected 1 fill and ${replays} hits, got ${stats.fills} fills, ${stats.hits} hits, ${stats.storeErrors} store errors`,
          );
        }
      }
      if (liveProvider.requests < counted.live) {
        throw new Error(
          `${NAME}: the live loops counted ${counted.live} streams, the provider served ${liveProvider.requests}`,
        );
      }

      const perStream = live.chunks;
      const spread = (s: Summary): string => `±${(s.spread * 50).toFixed(1)}%`;
      const note = (label: 'memory' | 'redis', ours: Summary): string =>
        `median of ${ROUNDS} rounds; spread ${spread(ours)} ours, ${spread(timings.live)} baseline; ` +
        `${counted[label].toLocaleString('en-US')} replays of ${perStream} chunks, 1 provider request (the fill)`;
      return [
        row(
          NAME,
          `memory hit, ${perStream} chunks, concurrency ${CONCURRENCY}`,
          'chunks/s',
          timings.memory.median * perStream,
          timings.live.median * perStream,
          atLeast(10),
          note('memory', timings.memory),
        ),
        row(
          NAME,
          `Redis hit, ${perStream} chunks, concurrency ${CONCURRENCY}`,
          'chunks/s',
          timings.redis.median * perStream,
          timings.live.median * perStream,
          undefined,
          note('redis', timings.redis),
        ),
      ];
    } finally {
      await memory.close();
      await redis.close();
      await liveClient.close();
      await fillClient.close();
      await liveProvider.close();
      await fillProvider.close();
    }
  },
};

/**
 * Streams per second of `op` from `CONCURRENCY` loops for about `ms`. Unlike `throughput()` in
 * support/measure, the loops read the clock: a memory replay never waits for I/O, so a timer would never fire.
 */
async function streamsPerSecond(op: () => Promise<void>, ms: number): Promise<number> {
  const started = process.hrtime.bigint();
  const end = started + BigInt(Math.round(ms * 1e6));
  let done = 0;
  let failed = false;
  const loop = async (): Promise<void> => {
    try {
      while (!failed && process.hrtime.bigint() < end) {
        await op();
        done++;
      }
    } catch (error) {
      failed = true; // stops the other loops too
      throw error;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  return done / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** Warm-up, then `ROUNDS` alternating rounds of each case (the order rotates); medians of streams/s. */
async function compareStreams<K extends string>(
  cases: Record<K, () => Promise<void>>,
  warmupMs: number,
  roundMs: number,
): Promise<Record<K, Summary>> {
  const names = Object.keys(cases) as K[];
  for (const name of names) await streamsPerSecond(cases[name], warmupMs);
  const samples = new Map<K, number[]>(names.map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let c = 0; c < names.length; c++) {
      const name = names[(round + c) % names.length] as K;
      samples.get(name)!.push(await streamsPerSecond(cases[name], roundMs));
    }
  }
  return Object.fromEntries(names.map((name) => [name, summarize(samples.get(name)!)])) as Record<K, Summary>;
}
