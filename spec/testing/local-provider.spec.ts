import { request } from 'undici';
import { LocalProvider } from '../../lib/testing';

const userRequest = (content: string, extra: object = {}) => ({
  model: 'local-model',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content },
  ],
  ...extra,
});

async function post(provider: LocalProvider, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${provider.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

// Response bodies are inspected loosely, as a test of the wire format should.
const json = (response: Response): Promise<any> => response.json() as Promise<any>;

/** Reads an SSE body into its `data:` payloads, in order. */
async function readEvents(response: Response): Promise<string[]> {
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
}

/** A small deterministic generator (mulberry32), so that errorRate tests are reproducible. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('LocalProvider', () => {
  let provider: LocalProvider;
  const open: LocalProvider[] = [];
  const make = async (options?: ConstructorParameters<typeof LocalProvider>[0]): Promise<LocalProvider> => {
    const p = new LocalProvider(options);
    open.push(p);
    await p.start();
    return p;
  };

  afterEach(async () => {
    await Promise.all(open.splice(0).map((p) => p.close()));
  });

  it('answers a chat completion in the OpenAI shape with a deterministic text and estimated usage', async () => {
    provider = await make();
    const response = await post(provider, userRequest('What is 2+2?'));
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'local-model',
      choices: [
        {
          index: 0,
          finish_reason: 'stop',
          message: { role: 'assistant', content: 'Local answer from local-model to: What is 2+2?' },
        },
      ],
    });
    // "Be brief.\nWhat is 2+2?" is 22 characters -> 6 tokens; the 47-character answer -> 12 tokens.
    expect(body.usage).toEqual({ prompt_tokens: 6, completion_tokens: 12, total_tokens: 18 });
    const again = await json(await post(provider, userRequest('What is 2+2?')));
    expect(again.choices[0].message.content).toBe(body.choices[0].message.content);
    expect(provider.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  });

  it('streams deltas in order, ending with [DONE], whose concatenation equals the JSON answer', async () => {
    provider = await make();
    const whole = await json(await post(provider, userRequest('Tell me a story')));
    const response = await post(
      provider,
      userRequest('Tell me a story', { stream: true, stream_options: { include_usage: true } }),
    );
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const events = await readEvents(response);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    const deltas = chunks.flatMap((c) =>
      c.choices.map((choice: { delta: { content?: string } }) => choice.delta.content ?? ''),
    );
    expect(deltas.filter((d) => d !== '')).toEqual([
      'Local ',
      'answer ',
      'from ',
      'local-model ',
      'to: ',
      'Tell ',
      'me ',
      'a ',
      'story',
    ]);
    expect(deltas.join('')).toBe(whole.choices[0].message.content);
    expect(chunks.at(-1).usage).toEqual(whole.usage);
  });

  it('counts 10 concurrent requests in maxInFlight and all of them in requests', async () => {
    provider = await make();
    provider.pause();
    const all = Array.from({ length: 10 }, (_, i) => post(provider, userRequest(`q${i}`)));
    for (let i = 0; i < 500 && provider.inFlight < 10; i++) await new Promise((r) => setTimeout(r, 10));
    expect(provider.inFlight).toBe(10);
    provider.resume();
    const statuses = await Promise.all(all.map(async (r) => (await r).status));
    expect(statuses).toEqual(Array(10).fill(200));
    expect(provider.maxInFlight).toBe(10);
    expect(provider.requests).toBe(10);
    expect(provider.inFlight).toBe(0);
    expect(provider.byStatus).toEqual({ 200: 10 });
    provider.resetCounters();
    expect([provider.requests, provider.maxInFlight, provider.byStatus]).toEqual([0, 0, {}]);
  });

  it('holds each answer for the configured latency (fake timers)', async () => {
    provider = await make({ latency: '5s' });
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      let settled = false;
      const pending = post(provider, userRequest('slow')).then((r) => {
        settled = true;
        return r.status;
      });
      const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
      for (let i = 0; i < 5_000 && provider.inFlight < 1; i++) await turn();
      expect(provider.inFlight).toBe(1);
      await jest.advanceTimersByTimeAsync(4_999);
      for (let i = 0; i < 20; i++) await turn();
      expect(settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(await pending).toBe(200);
    } finally {
      jest.useRealTimers();
    }
  });

  it('answers 429 with Retry-After and retry-after-ms above rateLimit, and again in the next second', async () => {
    let now = 10_250;
    provider = await make({ rateLimit: 2, clock: { now: () => now } });
    expect((await post(provider, userRequest('a'))).status).toBe(200);
    expect((await post(provider, userRequest('b'))).status).toBe(200);
    const limited = await post(provider, userRequest('c'));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.headers.get('retry-after-ms')).toBe('750');
    expect((await json(limited)).error.code).toBe('rate_limit_exceeded');
    now = 11_000;
    expect((await post(provider, userRequest('d'))).status).toBe(200);
    provider.configure({ rateLimit: Infinity });
    expect((await post(provider, userRequest('e'))).status).toBe(200);
    expect((await post(provider, userRequest('f'))).status).toBe(200);
  });

  it('fails the share of requests given by errorRate, reproducibly with a seeded random', async () => {
    const run = async (): Promise<number[]> => {
      const p = await make({ errorRate: 0.3, random: seeded(42) });
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await post(p, userRequest(`q${i}`))).status);
      return statuses;
    };
    const first = await run();
    const failures = first.filter((s) => s === 500).length;
    expect(failures).toBeGreaterThan(3);
    expect(failures).toBeLessThan(25);
    expect(first.filter((s) => s !== 500).every((s) => s === 200)).toBe(true);
    expect(await run()).toEqual(first);
  });

  it('fails exactly the next n requests with the status given to failNext', async () => {
    provider = await make();
    provider.failNext(2, 503);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(provider, userRequest('x'))).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect(provider.byStatus).toEqual({ 503: 2, 200: 1 });
  });

  it('sends Retry-After with failNext({ retryAfter }), fails until cleared with Infinity, and validates', async () => {
    provider = await make();
    provider.failNext(1, 429, { retryAfter: '1500ms' }).failNext(Infinity, 503);
    const limited = await post(provider, userRequest('x'));
    expect([limited.status, limited.headers.get('retry-after'), limited.headers.get('retry-after-ms')]).toEqual([
      429,
      '2',
      '1500',
    ]);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(provider, userRequest('x'))).status);
    expect(statuses).toEqual([503, 503, 503]);
    provider.clearFailures();
    expect((await post(provider, userRequest('x'))).status).toBe(200);
    expect(() => provider.failNext(0)).toThrow(/count.*positive integer or Infinity/);
    expect(() => provider.failNext(1, 429, { retryAfter: 'soon' })).toThrow(/retryAfter/);
    expect(() => provider.failNext(1, 429, { wait: '1s' } as never)).toThrow(/wait/);
  });

  it('cuts a stream after breakStreamAfter chunks so that the client read fails mid-way', async () => {
    provider = await make({ breakStreamAfter: 3 });
    const response = await post(provider, userRequest('one two three four five', { stream: true }));
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    const read = async (): Promise<void> => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received += decoder.decode(value);
      }
    };
    await expect(read()).rejects.toThrow();
    expect(received).not.toContain('[DONE]');
    expect(received).toContain('"from "');
    expect(received).not.toContain('"local-model "');
  });

  it('sends an `event: error` after `streamError.after` chunks in place of the rest, then [DONE]', async () => {
    provider = await make({ streamError: { after: 2 } });
    const text = await (await post(provider, userRequest('one two three four five', { stream: true }))).text();
    const events = text.split('\n\n').filter(Boolean);
    // Role chunk, two content chunks, the error, [DONE].
    expect(events).toHaveLength(5);
    expect(events[3]).toBe(
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded","code":null}}',
    );
    expect(events[4]).toBe('data: [DONE]');
    expect(text).not.toContain('finish_reason":"stop"');
  });

  it('sends a bare `data: {"error": ...}` with the type, message and code given', async () => {
    provider = await make();
    provider.configure({
      streamError: { after: 0, shape: 'data', type: 'rate_limit_error', message: 'Slow down', code: 'rate_limit' },
    });
    const events = await readEvents(await post(provider, userRequest('hi', { stream: true })));
    expect(events.slice(1)).toEqual([
      '{"error":{"type":"rate_limit_error","message":"Slow down","code":"rate_limit","param":null}}',
      '[DONE]',
    ]);
    provider.configure({ streamError: false });
    expect((await readEvents(await post(provider, userRequest('hi', { stream: true })))).join()).not.toContain('error');
  });

  it('ends a stream cleanly without finish_reason after truncateStreamAfter chunks', async () => {
    provider = await make({ truncateStreamAfter: 1 });
    const events = await readEvents(
      await post(provider, userRequest('one two three', { stream: true, stream_options: { include_usage: true } })),
    );
    expect(events).toHaveLength(3);
    expect(JSON.parse(events[1]!).choices[0]).toMatchObject({ delta: { content: 'Local ' }, finish_reason: null });
    expect(events[2]).toBe('[DONE]');
  });

  it('frames events with the line ending, data lines and comments asked for', async () => {
    provider = await make({ framing: { lineEnding: '\r\n', multiLineData: true, comments: true } });
    const text = await (await post(provider, userRequest('hi', { stream: true }))).text();
    const first = text.split('\r\n\r\n')[0]!;
    const lines = first.split('\r\n');
    expect(lines[0]).toBe(': keep-alive');
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.slice(1).every((line) => line.startsWith('data: '))).toBe(true);
    expect(
      JSON.parse(
        lines
          .slice(1)
          .map((line) => line.slice(6))
          .join('\n'),
      ).object,
    ).toBe('chat.completion.chunk');
    expect(text).not.toMatch(/[^\r]\n/);
    expect(text.endsWith(': keep-alive\r\ndata: [DONE]\r\n\r\n')).toBe(true);
  });

  it('cuts writes between `\\r` and `\\n`, and inside multi-byte characters, so that a client reads the pieces apart', async () => {
    const pieces = async (p: LocalProvider): Promise<string[]> => {
      const response = await request(`${p.url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(userRequest('hi', { stream: true })),
      });
      const parts: string[] = [];
      for await (const part of response.body) parts.push((part as Buffer).toString('latin1'));
      return parts;
    };
    const crlf = await pieces(await make({ framing: { lineEnding: '\r\n', split: 'line-ending' } }));
    expect(crlf.slice(0, 3)).toEqual([expect.stringMatching(/^data: \{.*\}\r$/), '\n\r', '\n']);
    const utf8 = await pieces(await make({ reply: () => 'é', framing: { split: 'utf8' } }));
    // 'é' is 0xC3 0xA9: one piece ends with its first byte, the next starts with its second.
    const cut = utf8.findIndex((piece) => piece.endsWith('\u00c3'));
    expect(cut).toBeGreaterThan(-1);
    expect(utf8[cut + 1]?.startsWith('\u00a9')).toBe(true);
  });

  it('answers 400 with an OpenAI-style error for a missing model, missing messages or invalid JSON', async () => {
    provider = await make();
    const noModel = await post(provider, { messages: [{ role: 'user', content: 'hi' }] });
    expect(noModel.status).toBe(400);
    expect((await json(noModel)).error).toMatchObject({ type: 'invalid_request_error', param: 'model' });
    const noMessages = await post(provider, { model: 'm' });
    expect((await json(noMessages)).error.param).toBe('messages');
    expect(noMessages.status).toBe(400);
    expect((await post(provider, '{not json')).status).toBe(400);
  });

  it('requires the Bearer key only when apiKey is set', async () => {
    provider = await make({ apiKey: 'sk-local' });
    const denied = await post(provider, userRequest('hi'));
    expect(denied.status).toBe(401);
    expect((await json(denied)).error.code).toBe('invalid_api_key');
    expect((await post(provider, userRequest('hi'), { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(provider, userRequest('hi'), { authorization: 'Bearer sk-local' })).status).toBe(200);
    const open = await make();
    expect((await post(open, userRequest('hi'))).status).toBe(200);
  });

  it('close() ends open streams and stops accepting connections', async () => {
    provider = await make({ chunkDelay: '1h' });
    const response = await post(provider, userRequest('a slow story', { stream: true }));
    const reading = response.text();
    await provider.close();
    await expect(reading).rejects.toThrow();
    await expect(post(provider, userRequest('again'))).rejects.toThrow();
  });

  it('rejects invalid options with a TypeError in the standard format', () => {
    expect(() => new LocalProvider({ errorRate: 2 })).toThrow(
      'Expected `errorRate` to be a number between 0 and 1, got `2` (number)',
    );
    expect(() => new LocalProvider({ latency: ['2s', '1s'] })).toThrow(TypeError);
    expect(() => new LocalProvider({ rateLimit: 0 })).toThrow(
      'Expected `rateLimit` to be a positive integer or Infinity, got `0` (number)',
    );
    expect(() => new LocalProvider({ port: -1 })).toThrow(TypeError);
    expect(() => new LocalProvider({ latnecy: 5 } as never)).toThrow('Unknown LocalProvider option `latnecy`');
    expect(() => new LocalProvider().configure({ chunkDelay: 'soon' })).toThrow(TypeError);
    expect(() => new LocalProvider().failNext(1, 200)).toThrow(TypeError);
    expect(() => new LocalProvider().url).toThrow('not started');
    expect(() => new LocalProvider({ streamError: { after: -1 } })).toThrow(
      'Expected `streamError.after` to be a non-negative integer or Infinity, got `-1` (number)',
    );
    expect(() => new LocalProvider({ streamError: { after: 1, shape: 'sse' as never } })).toThrow(
      "Expected `streamError.shape` to be one of 'event', 'data', got `\"sse\"` (string)",
    );
    expect(() => new LocalProvider({ framing: { split: 0 } })).toThrow(
      "Expected `framing.split` to be 'event', 'line-ending', 'utf8' or a positive integer, got `0` (number)",
    );
    expect(() => new LocalProvider({ framing: { lineEnding: '\n\n' as never } })).toThrow(TypeError);
    expect(() => new LocalProvider({ framing: { split: 'event', pad: 1 } as never })).toThrow(
      'Unknown framing option `pad`',
    );
    expect(() => new LocalProvider({ truncateStreamAfter: 1.5 })).toThrow(TypeError);
  });
});
