import { Cache, Cached } from '../../lib/index';
import { chatKeyPolicy } from '../../lib/llm';
import type { ChatRequest } from '../../lib/llm/chat-request';
import { ANSWER, QUESTION, type Answer } from '../support/fixtures';
import { compareNsPerOp, type Summary } from '../support/measure';
import { atMost, row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'chat-hit';
const SYSTEM = 'You are a helpful support assistant. Answer in two sentences.';

/** The request a service builds per call: two short messages and a setting, fresh objects every time. */
const request = (question: string): ChatRequest => ({
  model: 'gpt-4o-mini',
  temperature: 0,
  messages: [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: question },
  ],
});

function chatService(cache: Cache) {
  class Assistant {
    calls = 0;
    constructor(readonly tenantId: string) {}

    @Cached({ cache, ...chatKeyPolicy({ tenant: false }) })
    async complete(_request: ChatRequest): Promise<Answer> {
      this.calls++;
      return ANSWER;
    }

    @Cached({
      cache,
      ...chatKeyPolicy({
        normalize: true,
        tenant(this: Assistant) {
          return this.tenantId;
        },
      }),
    })
    async completeNormalized(_request: ChatRequest): Promise<Answer> {
      this.calls++;
      return ANSWER;
    }

    @Cached({ cache })
    async completePlain(_request: ChatRequest): Promise<Answer> {
      this.calls++;
      return ANSWER;
    }
  }
  return new Assistant('acme');
}

/** A `@Cached` hit through `chatKeyPolicy` against a plain `@Cached` hit on the same request. */
export const chatHit: Scenario = {
  name: NAME,
  measures:
    '`await svc.complete(request)` with `@Cached({ ...chatKeyPolicy(...) })`, a two-message request hitting `new Cache()` (memory)',
  baseline: 'the same call on a plain `@Cached()` method (the request is the whole key)',
  async run(ctx: BenchContext): Promise<Result[]> {
    const cache = new Cache();
    const svc = chatService(cache);
    await svc.complete(request(QUESTION));
    await svc.completeNormalized(request(QUESTION));
    await svc.completePlain(request(QUESTION));

    let sink: unknown;
    const timings = await compareNsPerOp(
      {
        chat: async (n: number) => {
          for (let i = 0; i < n; i++) sink = await svc.complete(request('What is the refund policy?'));
        },
        normalized: async (n: number) => {
          for (let i = 0; i < n; i++) sink = await svc.completeNormalized(request('What is the refund policy?'));
        },
        plain: async (n: number) => {
          for (let i = 0; i < n; i++) sink = await svc.completePlain(request('What is the refund policy?'));
        },
      },
      { warmupMs: ctx.ms(400), roundMs: ctx.ms(30), rounds: 41 },
    );
    if (sink !== ANSWER) throw new Error('chat-hit: a loop returned something other than the cached answer');
    const stats = cache.stats().total;
    if (svc.calls !== 3 || stats.misses !== 3 || stats.bypassed !== 0) {
      throw new Error(
        `chat-hit: expected hits only after the first calls, got ${svc.calls} method calls, ${stats.misses} misses, ${stats.bypassed} bypassed`,
      );
    }
    await cache.close();

    const spread = (s: Summary): string => `±${(s.spread * 50).toFixed(1)}%`;
    const note = (ours: Summary): string =>
      `spread between rounds ${spread(ours)} ours, ${spread(timings.plain)} baseline; no miss after the first call`;
    return [
      row(
        NAME,
        'chatKeyPolicy({ tenant: false }) hit, 2 messages',
        'ns/op',
        timings.chat.median,
        timings.plain.median,
        atMost(2),
        note(timings.chat),
      ),
      row(
        NAME,
        'chatKeyPolicy({ normalize: true, tenant }) hit',
        'ns/op',
        timings.normalized.median,
        timings.plain.median,
        undefined,
        note(timings.normalized),
      ),
    ];
  },
};
