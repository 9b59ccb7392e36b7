import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ChatClient, type ChatCompletionChunk } from '../../lib/llm/chat-client';
import type { ChatRequest } from '../../lib/llm/chat-request';
import { errorFromResponse, isProviderError, ProviderError, retryAfterFrom } from '../../lib/llm/provider-error';
import { sseData } from '../../lib/llm/sse-reader';
import { isTransientError, retry } from '../../lib/resilience/retry';
import { LocalProvider, type LocalProviderOptions } from '../../lib/testing';
import { defaultReply } from '../../lib/testing/chat-answer';

const request: ChatRequest = {
  model: 'gpt-4o-mini',
  temperature: 0,
  messages: [{ role: 'user', content: 'Name three colours of the rainbow please' }],
};

const providers: LocalProvider[] = [];
const clients: ChatClient[] = [];

async function setup(
  providerOptions: LocalProviderOptions = {},
  clientOptions: Partial<ConstructorParameters<typeof ChatClient>[0]> = {},
): Promise<{ provider: LocalProvider; client: ChatClient }> {
  const provider = new LocalProvider(providerOptions);
  providers.push(provider);
  const baseURL = await provider.start();
  const client = new ChatClient({ baseURL, apiKey: 'test-key', ...clientOptions });
  clients.push(client);
  return { provider, client };
}

/** Polls a condition that depends on the provider noticing a closed socket; bounded, never a fixed sleep. */
async function eventually(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error,
  );
}

async function collect(chunks: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const all: ChatCompletionChunk[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return all;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(providers.splice(0).map((provider) => provider.close()));
});

describe('ChatClient.complete', () => {
  it("returns the provider's answer and usage", async () => {
    const { client } = await setup({ apiKey: 'test-key' });
    const completion = await client.complete(request);
    expect(completion.choices[0]?.message.content).toBe(defaultReply(request as never));
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage?.total_tokens).toBe(
      (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
    );
  });

  it('reuses kept-alive connections for sequential requests', async () => {
    // With one connection allowed, any socket not kept alive would show up as a second connect.
    const { provider, client } = await setup({}, { connections: 1 });
    const port = new URL(provider.url).port;
    let connects = 0;
    // undici announces every new socket on this channel; other tests' clients use other ports.
    const onConnect = (message: unknown): void => {
      if (String((message as { connectParams: { port: string | number } }).connectParams.port) === port) connects++;
    };
    subscribe('undici:client:connected', onConnect);
    try {
      for (let i = 0; i < 8; i++) await client.complete(request);
    } finally {
      unsubscribe('undici:client:connected', onConnect);
    }
    expect(provider.requests).toBe(8);
    expect(connects).toBe(1);
  });

  it('never has more than `connections` requests in flight at the provider', async () => {
    const { provider, client } = await setup({}, { connections: 2 });
    provider.pause();
    const calls = Array.from({ length: 10 }, () => client.complete(request));
    await eventually(() => provider.inFlight === 2);
    provider.resume();
    const completions = await Promise.all(calls);
    expect(completions).toHaveLength(10);
    expect(provider.maxInFlight).toBe(2);
    expect(provider.requests).toBe(10);
  });

  it('throws a ProviderError with status 429 and retryAfterMs when rate limited', async () => {
    const { client } = await setup({ rateLimit: 1 });
    await client.complete(request);
    const error = await failure(client.complete(request));
    expect(isProviderError(error)).toBe(true);
    const e = error as ProviderError;
    expect(e.code).toBe('ERR_CACHET_PROVIDER');
    expect(e.status).toBe(429);
    expect(e.retryAfterMs).toBeGreaterThanOrEqual(0);
    expect(e.retryAfterMs).toBeLessThanOrEqual(1000);
    expect(e.headers['retry-after']).toBeDefined();
    expect(e.message).toContain('Rate limit reached');
    expect(isTransientError(e)).toBe(true);
  });

  it('throws a transient ProviderError with status 500 on a server error', async () => {
    const { provider, client } = await setup();
    provider.failNext(1, 500);
    const error = (await failure(client.complete(request))) as ProviderError;
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.status).toBe(500);
    expect(error.message).toContain('Forced failure 500.');
    expect(isTransientError(error)).toBe(true);
    // The next call succeeds on the same pool.
    await expect(client.complete(request)).resolves.toHaveProperty('usage');
  });

  it('composes with retry(): 5xx answers are retried until the provider answers', async () => {
    const { provider, client } = await setup();
    provider.failNext(2, 502);
    const complete = retry((r: ChatRequest) => client.complete(r), { attempts: 3, base: 1, max: 1 });
    await expect(complete(request)).resolves.toHaveProperty('usage');
    expect(provider.byStatus).toEqual({ 502: 2, 200: 1 });
  });

  it('throws a non-transient 401 ProviderError for a wrong key', async () => {
    const { client } = await setup({ apiKey: 'right-key' }, { apiKey: 'wrong-key' });
    const error = (await failure(client.complete(request))) as ProviderError;
    expect(error.status).toBe(401);
    expect(error.providerCode).toBe('invalid_api_key');
    expect(error.message).toContain('Incorrect API key provided.');
    expect(isTransientError(error)).toBe(false);
  });

  it('takes the key from OPENAI_API_KEY when no apiKey option is given', async () => {
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = 'env-key';
    try {
      const { client } = await setup({ apiKey: 'env-key' }, { apiKey: undefined });
      await expect(client.complete(request)).resolves.toHaveProperty('choices');
      const { client: overriding } = await setup({ apiKey: 'env-key' }, { apiKey: 'option-key' });
      expect(((await failure(overriding.complete(request))) as ProviderError).status).toBe(401);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });

  it('rejects with the signal reason when aborted, and the provider sees the request end', async () => {
    const { provider, client } = await setup();
    provider.pause();
    const controller = new AbortController();
    const call = client.complete(request, { signal: controller.signal });
    await eventually(() => provider.inFlight === 1);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    await eventually(() => provider.inFlight === 0);
  });

  it('turns a refused connection into a transient ProviderError without status', async () => {
    const { provider, client } = await setup();
    await provider.close();
    const error = (await failure(client.complete(request))) as ProviderError;
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.status).toBeUndefined();
    expect(error.cause).toBeDefined();
    expect(isTransientError(error)).toBe(true);
  });
});

describe('ChatClient.stream', () => {
  it('yields chunks in order whose deltas add up to the non-streamed answer', async () => {
    const { client } = await setup();
    const chunks = await collect(client.stream({ ...request, stream_options: { include_usage: true } }));
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    const completion = await client.complete(request);
    expect(text).toBe(completion.choices[0]?.message.content);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.at(-1)?.usage?.total_tokens).toBe(completion.usage?.total_tokens);
    expect(chunks.some((chunk) => chunk.choices[0]?.finish_reason === 'stop')).toBe(true);
  });

  it('ends the request at the provider when the consumer stops early', async () => {
    const { provider, client } = await setup({ chunkDelay: '20ms' });
    let seen = 0;
    for await (const chunk of client.stream(request)) {
      expect(chunk.object).toBe('chat.completion.chunk');
      if (++seen === 2) break;
    }
    expect(seen).toBe(2);
    await eventually(() => provider.inFlight === 0);
  });

  it('stops the stream when the signal aborts', async () => {
    const { provider, client } = await setup({ chunkDelay: '20ms' });
    const controller = new AbortController();
    const reason = new Error('stop streaming');
    const consumed = (async () => {
      for await (const chunk of client.stream(request, { signal: controller.signal })) {
        void chunk;
        controller.abort(reason);
      }
    })();
    await expect(consumed).rejects.toBe(reason);
    await eventually(() => provider.inFlight === 0);
  });

  it('throws a ProviderError when the stream breaks mid-way', async () => {
    const { client } = await setup({ breakStreamAfter: 2 });
    const chunks: ChatCompletionChunk[] = [];
    const error = await failure(
      (async () => {
        for await (const chunk of client.stream(request)) chunks.push(chunk);
      })(),
    );
    expect(isProviderError(error)).toBe(true);
    expect((error as ProviderError).status).toBeUndefined();
    expect(isTransientError(error)).toBe(true);
    expect(chunks.length).toBeGreaterThanOrEqual(1);
  });

  it('throws a ProviderError with the status when the provider refuses the stream', async () => {
    const { provider, client } = await setup();
    provider.failNext(1, 503);
    const error = await failure(collect(client.stream(request)));
    expect((error as ProviderError).status).toBe(503);
  });
});

describe('ChatClient options', () => {
  it('rejects invalid options with a TypeError at construction', () => {
    expect(() => new ChatClient({ baseURL: 'not a url' })).toThrow('Expected `baseURL` to be an http(s) URL, got `"not a url"` (string)');
    expect(() => new ChatClient({ baseURL: 'http://127.0.0.1/v1', connections: 0 })).toThrow(
      'Expected `connections` to be a positive integer, got `0` (number)',
    );
    expect(() => new ChatClient({ baseURL: 'http://127.0.0.1/v1', conections: 2 } as never)).toThrow(
      'Unknown ChatClient option `conections`',
    );
  });
});

describe('retryAfterFrom', () => {
  it('prefers retry-after-ms, then reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterFrom({ 'retry-after-ms': '250', 'retry-after': '3' })).toBe(250);
    expect(retryAfterFrom({ 'retry-after': '3' })).toBe(3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterFrom({ 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' }, now)).toBe(7000);
    expect(retryAfterFrom({ 'retry-after': 'soon' })).toBeUndefined();
    expect(retryAfterFrom({})).toBeUndefined();
  });
});

describe('errorFromResponse', () => {
  it("keeps a non-JSON body as the message and stays transient for a 502", () => {
    const error = errorFromResponse(502, { 'content-type': 'text/html' }, '<h1>Bad gateway</h1>');
    expect(isProviderError(error)).toBe(true);
    expect(error.message).toBe('Provider answered 502: <h1>Bad gateway</h1>');
    expect(error.headers).toEqual({ 'content-type': 'text/html' });
    expect(isTransientError(error)).toBe(true);
  });

  it('reads message, type and code from an OpenAI error body', () => {
    const body = JSON.stringify({ error: { message: 'Bad model', type: 'invalid_request_error', code: 'model_not_found' } });
    const error = errorFromResponse(404, {}, body);
    expect([error.message, error.type, error.providerCode, error.status]).toEqual([
      'Provider answered 404: Bad model', 'invalid_request_error', 'model_not_found', 404,
    ]);
    expect(isTransientError(error)).toBe(false);
  });
});

describe('sseData', () => {
  async function* bytes(...parts: string[]): AsyncGenerator<Uint8Array> {
    for (const part of parts) yield new TextEncoder().encode(part);
  }
  async function all(source: AsyncIterable<Uint8Array>): Promise<{ data: string[]; done: boolean }> {
    const data: string[] = [];
    const events = sseData(source);
    for (let next = await events.next(); ; next = await events.next()) {
      if (next.done) return { data, done: next.value };
      data.push(next.value);
    }
  }

  it('joins events split across chunks, skips comments and stops at [DONE]', async () => {
    const result = await all(bytes(': ping\n\nda', 'ta: {"a":1}\r\n\r\nevent: x\ndata: line1\ndata: line2\n\n', 'data: [DONE]\n\ndata: after\n\n'));
    expect(result).toEqual({ data: ['{"a":1}', 'line1\nline2'], done: true });
  });

  it('reports an end without [DONE]', async () => {
    expect(await all(bytes('data: 1\n\n'))).toEqual({ data: ['1'], done: false });
  });

  it('keeps a multi-byte character split between chunks intact', async () => {
    const encoded = new TextEncoder().encode('data: é\n\n');
    async function* split(): AsyncGenerator<Uint8Array> {
      yield encoded.slice(0, 7);
      yield encoded.slice(7);
    }
    expect((await all(split())).data).toEqual(['é']);
  });
});
