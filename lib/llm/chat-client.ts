import type { EventSourceMessage } from 'eventsource-parser';
import type { Agent, Dispatcher } from 'undici';
import { loadUndici, providerPool } from './undici';
import type { ChatRequest } from './chat-request';
import {
  resolveChatClientOptions,
  type ChatClientOptions,
  type ResolvedChatClientOptions,
} from './chat-client-options';
import { ProviderError, errorFromResponse, plainHeaders } from './provider-error';
import { sseEvents } from './sse-events';
import { streamError } from './stream-error';

/** Token counts a provider reports for one completion. */
export interface ChatCompletionUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
  readonly [field: string]: unknown;
}

/** A non-streamed chat completion, typed as far as cachet reads it; other fields pass through. */
export interface ChatCompletion {
  readonly id: string;
  readonly model: string;
  readonly choices: readonly {
    readonly index: number;
    readonly message: { readonly role: string; readonly content: string | null; readonly [field: string]: unknown };
    readonly finish_reason: string | null;
    readonly [field: string]: unknown;
  }[];
  readonly usage?: ChatCompletionUsage;
  readonly [field: string]: unknown;
}

/** One server-sent chunk of a streamed completion. The last may carry only `usage` (no choices). */
export interface ChatCompletionChunk {
  readonly id: string;
  readonly model: string;
  readonly choices: readonly {
    readonly index: number;
    readonly delta: { readonly role?: string; readonly content?: string | null; readonly [field: string]: unknown };
    readonly finish_reason: string | null;
    readonly [field: string]: unknown;
  }[];
  readonly usage?: ChatCompletionUsage | null;
  readonly [field: string]: unknown;
}

/** Per-call options of {@link ChatClient.complete} and {@link ChatClient.stream}. */
export interface ChatCallOptions {
  /** Aborts the request (and a stream's body); the call rejects with the signal's reason. @default undefined */
  readonly signal?: AbortSignal;
}

/**
 * A small OpenAI-compatible chat client with its own connection pool (an undici `Agent`): sockets are
 * kept alive and reused, and at most `connections` are open to the provider at once, so a burst of calls
 * queues in the pool instead of opening hundreds of sockets. Failures are {@link ProviderError}s shaped for
 * `@Retry` (429/5xx/network are transient, `retryAfterMs` is honoured). One client per provider; `close()`
 * it on shutdown.
 * @example
 * const client = new ChatClient({ baseURL: 'https://api.openai.com/v1', connections: 8 });
 * class Assistant {
 *   @Cached({ ttl: '1h' }) @Retry({ attempts: 4 })
 *   answer(request: ChatRequest): Promise<ChatCompletion> { return client.complete(request); }
 * }
 */
export class ChatClient {
  readonly #options: ResolvedChatClientOptions;
  readonly #agent: Agent;

  constructor(options: ChatClientOptions) {
    this.#options = resolveChatClientOptions(options);
    this.#agent = providerPool(this.#options);
  }

  /** Sends a chat request and returns the parsed completion, `usage` included. */
  async complete(request: ChatRequest, options: ChatCallOptions = {}): Promise<ChatCompletion> {
    // A caller's `stream: true` would make the provider answer with events this method cannot parse.
    const body: Record<string, unknown> = { ...request };
    delete body.stream;
    const response = await this.#post(body, options.signal);
    const text = await this.#read(() => response.body.text(), options.signal);
    try {
      return JSON.parse(text) as ChatCompletion;
    } catch (error) {
      throw new ProviderError('Provider answered 200 with a body that is not JSON', {
        status: response.statusCode,
        headers: plainHeaders(response.headers),
        cause: error,
      });
    }
  }

  /**
   * Streams a chat request (`stream: true` is set for you) as parsed chunks, in order. Stopping early
   * (`break`, `return()`) or aborting the signal destroys the response body, which frees the socket and
   * ends the request at the provider. Like any async generator, it sends the request on the first
   * `next()`, not when called.
   *
   * It throws a {@link ProviderError}, after the chunks that came before, when the stream breaks before
   * `data: [DONE]`, and when the provider reports an error inside the stream: an `event: error`, or a
   * payload with an `error` field (a model overloaded mid-answer). Such an error carries the provider's
   * type, code and message, `inStream: true`, and the status the provider gives that type over HTTP
   * (529 for `overloaded_error`, 429 for rate limits, 500 for server errors, 400 for a bad request), so
   * `@Retry` and the router treat it as they treat that status.
   * @example
   * for await (const chunk of client.stream(request)) process.stdout.write(chunk.choices[0]?.delta.content ?? '');
   */
  async *stream(request: ChatRequest, options: ChatCallOptions = {}): AsyncGenerator<ChatCompletionChunk, void> {
    const { signal } = options;
    const response = await this.#post({ ...request, stream: true }, signal);
    const events = sseEvents(response.body);
    try {
      let next: IteratorResult<EventSourceMessage, boolean>;
      while (!(next = await this.#read(() => events.next(), signal)).done) {
        yield parseChunk(next.value);
      }
      if (!next.value) throw new ProviderError('Provider stream ended before `data: [DONE]`');
    } finally {
      // Runs on normal end, on errors and when the consumer stops early: a no-op on a consumed body,
      // otherwise it closes the socket so the provider stops generating (and billing) tokens.
      if (!response.body.destroyed) response.body.destroy();
    }
  }

  /**
   * Closes the pool: waits for running requests, then closes every socket. Later calls fail.
   * @example process.once('SIGTERM', () => void client.close());
   */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  async #post(body: object, signal: AbortSignal | undefined): Promise<Dispatcher.ResponseData> {
    const { origin, completionsPath, headers } = this.#options;
    const response = await this.#read(
      () =>
        loadUndici().request(`${origin}${completionsPath}`, {
          dispatcher: this.#agent,
          method: 'POST',
          headers,
          body: JSON.stringify(body),
          signal,
        }),
      signal,
    );
    if (response.statusCode >= 200 && response.statusCode < 300) return response;
    const text = await this.#read(() => response.body.text(), signal);
    throw errorFromResponse(response.statusCode, plainHeaders(response.headers), text);
  }

  /**
   * Runs an I/O step and turns its failure into a {@link ProviderError} with the undici error as `cause`
   * (its `code`, e.g. UND_ERR_SOCKET, is what `isTransientError` retries on). An abort is the caller's
   * decision, not a provider failure: it surfaces as the signal's own reason.
   */
  async #read<T>(step: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    try {
      return await step();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof ProviderError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new ProviderError(`Provider request failed: ${message}`, { cause: error });
    }
  }
}

/** A chunk, or the failure the event reports (see {@link streamError}). */
function parseChunk({ event, data }: EventSourceMessage): ChatCompletionChunk {
  let payload: unknown;
  try {
    payload = JSON.parse(data);
  } catch (error) {
    throw (
      streamError(event, data) ??
      new ProviderError(`Provider sent a stream event that is not JSON: ${data.slice(0, 200)}`, { cause: error })
    );
  }
  const failure = streamError(event, payload);
  if (failure !== undefined) throw failure;
  return payload as ChatCompletionChunk;
}
