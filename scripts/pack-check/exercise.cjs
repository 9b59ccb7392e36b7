// What the pack check does with each entry point of the installed package. Every function receives the
// entry points as objects of named exports, so consumer.cjs (require) and consumer.mjs (named imports)
// run the same checks. Each one uses something real and throws when it does not behave.
'use strict';
const assert = require('node:assert/strict');
const net = require('node:net');

const REQUEST = {
  model: 'local-model',
  temperature: 0,
  messages: [{ role: 'user', content: 'What is the refund policy?' }],
};

function assertClasses(entry, exports, names) {
  for (const name of names) {
    assert.equal(typeof exports[name], 'function', `${entry}: ${name} is not exported as a class`);
    assert.equal(typeof exports[name].prototype, 'object', `${entry}: ${name} is not a constructor`);
  }
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

module.exports = {
  /** `cachet`: a hit on a memory cache, durations, errors. */
  async root({ root }) {
    assertClasses('cachet', root, [
      'Cache',
      'MemoryStore',
      'MemoryRateLimiter',
      'LocalSemaphore',
      'Circuit',
      'CachetError',
    ]);
    for (const decorator of [
      'Cached',
      'InvalidatesCache',
      'RateLimited',
      'Retry',
      'Timeout',
      'CircuitBreaker',
      'Concurrency',
      'Fallback',
    ]) {
      assert.equal(typeof root[decorator], 'function', `cachet: ${decorator} is not exported`);
    }
    const cache = new root.Cache({ store: new root.MemoryStore() });
    let calls = 0;
    const double = cache.wrap(async (x) => (calls++, x * 2), { name: 'double', ttl: '1m' });
    assert.deepEqual([await double(21), await double(21)], [42, 42]);
    assert.equal(calls, 1, 'cachet: the second call was not a cache hit');
    assert.equal(cache.stats().total.hits, 1);
    await cache.close();
    assert.equal(root.parseDuration('ttl', '10m'), 600_000);
  },

  /**
   * `cachet/redis`: the classes, the hash slot, and a RedisStore that connects (through @redis/client) to a
   * port where no Redis listens: the cache must go on without it. No Redis server is needed.
   */
  async redis({ root, redis }) {
    assertClasses('cachet/redis', redis, [
      'RedisStore',
      'TieredStore',
      'RedisBlobStore',
      'RedisCircuitState',
      'RedisSemaphore',
      'RedisRateLimiter',
      'RedisCostLedger',
    ]);
    assert.equal(redis.hashSlot('foo'), 12182, 'cachet/redis: hashSlot disagrees with CLUSTER KEYSLOT');
    assert.equal(redis.hashSlot('{user1}:a'), redis.hashSlot('{user1}:b'));
    const store = new redis.RedisStore({ url: `redis://127.0.0.1:${await closedPort()}`, operationTimeout: '100ms' });
    const cache = new root.Cache({ store });
    const errors = [];
    cache.on('error', (event) => errors.push(event));
    let calls = 0;
    const answer = cache.wrap(async () => (calls++, 'fresh'), { name: 'answer' });
    assert.deepEqual([await answer(), await answer()], ['fresh', 'fresh']);
    assert.equal(calls, 2, 'cachet/redis: with Redis down every call should run the method');
    assert.ok(errors.length > 0, 'cachet/redis: a RedisStore without a server reported no error');
    await cache.close();
  },

  /** `cachet/llm`: ChatClient (undici, eventsource-parser) against LocalProvider, and a cached chat call. */
  async llm({ root, llm, testing }) {
    assertClasses('cachet/llm', llm, ['ChatClient', 'ProviderError', 'ChatKeyError']);
    const provider = new testing.LocalProvider();
    const baseURL = await provider.start();
    const client = new llm.ChatClient({ baseURL, apiKey: 'test' });
    try {
      const completion = await client.complete(REQUEST);
      const content = completion.choices[0].message.content;
      assert.ok(content.length > 0, 'cachet/llm: empty completion');
      let streamed = '';
      for await (const chunk of client.stream(REQUEST)) streamed += chunk.choices[0]?.delta?.content ?? '';
      assert.equal(streamed, content, 'cachet/llm: the stream differs from the completion');

      const cache = new root.Cache();
      let calls = 0;
      const ask = cache.wrap(async (request) => (calls++, client.complete(request)), {
        name: 'ask',
        ...llm.chatKeyPolicy({ tenant: false }),
      });
      await ask(REQUEST);
      // The same request with a field the key ignores: a hit (temperature 0 makes the answer cacheable).
      await ask({ ...REQUEST, user: 'someone' });
      assert.equal(calls, 1, 'cachet/llm: chatKeyPolicy did not make the second request a hit');
      await cache.close();
    } finally {
      await client.close();
      await provider.close();
    }
  },

  /** `cachet/router`: one route through a ConcurrentRouter to LocalProvider. */
  async router({ llm, router, testing }) {
    assertClasses('cachet/router', router, ['ConcurrentRouter', 'RouterError']);
    const provider = new testing.LocalProvider();
    const baseURL = await provider.start();
    const client = new llm.ChatClient({ baseURL, apiKey: 'test' });
    try {
      const routed = new router.ConcurrentRouter({ endpoints: [{ name: 'local', client, maxConcurrent: 2 }] });
      const result = await routed.route(REQUEST);
      assert.equal(result.endpoint, 'local');
      assert.ok(result.response.choices[0].message.content.length > 0, 'cachet/router: empty response');
    } finally {
      await client.close();
      await provider.close();
    }
  },

  /** `cachet/retrieval`: the stemmer (ESM-only, through require(esm)) and a BM25 search. */
  async retrieval({ retrieval }) {
    assert.deepEqual(
      retrieval.createTokenizer()('possibly connected'),
      ['possibl', 'connect'],
      'cachet/retrieval: the stemmer did not load',
    );
    const index = new retrieval.Bm25Index();
    index.add({ id: 'refunds', text: 'Refunds are paid within 14 days of a return.' });
    index.add({ id: 'shipping', text: 'Orders ship within two working days.' });
    assert.equal(index.search('how are refunds paid')[0]?.docId, 'refunds');
    assert.deepEqual(
      retrieval.chunk('One two. Three four.', { size: 12, overlap: 0 }).map((c) => c.text),
      ['One two.', 'Three four.'],
    );
  },

  /** `cachet/testing`: a LocalProvider round trip over HTTP. */
  async testing({ testing }) {
    const provider = new testing.LocalProvider();
    const baseURL = await provider.start();
    try {
      const res = await fetch(`${baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(REQUEST),
      });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.ok(body.choices[0].message.content.length > 0, 'cachet/testing: empty answer');
    } finally {
      await provider.close();
    }
  },

  /**
   * `cachet/nestjs`: a Nest application context with CachetModule.forRoot: the injected default cache, a rate
   * limiter by name resolved at the first call, and everything closed and unregistered by app.close().
   */
  async nestjs({ root, nestjs }) {
    assertClasses('cachet/nestjs', nestjs, ['CachetModule', 'CachetRuntime', 'CachetInterceptor']);
    const { NestFactory } = require('@nestjs/core');
    const decorate = (decorators, target) => decorators.reduceRight((t, d) => d(t) ?? t, target);
    class AppModule {}
    decorate(
      [
        require('@nestjs/common').Module({
          imports: [nestjs.CachetModule.forRoot({ rateLimiters: { packed: new root.MemoryRateLimiter() } })],
        }),
      ],
      AppModule,
    );
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    const cache = app.get(root.Cache);
    assert.ok(cache instanceof root.Cache, 'cachet/nestjs: the Cache token is not a Cache');
    const { rateLimited, isRateLimitError, isUnknownResourceError } = require('cachet');
    const limited = rateLimited(async () => 'ok', { limit: 1, interval: '1m', limiter: 'packed' });
    assert.equal(await limited(), 'ok');
    await assert.rejects(
      limited(),
      (error) => isRateLimitError(error),
      'cachet/nestjs: the named limiter did not limit',
    );
    await app.close();
    await assert.rejects(
      limited(),
      (error) => isUnknownResourceError(error),
      'cachet/nestjs: app.close() left the limiter registered',
    );
  },

  /**
   * `cachet/ai-sdk`: the middleware under the real `ai` package and @ai-sdk/openai-compatible against
   * LocalProvider: a repeated generateText and a repeated streamText each make one provider request.
   */
  async aiSdk({ root, testing, aiSdk }) {
    assert.equal(typeof aiSdk.cachetMiddleware, 'function', 'cachet/ai-sdk: cachetMiddleware is not exported');
    assertClasses('cachet/ai-sdk', aiSdk, ['ChatKeyError']);
    const { generateText, streamText, wrapLanguageModel } = require('ai');
    const { createOpenAICompatible } = require('@ai-sdk/openai-compatible');
    const provider = new testing.LocalProvider();
    const baseURL = await provider.start();
    const cache = new root.Cache({ store: new root.MemoryStore() });
    try {
      const local = createOpenAICompatible({ name: 'local', baseURL, apiKey: 'test', includeUsage: true });
      const middleware = aiSdk.cachetMiddleware({ cache, tenant: false });
      const model = wrapLanguageModel({ model: local.chatModel('local-model'), middleware });
      const ask = () => generateText({ model, prompt: 'What is the refund policy?', temperature: 0 });
      assert.equal((await ask()).text, (await ask()).text);
      const stream = async () => {
        let text = '';
        for await (const delta of streamText({ model, prompt: 'Stream it', temperature: 0 }).textStream) text += delta;
        return text;
      };
      assert.equal(await stream(), await stream());
      assert.equal(provider.requests, 2, 'cachet/ai-sdk: a repeated call reached the provider');
      assert.throws(() => aiSdk.cachetMiddleware({ cache }), /tenant/);
    } finally {
      await cache.close();
      await provider.close();
    }
  },

  /**
   * `cachet/otel`: a cache instrumented into the real OpenTelemetry API with no SDK installed (its no-op
   * providers): calls go on unchanged and stopping restores nothing it should not.
   */
  async otel({ root, otel }) {
    assert.equal(typeof otel.instrument, 'function', 'cachet/otel: instrument is not exported');
    assert.equal(otel.METRICS.cacheLookups, 'cachet.cache.lookups');
    const cache = new root.Cache();
    const stop = otel.instrument({ caches: [cache], stores: [cache.store] });
    const answer = cache.wrap(async (q) => `answer to ${q}`, { name: 'answer' });
    assert.equal(await answer('refunds'), await answer('refunds'));
    assert.equal(cache.stats().total.hits, 1, 'cachet/otel: an instrumented cache did not hit');
    stop();
    assert.equal(
      Object.prototype.hasOwnProperty.call(cache.store, 'get'),
      false,
      'cachet/otel: the store stayed patched',
    );
    assert.throws(() => otel.instrumentCache({}), /Expected `cache` to be a Cache/);
    await cache.close();
  },
};
