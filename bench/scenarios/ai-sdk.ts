import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { createOpenAICompatible as createOpenAICompatibleV3 } from '@ai-sdk/openai-compatible-v3';
import { generateText, wrapLanguageModel, type LanguageModel } from 'ai';
import { wrapLanguageModel as wrapLanguageModelV7, type LanguageModelMiddleware as MiddlewareV7 } from 'ai-v7';
import { Cache, Cached } from '../../lib/index';
import { cachetMiddleware, type AiSdkCallOptions } from '../../lib/ai-sdk';
import { LocalProvider } from '../../lib/testing';
import { compareNsPerOp, type Summary } from '../support/measure';
import { row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'ai-sdk';
const SYSTEM = 'You are a helpful support assistant. Answer in two sentences.';
const QUESTION = 'What is the refund policy?';
type WrappedModel = Exclude<LanguageModel, string>;

/** The call options the AI SDK hands a model for a system prompt and a question, fresh objects every time. */
const params = (question: string): AiSdkCallOptions => ({
  temperature: 0,
  prompt: [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: [{ type: 'text', text: question }] },
  ],
});

/**
 * The middleware's hit on a memory cache, called as the AI SDK calls a model (`model.doGenerate(params)`),
 * under `ai` 5 and under `ai` 7 (the `ai-v7` alias), beside a plain `@Cached` hit on a method taking the same
 * call options; and a whole `generateText` hit.
 * The model behind is @ai-sdk/openai-compatible against a LocalProvider, reached once for the fill.
 */
export const aiSdk: Scenario = {
  name: NAME,
  measures:
    '`await model.doGenerate(params)` on `wrapLanguageModel({ middleware: cachetMiddleware({ cache, tenant: false }) })`, a hit on `new Cache()` (memory)',
  baseline: 'a plain `@Cached()` method hit taking the same call options (the options are the whole key)',
  async run(ctx: BenchContext): Promise<Result[]> {
    const provider = new LocalProvider();
    const baseURL = await provider.start();
    const cache = new Cache();
    try {
      const local = createOpenAICompatible({ name: 'local', baseURL, apiKey: 'bench' });
      const inner = local.chatModel('gpt-4o-mini');
      const model: WrappedModel = wrapLanguageModel({
        model: inner,
        middleware: cachetMiddleware({ cache, tenant: false }),
      });
      class Plain {
        @Cached({ cache })
        async complete(options: AiSdkCallOptions) {
          return inner.doGenerate(options);
        }
      }
      const plain = new Plain();
      // The same middleware under ai 7 (a LanguageModelV4 model, nested usage): cachet's types here are ai 5's.
      const local7 = createOpenAICompatibleV3({ name: 'local', baseURL, apiKey: 'bench' });
      const model7 = wrapLanguageModelV7({
        model: local7.chatModel('gpt-4o-mini'),
        middleware: cachetMiddleware({ cache, tenant: false }) as unknown as MiddlewareV7,
      });
      type Params7 = Parameters<typeof model7.doGenerate>[0];
      await model7.doGenerate(params(QUESTION) as Params7);
      await model.doGenerate(params(QUESTION));
      await plain.complete(params(QUESTION));
      await generateText({ model, system: SYSTEM, prompt: QUESTION, temperature: 0 });

      let sink: unknown;
      const timings = await compareNsPerOp(
        {
          middleware: async (n: number) => {
            for (let i = 0; i < n; i++) sink = await model.doGenerate(params(QUESTION));
          },
          middleware7: async (n: number) => {
            for (let i = 0; i < n; i++) sink = await model7.doGenerate(params(QUESTION) as Params7);
          },
          generateText: async (n: number) => {
            for (let i = 0; i < n; i++)
              sink = await generateText({ model, system: SYSTEM, prompt: QUESTION, temperature: 0 });
          },
          plain: async (n: number) => {
            for (let i = 0; i < n; i++) sink = await plain.complete(params(QUESTION));
          },
        },
        { warmupMs: ctx.ms(400), roundMs: ctx.ms(30), rounds: 41 },
      );
      if (sink === undefined) throw new Error('ai-sdk: a loop returned nothing');
      if (provider.requests !== 4) {
        throw new Error(`ai-sdk: expected 4 provider requests (the fills), got ${provider.requests}`);
      }

      const spread = (s: Summary): string => `±${(s.spread * 50).toFixed(1)}%`;
      const note = (ours: Summary): string =>
        `spread between rounds ${spread(ours)} ours, ${spread(timings.plain)} baseline; ${provider.requests} provider requests in all (the fills)`;
      return [
        row(
          NAME,
          'cachetMiddleware hit (model.doGenerate)',
          'ns/op',
          timings.middleware.median,
          timings.plain.median,
          undefined,
          note(timings.middleware),
        ),
        row(
          NAME,
          'cachetMiddleware hit under ai 7 (model.doGenerate)',
          'ns/op',
          timings.middleware7.median,
          timings.plain.median,
          undefined,
          note(timings.middleware7),
        ),
        row(
          NAME,
          'generateText hit through the middleware',
          'ns/op',
          timings.generateText.median,
          timings.plain.median,
          undefined,
          note(timings.generateText),
        ),
      ];
    } finally {
      await cache.close();
      await provider.close();
    }
  },
};
