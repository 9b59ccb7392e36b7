import type { LanguageModelMiddleware } from 'ai';
import type { Cache } from '../cache/cache';
import type { CallUsage } from '../cache/method-ledger';
import type { Duration } from '../core/duration';
import { assertKnownOptions, assertPlainObject, optionError } from '../core/validate';
import { ChatKeyError } from '../llm/chat-key-error';
import { isUnfinished, usageTokens } from './spec-shapes';

type WrapGenerate = NonNullable<LanguageModelMiddleware['wrapGenerate']>;
type WrapStream = NonNullable<LanguageModelMiddleware['wrapStream']>;

// Every type below comes from the `ai` package the user installed, so it is that major's: `v2` types for
// `ai` 5, `v3` for `ai` 6, `v4` for `ai` 7. The code reads what differs between them by shape (spec-shapes.ts).

/** The options of one language model call (`LanguageModelV2CallOptions`, `V3`, `V4` by the `ai` major). */
export type AiSdkCallOptions = Parameters<WrapGenerate>[0]['params'];
/** The language model a middleware wraps (`LanguageModelV2`, `V3`, `V4`). */
export type AiSdkModel = Parameters<WrapGenerate>[0]['model'];
/** What a model's `doGenerate` resolves to. */
export type AiSdkGenerateResult = Awaited<ReturnType<WrapGenerate>>;
type StreamResult = Awaited<ReturnType<WrapStream>>;
/** One part of a model's stream (`LanguageModelV2StreamPart`, `V3`, `V4`). */
export type AiSdkStreamPart = StreamResult['stream'] extends ReadableStream<infer P> ? P : never;

/** Options of {@link cachetMiddleware}. */
export interface CachetMiddlewareOptions {
  /** The cache that stores answers (memory, or Redis through `RedisStore` so every instance shares them). */
  readonly cache: Cache;
  /**
   * The tenant of a call, read from its options (e.g. a header your code sets, or `providerOptions`); it
   * becomes part of the key, so tenants never share entries. It must return a non-empty string, else the
   * call throws a `ChatKeyError` rather than share. `false` shares every entry between all callers on
   * purpose. Required: there is no default, so sharing never happens by accident.
   */
  readonly tenant: false | ((params: AiSdkCallOptions) => string);
  /** How long an answer stays. @default the cache's `ttl` */
  readonly ttl?: Duration;
  /** Tags of every entry (for `cache.invalidateTags`), or a function of the call's options. */
  readonly tags?: readonly string[] | ((params: AiSdkCallOptions) => readonly string[]);
  /**
   * Cache only calls that are deterministic: `temperature: 0`, or a `seed`. A call without a temperature
   * samples at the provider's default (1 on OpenAI), so it is bypassed too, as `chatKeyPolicy` does.
   * `false` caches every call (a cached sample then freezes one random answer for the TTL).
   * @default true
   */
  readonly deterministicOnly?: boolean;
  /** The cache namespace of the entries (`cache.clear({ namespace })` removes exactly them). @default the cache's */
  readonly namespace?: string;
}

/**
 * What a cached `generateText` / `generateObject` call keeps of the model's answer: what the AI SDK builds
 * its result from. The request body, the response headers and body are dropped (large, and often
 * secret-bearing); a hit returns them absent.
 */
export type StoredGenerate = Readonly<Omit<AiSdkGenerateResult, 'request' | 'response'>> & {
  readonly response?: { readonly id?: string; readonly timestamp?: Date; readonly modelId?: string };
};

/** Call options that never change an answer: they stay out of the key. */
const IGNORED = new Set(['abortSignal', 'headers']);
const KNOWN = ['cache', 'tenant', 'ttl', 'tags', 'deterministicOnly', 'namespace'] as const;
/**
 * The middleware is the same for every `ai` major, which reads neither marker: `ai` 5's type allows
 * `middlewareVersion: 'v2'`, `ai` 6's requires `specificationVersion: 'v3'`, `ai` 7's allows any string.
 */
const MARKERS = { middlewareVersion: 'v2', specificationVersion: 'v3' } as const;

type RunGenerate = () => PromiseLike<AiSdkGenerateResult>;
type OpenStream = () => PromiseLike<StreamResult>;

// Module-level, so every middleware on one cache is the same cached function (one owner, no collision
// warning) and equal calls share entries whichever middleware made them; the key holds the tenant.
async function aiSdkGenerate(_params: AiSdkCallOptions, _model: AiSdkModel, run: RunGenerate): Promise<StoredGenerate> {
  return storedGenerate(await run());
}

async function* aiSdkStream(
  _params: AiSdkCallOptions,
  _model: AiSdkModel,
  open: OpenStream,
): AsyncGenerator<AiSdkStreamPart, void> {
  const { stream } = await open();
  const reader = stream.getReader();
  let ended = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        ended = true;
        return;
      }
      yield next.value;
    }
  } catch (error) {
    ended = true;
    throw error;
  } finally {
    // Every reader stopped early: stop the provider's stream too.
    if (!ended) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/**
 * A Vercel AI SDK middleware (for `wrapLanguageModel`) that caches `generateText` / `generateObject`
 * answers and `streamText` streams in a cachet {@link Cache}.
 *
 * Works with `ai` 5, 6 and 7 (`LanguageModelV2`, `V3` and `V4` models). The key is the tenant, the model's
 * specification version, provider and id, and every call option except `abortSignal` and `headers` (prompt,
 * tools, tool choice, response format, temperature, topP, topK, maxOutputTokens, seed, stop sequences,
 * penalties, provider options). A stream is recorded part by part and replayed in order; identical calls
 * meanwhile share the live stream, and another instance waits for the recording (on Redis). A stream that
 * fails, carries an `error` part, or ends without a `finish` part (or with a finish reason that says it did
 * not end, as a cut-off stream has) stores nothing. When the cache has a cost ledger, fills and hits are
 * recorded under the model id with the answer's token usage.
 *
 * @example
 * const model = wrapLanguageModel({
 *   model: provider('gpt-4o-mini'),
 *   middleware: cachetMiddleware({ cache, tenant: (params) => String(params.headers?.['x-tenant']) }),
 * });
 * const { text } = await generateText({ model, prompt: 'Hi', temperature: 0 });
 */
export function cachetMiddleware(options: CachetMiddlewareOptions): LanguageModelMiddleware {
  assertPlainObject('options', options);
  assertKnownOptions('cachetMiddleware', options, KNOWN);
  const { cache, tenant, ttl, tags, deterministicOnly = true, namespace } = options;
  if (cache === null || typeof cache !== 'object' || typeof cache.wrap !== 'function') {
    throw optionError('cache', 'a Cache instance', cache);
  }
  if (tenant !== false && typeof tenant !== 'function') {
    const expected =
      "a function returning the call's tenant, or false to share cached answers between all tenants on purpose";
    throw optionError('tenant', expected, tenant);
  }
  if (typeof deterministicOnly !== 'boolean') throw optionError('deterministicOnly', 'a boolean', deterministicOnly);
  if (tags !== undefined && typeof tags !== 'function' && !Array.isArray(tags)) {
    throw optionError('tags', 'an array of tags or a function of the call options returning one', tags);
  }

  const tenantOf = (params: AiSdkCallOptions): string | undefined => {
    if (tenant === false) return undefined;
    const found: unknown = tenant(params);
    if (typeof found !== 'string' || found.length === 0) {
      const message = 'The `tenant` function must return a non-empty string; refusing to share the entry';
      throw new ChatKeyError(message, found);
    }
    return found;
  };
  const key = (params: AiSdkCallOptions, model: AiSdkModel): unknown => ({
    tenant: tenantOf(params) ?? null,
    // The model's specification version: a `v2` answer is never replayed to a `v3` or `v4` caller.
    spec: model.specificationVersion,
    provider: model.provider,
    model: model.modelId,
    call: keyedOptions(params),
  });
  const when = (params: AiSdkCallOptions): boolean =>
    !deterministicOnly || typeof params.seed === 'number' || params.temperature === 0;
  const tagsOf =
    tags === undefined
      ? undefined
      : typeof tags === 'function'
        ? (_result: unknown, params: AiSdkCallOptions) => tags(params)
        : tags;
  const common = { cache, key, when, ttl, namespace, tags: tagsOf };

  const generate = cache.wrap(aiSdkGenerate, {
    ...common,
    usage: (result: StoredGenerate, params: AiSdkCallOptions, model: AiSdkModel) =>
      callUsage(result.usage, params, model, tenantOf),
  });
  const stream = cache.wrap(aiSdkStream, {
    ...common,
    stream: true,
    complete: (parts: readonly AiSdkStreamPart[]) => isWholeStream(parts),
    usage: (parts: readonly AiSdkStreamPart[], params: AiSdkCallOptions, model: AiSdkModel) => {
      const finish = parts.find((part) => part.type === 'finish');
      return finish === undefined ? undefined : callUsage(finish.usage, params, model, tenantOf);
    },
  });

  const middleware: LanguageModelMiddleware = {
    ...MARKERS,
    async wrapGenerate({ doGenerate, params, model }) {
      // The caller that runs the model gets its whole result; the others get the stored one.
      let own: AiSdkGenerateResult | undefined;
      const stored = await generate(params, model, async () => (own = await doGenerate()));
      return own ?? restoredGenerate(stored);
    },
    async wrapStream({ doStream, params, model }) {
      let own: StreamResult | undefined;
      const parts = stream(params, model, async () => (own = await doStream()))[Symbol.asyncIterator]();
      // Read the first part now, so that a failing request rejects here, where the AI SDK retries it.
      const first = await parts.next();
      return {
        ...(own === undefined ? {} : { request: own.request, response: own.response }),
        stream: toReadable(first, parts),
      };
    },
  };
  return middleware;
}

/** The call options that change an answer: all but `abortSignal`, `headers` and absent ones. */
function keyedOptions(params: AiSdkCallOptions): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && !IGNORED.has(field)) kept[field] = value;
  }
  return kept;
}

function callUsage(
  usage: unknown,
  params: AiSdkCallOptions,
  model: AiSdkModel,
  tenantOf: (params: AiSdkCallOptions) => string | undefined,
): CallUsage {
  return { model: model.modelId, usage: usageTokens(usage), tenant: tenantOf(params) };
}

/** Whether a recorded stream is a whole answer: a `finish` part that says why it ended, and no `error` part. */
export function isWholeStream(parts: readonly AiSdkStreamPart[]): boolean {
  let finished = false;
  for (const part of parts) {
    if (part.type === 'error') return false;
    if (part.type === 'finish') finished = !isUnfinished(part.finishReason);
  }
  return finished;
}

/** All of a result but the request and the response's headers and body; every major's own fields stay. */
function storedGenerate(result: AiSdkGenerateResult): StoredGenerate {
  const { request: _request, response, ...answer } = result;
  const stored: StoredGenerate = definedFields(answer);
  if (response === undefined) return stored;
  const { id, timestamp, modelId } = response;
  return { ...stored, response: definedFields({ id, timestamp, modelId }) };
}

function restoredGenerate(stored: StoredGenerate): AiSdkGenerateResult {
  return { ...stored, content: stored.content.map((part) => ({ ...part })) };
}

function definedFields<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** A web stream of the parts: the one already read, then the rest; cancelling it stops the iterator. */
function toReadable(
  first: IteratorResult<AiSdkStreamPart, unknown>,
  rest: AsyncIterator<AiSdkStreamPart, unknown>,
): ReadableStream<AiSdkStreamPart> {
  let pending: IteratorResult<AiSdkStreamPart, unknown> | undefined = first;
  return new ReadableStream<AiSdkStreamPart>({
    async pull(controller) {
      try {
        const next = pending ?? (await rest.next());
        pending = undefined;
        if (next.done === true) controller.close();
        else controller.enqueue(next.value);
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      await rest.return?.();
    },
  });
}
