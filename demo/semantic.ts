/**
 * Part 7: the same FAQ assistant when users type their own words. Exact caching only hits a question asked
 * verbatim; `@Cached({ semantic })` also serves a paraphrase the answer of the question it means, and its
 * guards refuse near misses (another number of days, a negation, another plan). Embeddings come from the
 * LocalProvider's `/v1/embeddings` through an `EmbeddingsClient` (the offline embedder behind it: a
 * development stand-in for a hosted model), so their cost is counted too. Every question below carries the
 * FAQ entry it means, so a served answer can be checked: a false hit is an answer to another question.
 */
import { Cache, Cached } from '../lib';
import { EmbeddingsClient } from '../lib/llm';
import { LocalProvider } from '../lib/testing';
import { seededRandom } from './random';
import { count, percent, renderTable, usd } from './table';

/** What a model answer costs here (illustrative: ~500 tokens of a mid-size model). */
const ANSWER_USD = 0.002;
/** What embedding costs (a text-embedding-3-small-like price: $0.02 per 1M tokens). */
const EMBED_USD_PER_TOKEN = 0.02 / 1_000_000;
const REQUESTS = 400;
const THRESHOLD = 0.8;

/** Each entry: what the user typed, and which FAQ question it means (its own text when it is one). */
const TRAFFIC: readonly (readonly [string, string])[] = [
  ['How do I reset my password?', 'How do I reset my password?'],
  ['How can I reset my password?', 'How do I reset my password?'],
  ['how do i reset my password', 'How do I reset my password?'],
  ['How do I reset the password?', 'How do I reset my password?'],
  ['How do I cancel my subscription?', 'How do I cancel my subscription?'],
  ['How can I cancel my subscription?', 'How do I cancel my subscription?'],
  ['how do I cancel the subscription', 'How do I cancel my subscription?'],
  ['Can I get a refund within 30 days?', 'Can I get a refund within 30 days?'],
  ['Can I get a refund in 30 days?', 'Can I get a refund within 30 days?'],
  ['Can I get a refund within 7 days?', 'Can I get a refund within 7 days?'],
  ['How do I export my data to CSV?', 'How do I export my data to CSV?'],
  ['How can I export my data to CSV?', 'How do I export my data to CSV?'],
  ['How do I export data to CSV?', 'How do I export my data to CSV?'],
  ['How do I enable two-factor authentication?', 'How do I enable two-factor authentication?'],
  ['How can I enable two-factor authentication?', 'How do I enable two-factor authentication?'],
  ['How do I not enable two-factor authentication?', 'How do I not enable two-factor authentication?'],
  ['What does the Pro plan include?', 'What does the Pro plan include?'],
  ['What does the Business plan include?', 'What does the Business plan include?'],
  ['What is included in the Pro plan?', 'What does the Pro plan include?'],
  ['How do I delete my account?', 'How do I delete my account?'],
  ['How can I delete my account?', 'How do I delete my account?'],
  ['How do I delete my workspace?', 'How do I delete my workspace?'],
];

export async function runSemanticDemo(): Promise<void> {
  const provider = new LocalProvider();
  const baseURL = await provider.start();
  const embed = new EmbeddingsClient({ baseURL, apiKey: 'demo', model: 'local-embed', dimensions: 256 });
  const meaning = new Map(TRAFFIC);
  const random = seededRandom(7);
  const requests = Array.from(
    { length: REQUESTS },
    () => (TRAFFIC[Math.floor(random() * TRAFFIC.length)] ?? TRAFFIC[0])![0],
  );

  const run = async (semantic: boolean) => {
    const cache = new Cache({ namespace: semantic ? 'semantic' : 'exact' });
    let modelCalls = 0;
    let falseHits = 0;
    cache.on('semanticHit', ({ question, matched }) => {
      if (meaning.get(question) !== meaning.get(matched.question)) falseHits++;
    });
    class Assistant {
      @Cached({
        cache,
        ttl: '1h',
        ...(semantic ? { semantic: { embed, threshold: THRESHOLD, entities: ['Pro', 'Business'] } } : {}),
      })
      async answer(question: string): Promise<string> {
        modelCalls++;
        return `answer to: ${meaning.get(question)}`;
      }
    }
    const assistant = new Assistant();
    const tokensBefore = provider.embeddedTexts;
    for (const question of requests) await assistant.answer(question);
    const stats = cache.stats().total;
    await cache.close();
    return { modelCalls, falseHits, stats, embedded: provider.embeddedTexts - tokensBefore };
  };

  try {
    const exact = await run(false);
    const semantic = await run(true);
    // The LocalProvider counts ceil(chars / 4) tokens a text; every distinct text asked was embedded once.
    const embedTokens = [...new Set(requests)].reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
    const cost = (calls: number, tokens: number) => calls * ANSWER_USD + tokens * EMBED_USD_PER_TOKEN;
    const withoutCache = REQUESTS * ANSWER_USD;
    console.log(
      [
        `\nPart 7: users type their own words. ${REQUESTS} requests over ${new Set(meaning.values()).size} distinct meanings`,
        `(${TRAFFIC.length} phrasings, near misses among them: 7 vs 30 days, "not", Pro vs Business, workspace vs account).`,
        `A model answer costs ${usd(ANSWER_USD)} here; embeddings go through EmbeddingsClient to the local provider's`,
        `/v1/embeddings (the offline embedder: a stand-in for a hosted model), threshold ${THRESHOLD}.\n`,
      ].join('\n'),
    );
    const rows = [
      ['model calls', count(exact.modelCalls), count(semantic.modelCalls), 'paid answers'],
      [
        'hit rate',
        percent(exact.stats.hits, REQUESTS),
        percent(semantic.stats.hits + semantic.stats.semanticHits, REQUESTS),
        `of which semantic: ${count(semantic.stats.semanticHits)}`,
      ],
      ['false hits', '0', count(semantic.falseHits), 'answers to another question than the one meant'],
      ['texts embedded', '0', count(semantic.embedded), `${count(embedTokens)} tokens`],
      [
        'cost',
        usd(cost(exact.modelCalls, 0)),
        usd(cost(semantic.modelCalls, embedTokens)),
        `without a cache: ${usd(withoutCache)}`,
      ],
    ];
    console.log(renderTable(['', 'exact only', 'exact + semantic', 'note'], rows, ['left', 'right', 'right', 'left']));
    console.log(
      `\nThe semantic cache answered ${count(semantic.stats.semanticHits)} paraphrases without the model, ` +
        `and served ${count(semantic.falseHits)} answers to the wrong question.`,
    );
  } finally {
    await embed.close();
    await provider.close();
  }
}
