/**
 * Part 5 of the demo: a question answered with retrieved context. A BM25 index over the bundled bilingual
 * FAQ (faq-corpus.ts), a StreamingRetriever whose search() is @Cached (keyed by the index's version), and
 * an assistant whose @Cached complete() sends the retrieved passages to a LocalProvider over HTTP. The
 * local "model" quotes the first passage of the context it received, so the answers show what reached
 * it. Asking again is answered from the cache twice over; adding a document changes the index's
 * version, so the next search misses and finds the new passage. Called by `faq.ts` after part 4.
 */
import { performance } from 'node:perf_hooks';
import { Bm25Index, StreamingRetriever } from '../lib/retrieval';
import { Cached, currentSignal, setDefaultCache } from '../lib';
import { ChatClient, chatKeyPolicy } from '../lib/llm';
import type { Cache } from '../lib';
import type { ChatCompletion, ChatRequest } from '../lib/llm';
import type { ScoredChunk } from '../lib/retrieval';
import { LocalProvider } from '../lib/testing';
import { createDemoCache } from './demo-cache';
import { FAQ_PASSAGES, FAQ_QUERIES, type FaqQuery } from './faq-corpus';
import { seededRandom } from './random';
import { count, ms, renderTable } from './table';

const RAG_MODEL = 'gpt-4o-mini';
const TOP_K = 3;
const QUESTION_IDS = ['q-en-refund-monthly', 'q-zh-refund-yearly', 'q-mix-api-limit', 'q-mix-fapiao'] as const;

/** Not part of the bundled corpus: added while the demo runs, to show the index's version at work. */
const NEW_POLICY = {
  id: 'en-refund-monthly-june',
  text: 'Monthly plan refund (new from 1 June): a monthly plan gets a full refund within 14 days of the charge, not 7.',
};

const INSTRUCTIONS =
  'You are Flo, the support assistant of Flowboard. Answer in the language of the question, using only the ' +
  'context passages below, and cite the passage id in brackets. If they do not answer the question, say so.';

/**
 * The assistant of part 3, reduced to one method: the whole request is the key (so the context passages
 * are part of it), temperature 0 makes it cacheable, and there is one tenant.
 */
export class RagAssistant {
  constructor(private readonly client: ChatClient) {}

  @Cached({ namespace: 'rag', ttl: '10m', ...chatKeyPolicy({ normalize: true, tenant: false }) })
  complete(request: ChatRequest): Promise<ChatCompletion> {
    return this.client.complete(request, { signal: currentSignal() });
  }
}

/** The passages go into the system message, one per line as `[docId] text`; the question is the user's. */
export function ragRequest(question: string, passages: readonly ScoredChunk[]): ChatRequest {
  const context = passages.map((p) => `[${p.docId}] ${p.text.replace(/\s+/g, ' ').trim()}`).join('\n');
  return {
    model: RAG_MODEL,
    temperature: 0,
    messages: [
      { role: 'system', content: `${INSTRUCTIONS}\n\nContext passages:\n${context || '(none found)'}` },
      { role: 'user', content: question },
    ],
  };
}

/**
 * The local model's answer, built from the request it received: the first sentence of the first context
 * passage, quoted with its id, and how many passages came with it.
 */
function quoteFirstPassage(request: {
  readonly messages: readonly { readonly role: string; readonly content?: unknown }[];
}): string {
  const system = request.messages.find((m) => m.role === 'system');
  const text = typeof system?.content === 'string' ? system.content : '';
  const passages = [...text.matchAll(/^\[([^\]]+)\] (.*)$/gm)];
  const first = passages[0];
  if (first === undefined) return 'The context I was given does not answer this; shall I open a ticket?';
  const sentence = /^.*?[.!?。！？；](?=\s|$|[^.\d])/u.exec(first[2]!)?.[0] ?? first[2]!;
  return `[${first[1]}] "${sentence.trim()}" (quoted from passage 1 of ${passages.length} received)`;
}

type Outcome = 'hit' | 'miss' | 'shared' | '-';

/** What the cache did for each method during one step, from its `hit`, `miss` and `fill` events. */
function watchCache(cache: Cache): { reset(): void; outcome(method: string): Outcome; stop(): void } {
  let seen: { event: 'hit' | 'miss' | 'fill'; method: string }[] = [];
  const record = (event: 'hit' | 'miss' | 'fill') => (e: { method: string }) =>
    void seen.push({ event, method: e.method });
  const stops = [cache.on('hit', record('hit')), cache.on('miss', record('miss')), cache.on('fill', record('fill'))];
  return {
    reset: () => void (seen = []),
    outcome(method) {
      const mine = seen.filter((s) => s.method.endsWith(method)).map((s) => s.event);
      if (mine.includes('hit')) return 'hit';
      if (mine.includes('fill')) return 'miss';
      return mine.includes('miss') ? 'shared' : '-';
    },
    stop: () => stops.forEach((stop) => stop()),
  };
}

interface Step {
  readonly label: string;
  readonly question: FaqQuery;
  readonly firstPassageMs: number;
  readonly top: string;
  readonly search: Outcome;
  readonly model: Outcome;
  readonly answerMs: number;
}

/** Builds the index, answers a few questions with retrieved context, then shows what the cache kept. */
export async function runRagDemo(): Promise<void> {
  const provider = new LocalProvider({
    latency: ['150ms', '300ms'],
    random: seededRandom(7),
    reply: quoteFirstPassage,
  });
  const baseURL = await provider.start();
  const client = new ChatClient({ baseURL, apiKey: 'demo-key', connections: 4 });
  const { cache, store, where } = createDemoCache();
  // StreamingRetriever.search() is @Cached on the default cache, like the assistant.
  setDefaultCache(cache);
  const watch = watchCache(cache);
  try {
    const built = performance.now();
    const index = new Bm25Index();
    for (const passage of FAQ_PASSAGES) index.add({ id: passage.id, text: passage.text });
    const buildMs = performance.now() - built;
    const retriever = new StreamingRetriever(index);
    const assistant = new RagAssistant(client);
    const questions = QUESTION_IDS.map((id) => FAQ_QUERIES.find((q) => q.id === id)!);

    console.log(
      [
        '\n\ncachet demo, part 5: questions answered with retrieved context.',
        `A Bm25Index of the bundled bilingual FAQ (${count(index.size)} passages, ${count(index.chunkCount)} chunks, ` +
          `built in ${ms(buildMs)}; version ${index.version});`,
        `a StreamingRetriever whose search() is @Cached per query and index version; the top ${TOP_K} passages go`,
        `into the system message of a temperature-0 request to @Cached({ ...chatKeyPolicy() }) complete(), sent to a`,
        `LocalProvider on ${baseURL} (150-300 ms) that quotes the first passage it was given. Store: ${store}, ${where}.`,
      ].join('\n'),
    );

    const steps: Step[] = [];
    const ask = async (label: string, question: FaqQuery): Promise<void> => {
      watch.reset();
      console.log(`\n${label}  [${question.lang}] ${question.text}`);
      const started = performance.now();
      let firstPassageMs = NaN;
      const passages: ScoredChunk[] = [];
      for await (const passage of retriever.retrieve(question.text, { topK: TOP_K })) {
        if (passages.length === 0) firstPassageMs = performance.now() - started;
        passages.push(passage);
        const judged = question.relevant.includes(passage.docId) ? '  (judged relevant)' : '';
        console.log(
          `  ${passages.length}. ${passage.docId.padEnd(24)} score ${passage.score.toFixed(2).padStart(5)}${judged}`,
        );
      }
      const search = watch.outcome('StreamingRetriever.search');
      console.log(`  first passage after ${ms(firstPassageMs)} (search: ${search})`);
      const asked = performance.now();
      const completion = await assistant.complete(ragRequest(question.text, passages));
      const answerMs = performance.now() - asked;
      const model = watch.outcome('RagAssistant.complete');
      console.log(
        `  answer in ${ms(answerMs)} (model call: ${model}): ${completion.choices[0]?.message.content ?? ''}`,
      );
      steps.push({ label, question, firstPassageMs, top: passages[0]?.docId ?? '-', search, model, answerMs });
    };

    for (const [i, question] of questions.entries()) await ask(`Q${i + 1}`, question);

    console.log('\nThe first question again: the ranking and the answer both come from the cache.');
    await ask('Q1 again', questions[0]!);

    const before = index.version;
    retriever.add(NEW_POLICY);
    console.log(
      `\nA new document, ${NEW_POLICY.id}, is added: the index's version goes from ${before} to ${index.version},\n` +
        'so the cached ranking no longer matches, and the new context makes a new request for the model.',
    );
    await ask('Q1 after', questions[0]!);

    const rows = steps.map((s) => [
      s.label,
      s.question.lang,
      s.top,
      ms(s.firstPassageMs),
      s.search,
      s.model,
      ms(s.answerMs),
    ]);
    console.log(
      '\n' +
        renderTable(['step', 'lang', 'top passage', 'first passage', 'search', 'model call', 'answer'], rows, [
          'left',
          'left',
          'left',
          'right',
          'left',
          'left',
          'right',
        ]),
    );

    const total = cache.stats().total;
    console.log(
      `\ncache.stats().total: ${count(total.hits)} hits, ${count(total.misses)} misses, ${count(total.fills)} fills ` +
        `(searches and model calls); the provider received ${count(provider.requests)} requests for ${count(steps.length)} questions.`,
    );
    if (total.storeErrors > 0) {
      console.log(
        `Note: ${count(total.storeErrors)} store operations failed and the cache went on without the store. Is REDIS_URL reachable?`,
      );
    }
  } finally {
    watch.stop();
    await Promise.all([cache.close(), client.close()]);
    await provider.close();
  }
}
