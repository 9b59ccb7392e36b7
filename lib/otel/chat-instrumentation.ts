import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Histogram,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type {
  ChatCallOptions,
  ChatClient,
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionUsage,
} from '../llm/chat-client';
import type { ChatRequest } from '../llm/chat-request';
import { optionError } from '../core/validate';
import { ATTRIBUTES, DURATION_BUCKETS, GEN_AI, METRICS } from './names';
import { assertOtelOptions, assertShape, errorType, meterOf, tracerOf, type OtelOptions } from './otel-options';
import { patchMethod } from './patch-method';

/** Options of {@link instrumentChatClient}. */
export interface ChatInstrumentationOptions extends OtelOptions {
  /**
   * The provider, as the GenAI conventions name it (`gen_ai.provider.name`, also set as the older
   * `gen_ai.system`): `openai`, `azure.ai.openai`, `groq`, ... for the OpenAI-compatible API a
   * `ChatClient` speaks. @default 'openai'
   */
  readonly providerName?: string;
}

/** Token counts per call reach into the millions; the GenAI conventions advise powers of four. */
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304];

/**
 * Traces a {@link ChatClient}'s calls with the GenAI semantic conventions: a `chat {model}` client span
 * per `complete` or `stream` (to its last chunk), child of the active span (a `cachet.fill`, a route, a
 * request), with the request's model and parameters and the response's model, id, finish reasons and
 * token usage; and the conventions' `gen_ai.client.token.usage` and `gen_ai.client.operation.duration`
 * histograms. It wraps the two methods on this instance; returns a function that restores them.
 * @example
 * const stop = instrumentChatClient(client, { providerName: 'openai', tracerProvider, meterProvider });
 */
export function instrumentChatClient(client: ChatClient, options: ChatInstrumentationOptions = {}): () => void {
  assertShape('client', client, 'a ChatClient', ['complete', 'stream']);
  assertOtelOptions('instrumentChatClient', options, ['providerName']);
  const provider = options.providerName ?? 'openai';
  if (typeof provider !== 'string' || provider === '')
    throw optionError('providerName', 'a provider name such as openai', provider);
  const calls = new ChatCalls(provider, options);
  const stopComplete = patchMethod(
    client,
    'complete',
    (original) =>
      function complete(
        this: ChatClient,
        request: ChatRequest,
        callOptions?: ChatCallOptions,
      ): Promise<ChatCompletion> {
        const call = calls.start(request);
        return context
          .with(call.context, () => original.call(this, request, callOptions))
          .then(
            (completion) => {
              call.end(
                completion,
                completion.usage,
                completion.choices.map((c) => c.finish_reason ?? 'unknown'),
              );
              return completion;
            },
            (error: unknown) => call.fail(error),
          );
      },
  );
  const stopStream = patchMethod(
    client,
    'stream',
    (original) =>
      async function* stream(
        this: ChatClient,
        request: ChatRequest,
        callOptions?: ChatCallOptions,
      ): AsyncGenerator<ChatCompletionChunk, void> {
        const call = calls.start(request);
        const chunks = context.with(call.context, () => original.call(this, request, callOptions));
        let last: ChatCompletionChunk | undefined;
        let usage: ChatCompletionUsage | undefined;
        const reasons: string[] = [];
        try {
          for (;;) {
            const next = await context.with(call.context, () => chunks.next());
            if (next.done === true) break;
            last = next.value;
            if (last.usage) usage = last.usage;
            for (const choice of last.choices) if (choice.finish_reason) reasons[choice.index] = choice.finish_reason;
            yield last;
          }
        } catch (error) {
          call.fail(error, false);
        } finally {
          // A consumer that stopped early ends here too: close the inner stream, which frees the socket.
          await chunks.return(undefined);
          call.end(
            last,
            usage,
            reasons.filter((r) => r !== undefined),
          );
        }
      },
  );
  return () => {
    stopComplete();
    stopStream();
  };
}

/** Opens and closes the span and records the metrics of each call. */
class ChatCalls {
  readonly #tracer: Tracer;
  readonly #tokens: Histogram;
  readonly #duration: Histogram;

  constructor(
    readonly provider: string,
    options: OtelOptions,
  ) {
    this.#tracer = tracerOf(options);
    const meter = meterOf(options);
    this.#tokens = meter.createHistogram(METRICS.genAiTokenUsage, {
      description: 'Tokens used per model call, by token type',
      unit: '{token}',
      advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
    });
    this.#duration = meter.createHistogram(METRICS.genAiOperationDuration, {
      description: 'Duration of model calls',
      unit: 's',
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
    });
  }

  start(request: ChatRequest): ChatCall {
    const model = String(request.model);
    const attributes: Attributes = {
      [GEN_AI.operationName]: 'chat',
      [GEN_AI.providerName]: this.provider,
      [GEN_AI.system]: this.provider,
      [GEN_AI.requestModel]: model,
    };
    if (typeof request.max_tokens === 'number') attributes[GEN_AI.requestMaxTokens] = request.max_tokens;
    if (typeof request.temperature === 'number') attributes[GEN_AI.requestTemperature] = request.temperature;
    const parent = context.active();
    const span = this.#tracer.startSpan(`chat ${model}`, { kind: SpanKind.CLIENT, attributes }, parent);
    return new ChatCall(span, trace.setSpan(parent, span), attributes, performance.now(), this.#tokens, this.#duration);
  }
}

/** One model call in flight. */
class ChatCall {
  #ended = false;
  /** `error.type` of a failure, for the duration metric. */
  #errorType: string | undefined;

  constructor(
    readonly span: Span,
    readonly context: Context,
    readonly attributes: Attributes,
    readonly started: number,
    readonly tokens: Histogram,
    readonly duration: Histogram,
  ) {}

  /** Ends the span with what the response said (for a stream, its last chunk and its usage), once. */
  end(
    response: { readonly id?: string; readonly model?: string } | undefined,
    usage: ChatCompletionUsage | null | undefined,
    finishReasons: readonly string[],
  ): void {
    if (this.#ended) return;
    this.#ended = true;
    const { span } = this;
    const metric: Attributes = {
      [GEN_AI.operationName]: 'chat',
      [GEN_AI.providerName]: this.attributes[GEN_AI.providerName],
      [GEN_AI.requestModel]: this.attributes[GEN_AI.requestModel],
    };
    if (response?.model !== undefined) {
      span.setAttribute(GEN_AI.responseModel, response.model);
      metric[GEN_AI.responseModel] = response.model;
    }
    if (response?.id !== undefined) span.setAttribute(GEN_AI.responseId, response.id);
    if (finishReasons.length > 0) span.setAttribute(GEN_AI.finishReasons, [...finishReasons]);
    if (usage) {
      span.setAttribute(GEN_AI.inputTokens, usage.prompt_tokens);
      span.setAttribute(GEN_AI.outputTokens, usage.completion_tokens);
      this.tokens.record(usage.prompt_tokens, { ...metric, [GEN_AI.tokenType]: 'input' });
      this.tokens.record(usage.completion_tokens, { ...metric, [GEN_AI.tokenType]: 'output' });
    }
    if (this.#errorType !== undefined) metric[ATTRIBUTES.errorType] = this.#errorType;
    this.duration.record((performance.now() - this.started) / 1_000, metric);
    span.end();
  }

  /** Marks the call failed and rethrows; for `complete` (`end`), also ends it. A stream ends in its `finally`. */
  fail(error: unknown, end = true): never {
    this.#errorType = errorType(error);
    this.span.setAttribute(ATTRIBUTES.errorType, this.#errorType);
    this.span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    if (end) this.end(undefined, undefined, []);
    throw error;
  }
}
