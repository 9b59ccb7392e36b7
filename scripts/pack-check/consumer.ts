// A TypeScript user of every entry point. The pack check compiles it under each `moduleResolution`
// (node10, node16, nodenext, bundler), as CommonJS and as an ES module, with and without
// `experimentalDecorators`, then runs the output. It is valid in both module formats on purpose: no
// top-level await, no `import.meta`, no `require`.
import { Cache, Cached, MemoryStore, Retry, isCachetError, type CachedOptions, type Duration } from 'cachet';
import { RedisStore, TieredStore, type RedisClientLike, type RedisStoreOptions } from 'cachet/redis';
import { ChatClient, chatKeyPolicy, type ChatCompletion, type ChatRequest } from 'cachet/llm';
import { ConcurrentRouter, type RouteResult } from 'cachet/router';
import { Bm25Index, createTokenizer, type ScoredChunk } from 'cachet/retrieval';
import { LocalProvider, type LocalProviderOptions } from 'cachet/testing';
import { CacheRoute, CachetModule, type CacheRouteOptions, type CachetModuleOptions } from 'cachet/nestjs';
import { cachetMiddleware, type CachetMiddlewareOptions } from 'cachet/ai-sdk';
import { instrument, type InstrumentOptions } from 'cachet/otel';
import type { LanguageModelMiddleware } from 'ai';
import { createClient } from '@redis/client';

const cache = new Cache({ store: new MemoryStore() });
const ttl: Duration = '1m';
const options: CachedOptions = { cache, ttl };

export class Answers {
  calls = 0;

  @Cached(options)
  @Retry({ attempts: 2 })
  async answer(question: string, lang: string): Promise<string> {
    this.calls++;
    return `${question} (${lang})`;
  }
}

export class Models {
  constructor(private readonly client: ChatClient) {}

  @Cached({ cache, ttl: '10m', ...chatKeyPolicy({ tenant: false }) })
  async complete(request: ChatRequest): Promise<ChatCompletion> {
    return this.client.complete(request);
  }
}

/** Compiled, never called: the types of every entry point, as a user would meet them. */
export function typeUses(): void {
  // A client the user created with node-redis fits `client`.
  const client = createClient({ url: 'redis://localhost:6379' });
  const owned: RedisStoreOptions = { client };
  const stores = [new RedisStore(owned), new TieredStore({ redis: new RedisStore({ url: 'redis://localhost:6379' }) })];
  const like: RedisClientLike | undefined = undefined;
  // @ts-expect-error: `url` is a string
  new RedisStore({ url: 6379 });

  const provider = new LocalProvider({ latency: 0 } satisfies LocalProviderOptions);
  const chat = new ChatClient({ baseURL: provider.url, apiKey: 'key' });
  const completion: Promise<ChatCompletion> = new Models(chat).complete({
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
  });
  // @ts-expect-error: the decorated method keeps its parameter types
  new Models(chat).complete('hi');
  // @ts-expect-error: the decorated method keeps its parameter types
  new Answers().answer(1, 'en');

  const router = new ConcurrentRouter({ endpoints: [{ name: 'a', client: chat, maxConcurrent: 4 }] });
  const routed: Promise<RouteResult> = router.route({ model: 'm', messages: [] });

  const hits: ScoredChunk[] = new Bm25Index().search('refunds');
  const terms: string[] = createTokenizer()('possibly connected');
  // @ts-expect-error: a tokenizer returns strings
  const numbers: number[] = createTokenizer()('possibly connected');

  const nestOptions: CachetModuleOptions = { store: { redis: 'redis://localhost:6379' }, cache: { prefix: 'app' } };
  const nestModule = CachetModule.forRoot(nestOptions);
  // @ts-expect-error: `store` is 'memory', { redis: url }, { tiered: url } or a CacheStore
  CachetModule.forRoot({ store: 'redis' });
  const routeOptions: CacheRouteOptions = { ttl: '5m', tenant: (request) => String(request.headers?.['x-user']) };
  const cacheRoute = CacheRoute(routeOptions);
  // Not called: it would throw at run time, as the type says.
  const untenanted = () =>
    // @ts-expect-error: `tenant` is required (a function of the request, or false)
    CacheRoute({ ttl: '5m' });
  const aiOptions: CachetMiddlewareOptions = { cache, tenant: (params) => String(params.headers?.['x-tenant']) };
  const middleware: LanguageModelMiddleware = cachetMiddleware(aiOptions);
  // @ts-expect-error: `tenant` is required (a function or false)
  cachetMiddleware({ cache });

  const telemetry: InstrumentOptions = { caches: [cache] };
  const stopTelemetry: () => void = instrument(telemetry);
  // @ts-expect-error: `caches` holds caches
  instrument({ caches: ['faq'] });

  void [
    stores,
    like,
    completion,
    routed,
    hits,
    terms,
    numbers,
    nestModule,
    cacheRoute,
    untenanted,
    middleware,
    stopTelemetry,
  ];
}

async function main(): Promise<void> {
  const answers = new Answers();
  const first: Promise<string> = answers.answer('What is the refund policy?', 'en');
  if ((await first) !== (await answers.answer('What is the refund policy?', 'en')) || answers.calls !== 1) {
    throw new Error(`@Cached did not serve the second call from the cache (${answers.calls} calls)`);
  }
  if (isCachetError(new Error('plain'))) throw new Error('isCachetError accepted a plain Error');
  await cache.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
