import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ChatClient, type ChatCompletionChunk } from '../../lib/llm/chat-client';
import type { ChatRequest } from '../../lib/llm/chat-request';
import { errorFromResponse, isProviderError, ProviderError, retryAfterFrom } from '../../lib/llm/provider-error';
import { sseEvents } from '../../lib/llm/sse-events';
import { streamError } from '../../lib/llm/stream-error';
import { classifyFailure } from '../../lib/router/classify';
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

  /** Reads a stream to its end or its error: the chunks received, then the error (if any). */
  async function outcome(
    chunks: AsyncIterable<ChatCompletionChunk>,
  ): Promise<{ chunks: ChatCompletionChunk[]; error: unknown }> {
    const seen: ChatCompletionChunk[] = [];
    try {
      for await (const chunk of chunks) seen.push(chunk);
      return { chunks: seen, error: undefined };
    } catch (error) {
      return { chunks: seen, error };
    }
  }

  it('throws a transient ProviderError for an `event: error` mid-stream, after the chunks before it', async () => {
    const { client } = await setup({
      streamError: { after: 2, shape: 'event', type: 'overloaded_error', message: 'Overloaded' },
    });
    const { chunks, error } = await outcome(client.stream(request));
    // The role chunk and two content chunks; the error is never handed out as a chunk.
    expect(chunks).toHaveLength(3);
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    expect(isProviderError(error)).toBe(true);
    const e = error as ProviderError;
    expect(e.message).toContain('Overloaded');
    expect(e.type).toBe('overloaded_error');
    expect(e.inStream).toBe(true);
    expect(e.status).toBe(529);
    expect(isTransientError(e)).toBe(true);
  });

  it('throws a ProviderError for a bare `data: {"error": ...}` mid-stream, with its type and code', async () => {
    const streamError = {
      after: 1,
      shape: 'data',
      type: 'server_error',
      message: 'The server had an error',
      code: 'internal',
    } as const;
    const { client } = await setup({ streamError });
    const { chunks, error } = await outcome(client.stream(request));
    expect(chunks).toHaveLength(2);
    const e = error as ProviderError;
    expect(e).toBeInstanceOf(ProviderError);
    expect([e.type, e.providerCode, e.status, e.inStream]).toEqual(['server_error', 'internal', 500, true]);
    expect(e.message).toContain('The server had an error');
    expect(isTransientError(e)).toBe(true);
  });

  it('does not retry an error event that blames the request', async () => {
    const { client } = await setup({
      streamError: { after: 0, type: 'invalid_request_error', message: 'Bad tool schema' },
    });
    const { chunks, error } = await outcome(client.stream(request));
    expect(chunks).toHaveLength(1);
    expect((error as ProviderError).status).toBe(400);
    expect(isTransientError(error)).toBe(false);
  });

  it('composes with retry(): an overloaded stream is retried like a 529 answer', async () => {
    const { provider, client } = await setup({ streamError: { after: 1 } });
    let attempts = 0;
    const streamed = retry(
      async (r: ChatRequest) => {
        if (++attempts === 2) provider.configure({ streamError: false });
        return collect(client.stream(r));
      },
      { attempts: 3, base: 1, max: 1 },
    );
    const chunks = await streamed(request);
    expect(attempts).toBe(2);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(defaultReply(request as never));
  });

  describe('reads the SSE framing of any compliant server', () => {
    const expected = async (client: ChatClient): Promise<string> =>
      (await client.complete(request)).choices[0]!.message.content!;
    const text = (chunks: ChatCompletionChunk[]) =>
      chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');

    it('a `\\r\\n` cut between its `\\r` and its `\\n` by the network, in events spread over several data lines', async () => {
      const { client } = await setup({ framing: { lineEnding: '\r\n', multiLineData: true, split: 'line-ending' } });
      expect(text(await collect(client.stream(request)))).toBe(await expected(client));
    });

    it('multi-byte characters cut by the network', async () => {
      const reply = () => 'Grüße aus Zürich, 東京 and 🎉 too';
      const { client } = await setup({ reply, framing: { split: 'utf8' } });
      expect(text(await collect(client.stream(request)))).toBe(reply());
    });

    it('comments, bare `\\r` line endings and three-byte writes', async () => {
      const { client } = await setup({ framing: { lineEnding: '\r', comments: true, split: 3 } });
      expect(text(await collect(client.stream(request)))).toBe(await expected(client));
    });
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
    expect(() => new ChatClient({ baseURL: 'not a url' })).toThrow(
      'Expected `baseURL` to be an http(s) URL, got `"not a url"` (string)',
    );
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
  it('keeps a non-JSON body as the message and stays transient for a 502', () => {
    const error = errorFromResponse(502, { 'content-type': 'text/html' }, '<h1>Bad gateway</h1>');
    expect(isProviderError(error)).toBe(true);
    expect(error.message).toBe('Provider answered 502: <h1>Bad gateway</h1>');
    expect(error.headers).toEqual({ 'content-type': 'text/html' });
    expect(isTransientError(error)).toBe(true);
  });

  it('reads message, type and code from an OpenAI error body', () => {
    const body = JSON.stringify({
      error: { message: 'Bad model', type: 'invalid_request_error', code: 'model_not_found' },
    });
    const error = errorFromResponse(404, {}, body);
    expect([error.message, error.type, error.providerCode, error.status]).toEqual([
      'Provider answered 404: Bad model',
      'invalid_request_error',
      'model_not_found',
      404,
    ]);
    expect(isTransientError(error)).toBe(false);
  });
});

describe('sseEvents', () => {
  async function* bytes(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
    for (const part of parts) yield typeof part === 'string' ? new TextEncoder().encode(part) : part;
  }
  async function all(
    source: AsyncIterable<Uint8Array>,
  ): Promise<{ events: { event?: string; data: string }[]; done: boolean }> {
    const events: { event?: string; data: string }[] = [];
    const reader = sseEvents(source);
    for (let next = await reader.next(); ; next = await reader.next()) {
      if (next.done) return { events, done: next.value };
      events.push(
        next.value.event === undefined ? { data: next.value.data } : { event: next.value.event, data: next.value.data },
      );
    }
  }

  it('joins events split across chunks, keeps event names, skips comments and stops at [DONE]', async () => {
    const result = await all(
      bytes(
        ': ping\n\nda',
        'ta: {"a":1}\r\n\r\nevent: error\ndata: line1\ndata: line2\n\n',
        'data: [DONE]\n\ndata: after\n\n',
      ),
    );
    expect(result).toEqual({ events: [{ data: '{"a":1}' }, { event: 'error', data: 'line1\nline2' }], done: true });
  });

  it('keeps a `\\r\\n` whose halves arrive in two chunks as one line ending', async () => {
    expect((await all(bytes('data: a\r', '\ndata: b\r', '\n\r', '\n'))).events).toEqual([{ data: 'a\nb' }]);
  });

  it('reports an end without [DONE]', async () => {
    expect(await all(bytes('data: 1\n\n'))).toEqual({ events: [{ data: '1' }], done: false });
    expect(await all(bytes('data: 1\n\ndata: [DONE]\n'))).toEqual({ events: [{ data: '1' }], done: false });
  });

  it('takes a final `\\r` as the line ending it is when the bytes end', async () => {
    expect(await all(bytes('data: 1\r\rdata: [DONE]\r\r'))).toEqual({ events: [{ data: '1' }], done: true });
  });

  it('keeps a multi-byte character split between chunks intact', async () => {
    const encoded = new TextEncoder().encode('data: é🎉\n\n');
    expect((await all(bytes(encoded.slice(0, 7), encoded.slice(7, 10), encoded.slice(10)))).events).toEqual([
      { data: 'é🎉' },
    ]);
  });

  it('fails with a ProviderError on megabytes without a line break, rather than buffer them', async () => {
    const line = 'x'.repeat(1024 * 1024);
    const error = await failure(all(bytes('data: ', ...Array.from({ length: 9 }, () => line))));
    expect(isProviderError(error)).toBe(true);
    expect((error as Error).message).toContain('not server-sent events');
  });
});

describe('streamError', () => {
  it('reads the OpenAI, Anthropic and Google shapes, with or without an event name', () => {
    const openai = streamError(undefined, {
      error: { message: 'Try again', type: 'server_error', param: null, code: null },
    });
    expect([openai?.status, openai?.type, openai?.message]).toEqual([
      500,
      'server_error',
      'Provider sent an error mid-stream (server_error): Try again',
    ]);
    const anthropic = streamError('error', {
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    expect([anthropic?.status, anthropic?.inStream]).toEqual([529, true]);
    const google = streamError(undefined, {
      error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' },
    });
    expect([google?.status, google?.providerCode]).toEqual([503, '503']);
    expect(streamError(undefined, { error: 'upstream closed' })?.message).toBe(
      'Provider sent an error mid-stream: upstream closed',
    );
  });

  it('takes an `error` event without an `error` field, even one that is not JSON, as the error itself', () => {
    expect(streamError('error', { type: 'rate_limit_error', message: 'Slow down' })?.status).toBe(429);
    const text = streamError('error', 'upstream timed out');
    expect([text?.message, text?.status]).toEqual(['Provider sent an error mid-stream: upstream timed out', undefined]);
  });

  it('maps transient types to transient statuses and leaves unknown ones unretried', () => {
    const transient = ['overloaded_error', 'rate_limit_error', 'api_error', 'timeout_error', 'service_unavailable'];
    for (const type of transient) expect(isTransientError(streamError(undefined, { error: { type } }))).toBe(true);
    const permanent = [
      'invalid_request_error',
      'authentication_error',
      'permission_error',
      'insufficient_quota',
      'something_new',
    ];
    for (const type of permanent) expect(isTransientError(streamError(undefined, { error: { type } }))).toBe(false);
    // The router reads the same verdicts: move on from an overloaded endpoint, stop on a bad request.
    expect(classifyFailure(streamError('error', { error: { type: 'overloaded_error' } }))).toBe('next');
    expect(classifyFailure(streamError('error', { error: { type: 'invalid_request_error' } }))).toBe('fail');
    const context = streamError(undefined, {
      error: { type: 'invalid_request_error', code: 'context_length_exceeded', message: 'too long' },
    });
    expect(classifyFailure(context)).toBe('larger-context');
  });

  it('is undefined for an ordinary chunk, `error: null` included', () => {
    expect(streamError(undefined, { id: 'c', choices: [] })).toBeUndefined();
    expect(streamError('message', { id: 'c', choices: [], error: null })).toBeUndefined();
    expect(streamError(undefined, '[1,2]')).toBeUndefined();
  });
});
