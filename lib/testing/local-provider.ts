import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../core/clock';
import { parseDuration, type Duration } from '../core/duration';
import { assertKnownOptions, assertPlainObject, optionError } from '../core/validate';
import { defaultReply, errorBody, invalidRequestReason, usageFor, type ChatRequestBody } from './chat-answer';
import {
  resolveOptions,
  resolveSettings,
  type LocalProviderOptions,
  type LocalProviderSettings,
  type ResolvedSettings,
} from './local-provider-options';
import { readBody, sleep, writeChatStream } from './sse';
import { OfflineEmbedder } from '../semantic/offline-embedder';

/**
 * An OpenAI-compatible server on 127.0.0.1 (`POST /v1/chat/completions`, JSON and server-sent events, and
 * `POST /v1/embeddings`)
 * for tests, demos and benchmarks that must not need the internet. Answers are deterministic (see
 * {@link defaultReply}); latency, errors, 429s, slow, broken, truncated and failing streams and the SSE
 * framing are configurable, and counters show what it served.
 * @example
 * const provider = new LocalProvider({ latency: '20ms' });
 * await provider.start();
 * const openai = new OpenAI({ baseURL: provider.url, apiKey: 'test' });
 * // ... run the code under test ...
 * expect(provider.maxInFlight).toBeLessThanOrEqual(4);
 * await provider.close();
 */
export class LocalProvider {
  /** Requests answered (any status), counted when the response ends or its socket is cut. */
  requests = 0;
  /** Requests being handled right now. */
  inFlight = 0;
  /** The most requests handled at once since the start or the last {@link resetCounters}. */
  maxInFlight = 0;
  /** Responses by HTTP status, e.g. `{ 200: 12, 429: 3 }`. */
  byStatus: Record<number, number> = {};
  /** Texts embedded by `POST /v1/embeddings`. */
  embeddedTexts = 0;

  #settings: ResolvedSettings;
  readonly #embedders = new Map<number, OfflineEmbedder>();
  readonly #port: number;
  readonly #random: () => number;
  readonly #clock: Clock;
  readonly #server: Server;
  #url: string | undefined;
  /** Planned failures, served in order: each for `left` more requests. */
  #failures: { readonly status: number; readonly retryAfterMs: number | undefined; left: number }[] = [];
  #window = { start: -1, count: 0 };
  #paused: (() => void)[] | undefined;
  #nextId = 1;

  constructor(options: LocalProviderOptions = {}) {
    const resolved = resolveOptions(options);
    this.#settings = resolved.settings;
    this.#port = resolved.port;
    this.#random = resolved.random;
    this.#clock = resolved.clock;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  /** The `baseURL` for clients, e.g. `http://127.0.0.1:53127/v1`. Throws before {@link start}. */
  get url(): string {
    if (this.#url === undefined) throw new Error('LocalProvider is not started; call `await provider.start()` first');
    return this.#url;
  }

  /** Starts listening on 127.0.0.1 and returns {@link url}. */
  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    const { port } = this.#server.address() as AddressInfo;
    return (this.#url = `http://127.0.0.1:${port}/v1`);
  }

  /** Stops listening and destroys every open socket, including kept-alive and streaming ones. */
  async close(): Promise<void> {
    this.resume();
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  /** Changes settings while running; omitted ones keep their value. Invalid ones throw a `TypeError`. */
  configure(settings: LocalProviderSettings): this {
    this.#settings = resolveSettings(settings, this.#settings);
    return this;
  }

  /**
   * Makes the next `count` requests fail with `status` (400..599) and an OpenAI-style error body; with
   * `retryAfter`, they carry it as `Retry-After` (whole seconds, rounded up) and `retry-after-ms` headers,
   * as a provider's 429 does. `count` may be `Infinity` (until {@link clearFailures}).
   */
  failNext(count: number, status = 500, options: { readonly retryAfter?: Duration } = {}): this {
    if (count !== Infinity && (!Number.isSafeInteger(count) || count < 1)) {
      throw optionError('count', 'a positive integer or Infinity', count);
    }
    if (!Number.isSafeInteger(status) || status < 400 || status > 599) {
      throw optionError('status', 'an HTTP error status between 400 and 599', status);
    }
    assertPlainObject('options', options);
    assertKnownOptions('failNext options', options, ['retryAfter']);
    const retryAfterMs = options.retryAfter === undefined ? undefined : parseDuration('retryAfter', options.retryAfter);
    this.#failures.push({ status, retryAfterMs, left: count });
    return this;
  }

  /** Drops the failures that {@link failNext} planned and that have not been served yet. */
  clearFailures(): this {
    this.#failures = [];
    return this;
  }

  /**
   * Holds every valid request that would be answered (it stays counted in {@link inFlight}) until
   * {@link resume}, so that tests can build up a known concurrency without relying on timing.
   */
  pause(): this {
    this.#paused ??= [];
    return this;
  }

  /** Releases the requests held by {@link pause}. */
  resume(): this {
    const waiting = this.#paused ?? [];
    this.#paused = undefined;
    for (const release of waiting) release();
    return this;
  }

  /** Sets `requests` and `byStatus` back to zero and `maxInFlight` to the current `inFlight`. */
  resetCounters(): void {
    this.requests = 0;
    this.maxInFlight = this.inFlight;
    this.byStatus = {};
    this.embeddedTexts = 0;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let counted = false;
    const done = (): void => {
      if (counted) return;
      counted = true;
      this.inFlight--;
      this.requests++;
    };
    res.once('close', done);
    try {
      await this.#answer(req, res);
    } catch (error) {
      if (!res.headersSent) this.#error(res, 500, String(error), 'server_error', 'internal_error');
    }
  }

  async #answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = req.url?.replace(/\?.*$/, '');
    if (req.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/v1/embeddings')) {
      return this.#error(res, 404, `Unknown route ${req.method} ${req.url}`, 'invalid_request_error', 'not_found');
    }
    const s = this.#settings;
    if (s.apiKey !== undefined && req.headers.authorization !== `Bearer ${s.apiKey}`) {
      return this.#error(res, 401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    }
    const retryAfterMs = this.#rateLimited(s.rateLimit);
    if (retryAfterMs !== undefined) {
      res.setHeader('Retry-After', String(Math.ceil(retryAfterMs / 1000)));
      res.setHeader('retry-after-ms', String(retryAfterMs));
      return this.#error(res, 429, 'Rate limit reached for requests.', 'requests', 'rate_limit_exceeded');
    }
    const forced = this.#failures[0];
    if (forced !== undefined) {
      if (--forced.left <= 0) this.#failures.shift();
      if (forced.retryAfterMs !== undefined) {
        res.setHeader('Retry-After', String(Math.ceil(forced.retryAfterMs / 1000)));
        res.setHeader('retry-after-ms', String(forced.retryAfterMs));
      }
      return this.#error(res, forced.status, `Forced failure ${forced.status}.`, 'server_error', null);
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return this.#error(res, 400, 'The request body is not valid JSON.', 'invalid_request_error', null);
    }
    if (path === '/v1/embeddings') return this.#embeddings(res, body);
    const invalid = invalidRequestReason(body);
    if (invalid) return this.#error(res, 400, invalid.message, 'invalid_request_error', null, invalid.param);
    if (s.errorRate > 0 && this.#random() < s.errorRate) {
      return this.#error(res, 500, 'The server had an error while processing your request.', 'server_error', null);
    }
    if (this.#paused) await new Promise<void>((resolve) => this.#paused?.push(resolve) ?? resolve());
    const [min, max] = s.latencyMs;
    await sleep(min === max ? min : min + this.#random() * (max - min));
    const request = body as ChatRequestBody;
    const answer = (s.reply ?? defaultReply)(request);
    const base = {
      id: `chatcmpl-local-${this.#nextId++}`,
      created: Math.floor(this.#clock.now() / 1000),
      model: request.model,
    };
    if (request.stream === true) {
      this.#count(200);
      const { chunkDelayMs, breakStreamAfter, truncateStreamAfter, streamError, framing } = s;
      return writeChatStream(res, {
        request,
        answer,
        base,
        chunkDelayMs,
        breakStreamAfter,
        truncateStreamAfter,
        streamError,
        framing,
      });
    }
    const message = { role: 'assistant', content: answer };
    this.#send(res, 200, {
      ...base,
      object: 'chat.completion',
      choices: [{ index: 0, message, logprobs: null, finish_reason: 'stop' }],
      usage: usageFor(request, answer),
    });
  }

  /**
   * `POST /v1/embeddings`, OpenAI's shape: `input` a string or an array of strings, `dimensions` optional.
   * The vectors come from the offline embedder (deterministic, no model download), so equal texts get
   * equal vectors and paraphrases land near each other as that embedder places them.
   */
  async #embeddings(res: ServerResponse, body: unknown): Promise<void> {
    const { model, input, dimensions } = (body ?? {}) as { model?: unknown; input?: unknown; dimensions?: unknown };
    const texts = typeof input === 'string' ? [input] : input;
    if (typeof model !== 'string' || !Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) {
      return this.#error(
        res,
        400,
        '`model` must be a string and `input` a string or an array of strings.',
        'invalid_request_error',
        null,
        'input',
      );
    }
    if (dimensions !== undefined && !(Number.isInteger(dimensions) && (dimensions as number) > 0)) {
      return this.#error(
        res,
        400,
        '`dimensions` must be a positive integer.',
        'invalid_request_error',
        null,
        'dimensions',
      );
    }
    const size = (dimensions as number | undefined) ?? 256;
    let embedder = this.#embedders.get(size);
    if (embedder === undefined) this.#embedders.set(size, (embedder = new OfflineEmbedder({ dimensions: size })));
    const vectors = await embedder.embed(texts as string[]);
    this.embeddedTexts += texts.length;
    const tokens = (texts as string[]).reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
    this.#send(res, 200, {
      object: 'list',
      data: vectors.map((vector, index) => ({ object: 'embedding', index, embedding: Array.from(vector) })),
      model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  /** Fixed one-second windows: returns the wait until the next window when this one is full. */
  #rateLimited(limit: number): number | undefined {
    if (limit === Infinity) return undefined;
    const now = this.#clock.now();
    const start = now - (now % 1000);
    if (start !== this.#window.start) this.#window = { start, count: 0 };
    if (this.#window.count >= limit) return start + 1000 - now;
    this.#window.count++;
    return undefined;
  }

  #error(
    res: ServerResponse,
    status: number,
    message: string,
    type: string,
    code: string | null,
    param: string | null = null,
  ): void {
    this.#send(res, status, errorBody(message, type, code, param));
  }

  #send(res: ServerResponse, status: number, body: object): void {
    this.#count(status);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  #count(status: number): void {
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
  }
}
