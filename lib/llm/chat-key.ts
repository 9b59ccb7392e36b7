import { CachetError } from '../core/errors';
import { assertKnownOptions, assertPlainObject, optionError } from '../core/validate';
import type { UsageFunction } from '../cache/method-ledger';
import type { SemanticQuestion } from '../cache/semantic-options';
import { ANSWER_FIELDS, CHAT_IGNORED_FIELDS } from './chat-key-fields';
import { isPlainObject, MessageNormalizer, type ChangeCounter } from './chat-normalize';
import type { ChatMessage, ChatRequest } from './chat-request';
import { isWholeChatResult } from './chat-complete';
import { usageOfChatResult } from './chat-usage';

/** Which prompt normalisations to apply to message text (string content and `text` parts only). */
export interface ChatNormalizeOptions {
  /** Collapse every run of whitespace (newlines too) to one space and trim. @default false */
  readonly whitespace?: boolean;
  /** Unicode NFC, so composed and decomposed accents (`é` vs `e\u0301`) meet. @default false */
  readonly nfc?: boolean;
  /** Lower-case the text. Changes meaning for some prompts; only if asked. @default false */
  readonly lowercase?: boolean;
}

/** Options of {@link chatKeyPolicy} (which requires `tenant`) and {@link explainKey}. */
export interface ChatKeyOptions {
  /**
   * Prompt normalisation before hashing: `true` means `{ whitespace: true, nfc: true }` (never case).
   * @default false (texts are hashed exactly as sent)
   */
  readonly normalize?: boolean | ChatNormalizeOptions;
  /**
   * Cache calls that sample (temperature absent or above 0 without a `seed`, or `n` > 1 without a seed).
   * Off, such calls bypass the cache, because a cached sample would freeze one random answer forever.
   * @default false
   */
  readonly cacheNonDeterministic?: boolean;
  /**
   * The tenant of a call, called with the method's `this` and arguments; it becomes part of the key, so
   * tenants never share entries. It must return a non-empty string; anything else throws
   * {@link ChatKeyError} rather than share. `false` shares every entry between all callers, on purpose.
   * {@link chatKeyPolicy} requires a choice; {@link explainKey} treats absent as `false`.
   */
  readonly tenant?: false | ((this: any, ...args: any[]) => string);
  /** More request fields that do not change the answer (e.g. a provider's tracing field). @default [] */
  readonly ignoreFields?: readonly string[];
}

/** The request had no usable shape, or the tenant function returned no tenant. */
export class ChatKeyError extends CachetError {
  readonly code = 'ERR_CACHET_CHAT_KEY';
  constructor(
    message: string,
    readonly found: unknown,
  ) {
    super(message);
  }
}

/** True for a {@link ChatKeyError}. */
export function isChatKeyError(error: unknown): error is ChatKeyError {
  return error instanceof ChatKeyError;
}

type Normalization = Required<ChatNormalizeOptions>;
const NO_NORMALIZATION = { whitespace: false, nfc: false, lowercase: false } as const satisfies Normalization;
const NORMALIZE_TRUE = { whitespace: true, nfc: true, lowercase: false } as const satisfies Normalization;
const ABSENT = 'absent (null or undefined), same as not sent';
const UNKNOWN = 'unknown field: included to be safe';
const KNOWN = ['normalize', 'cacheNonDeterministic', 'tenant', 'ignoreFields'] as const;

/** Options resolved once, when the policy is made. */
interface Resolved {
  readonly normalize: Normalization;
  readonly cacheNonDeterministic: boolean;
  readonly tenant: ((this: any, ...args: any[]) => string) | undefined;
  readonly ignored: Readonly<Record<string, string>>;
  /** `undefined` when no normalisation is asked for. */
  readonly normalizer: MessageNormalizer | undefined;
}

/** What went into a chat request's key, from {@link explainKey}. */
export interface ChatKeyExplanation {
  /** The tenant scope, or `null` when keys are shared by every tenant. */
  readonly tenant: string | null;
  /**
   * Exactly the value that is canonically encoded and hashed (after normalisation). Nothing is copied
   * that need not be: when no field is dropped and no text changed, `request` is your request object,
   * and unchanged messages are your message objects.
   */
  readonly identity: { readonly tenant: string | null; readonly request: Readonly<Record<string, unknown>> };
  /** Fields in the key, with why they change the answer. */
  readonly included: readonly { readonly field: string; readonly reason: string }[];
  /** Fields left out of the key, with why. */
  readonly dropped: readonly { readonly field: string; readonly reason: string }[];
  /** The normalisation in force, and how many message texts it changed. */
  readonly normalize: Required<ChatNormalizeOptions> & { readonly changedTexts: number };
  /** Whether the call reads and writes the cache, and why. */
  readonly cacheable: boolean;
  readonly cacheableReason: string;
}

/** A key policy to spread into `@Cached` or `cache.wrap`; `explain` is non-enumerable, so it is not spread. */
export interface ChatKeyPolicy {
  /** The identity of a call (the request is the first argument); used as `@Cached`'s `key`. */
  readonly key: (this: any, request: ChatRequest, ...rest: any[]) => unknown;
  /** Whether the call may use the cache; used as `@Cached`'s `when`. */
  readonly when: (this: any, request: ChatRequest, ...rest: any[]) => boolean;
  /**
   * The model, tenant and token usage of a result, for the cache's cost ledger: the request's `model`
   * (as your price table names it), the tenant from `tenant`, and the `usage` of a completion, or of the
   * chunk that carries it in a stream (ask for it with `stream_options: { include_usage: true }`).
   * Results without usage (a method that returns only the text) record nothing.
   */
  readonly usage: UsageFunction;
  /**
   * Whether a result is a whole answer, used as `@Cached`'s `complete`: a stream is stored only once a
   * chunk with a `finish_reason` came for every choice, so one that a provider or proxy closed cleanly
   * mid-answer is not replayed for a whole TTL. See {@link isWholeChatResult}.
   */
  readonly complete: (result: unknown) => boolean;
  /** {@link explainKey} with this policy's options; pass `self` when the tenant function reads `this`. */
  readonly explain: (request: ChatRequest, self?: unknown, ...rest: unknown[]) => ChatKeyExplanation;
  /**
   * For `semantic`: the question is the last message when it is the user's (its text); the partition is
   * everything else the key holds (model, system prompt, answer-changing parameters, tools, earlier turns,
   * tenant). A request that does not end with a user message asks no semantic question.
   */
  readonly semanticQuestion: SemanticQuestion;
}

/**
 * A key policy for OpenAI-compatible chat requests. The key is the tenant (if any) plus the request minus
 * {@link CHAT_IGNORED_FIELDS}: model, messages (system prompt included) and every other field, known or
 * not. Absent fields stay absent and `null` counts as absent: provider defaults are never guessed, so
 * `temperature: 1` and no temperature are different keys. Only the first argument is read, so SDK request
 * options (timeouts, headers, signal) passed as a second argument never reach the key.
 *
 * `when` lets a call use the cache only if it is deterministic: `seed` given, or `temperature: 0` with at
 * most one choice. An absent temperature samples (OpenAI's default is 1), so it is not cached unless
 * `cacheNonDeterministic` is on.
 *
 * **`tenant` is required**: a function, so that one tenant's answers never reach another, or `false`
 * to share every entry between all callers on purpose (a single-tenant service, a public FAQ). There is
 * no default, so sharing never happens by accident.
 *
 * @example
 * class Assistant {
 *   constructor(private readonly tenantId: string) {}
 *   @Cached({ ttl: '1h', ...chatKeyPolicy({ normalize: true, tenant(this: Assistant) { return this.tenantId; } }) })
 *   async complete(request: ChatRequest): Promise<ChatResponse> { ... }
 * }
 */
export function chatKeyPolicy(options: ChatKeyOptions & Required<Pick<ChatKeyOptions, 'tenant'>>): ChatKeyPolicy {
  // `chatKeyPolicy()` gets the message about `tenant`, the option it is missing.
  const resolved = resolveChatKeyOptions(options ?? {});
  if (options?.tenant === undefined) {
    const expected =
      "a function returning the call's tenant, or false to share cached answers between all tenants on purpose";
    throw optionError('tenant', expected, undefined);
  }
  const policy = {
    key(this: unknown, ...args: unknown[]): unknown {
      return identityOf(this, args, resolved);
    },
    when(this: unknown, request: ChatRequest): boolean {
      return CACHEABLE[verdictOf(assertRequest(request), resolved)];
    },
    usage(this: unknown, result: unknown, ...args: unknown[]) {
      const request = args[0] as ChatRequest;
      return usageOfChatResult(result, request.model, resolved.tenant?.apply(this, args));
    },
    complete: isWholeChatResult,
    semanticQuestion: {
      text(this: unknown, request: ChatRequest): string | undefined {
        return lastUserText(assertRequest(request).messages);
      },
      partition(this: unknown, ...args: unknown[]): unknown {
        const identity = identityOf(this, args, resolved);
        const messages = identity.request.messages as readonly ChatMessage[];
        return { tenant: identity.tenant, request: { ...identity.request, messages: messages.slice(0, -1) } };
      },
    },
  };
  Object.defineProperty(policy, 'explain', {
    enumerable: false,
    value: (request: ChatRequest, self?: unknown, ...rest: unknown[]) =>
      explainResolved(self, [request, ...rest], resolved),
  });
  return policy as ChatKeyPolicy;
}

/**
 * Shows what went into a request's key, what was dropped and why, and whether the call is cacheable:
 * compare two explanations to see why two requests missed each other. It knows the request only; what a
 * semantic lookup would match (the question, its similarity, what refuses each candidate) depends on the
 * cached questions and the embedder: `cache.explainSemantic(instance, 'method', request)`.
 *
 * @example
 * const { dropped, cacheableReason } = explainKey(request, { normalize: true });
 */
export function explainKey(request: ChatRequest, options: ChatKeyOptions = {}, self?: unknown): ChatKeyExplanation {
  return explainResolved(self, [request], resolveChatKeyOptions(options));
}

/** The key's own {@link identityOf}, and the field lists and reasons that only an explanation needs. */
function explainResolved(self: unknown, args: unknown[], resolved: Resolved): ChatKeyExplanation {
  const counter = { changed: 0 };
  const identity = identityOf(self, args, resolved, counter);
  const request = args[0] as ChatRequest;
  const included: { field: string; reason: string }[] = [];
  const dropped: { field: string; reason: string }[] = [];
  for (const field of Object.keys(request).sort()) {
    const ignoredBecause = resolved.ignored[field];
    if (ignoredBecause !== undefined) dropped.push({ field, reason: ignoredBecause });
    else if (request[field] === undefined || request[field] === null) dropped.push({ field, reason: ABSENT });
    else
      included.push({
        field,
        reason: Object.hasOwn(ANSWER_FIELDS, field) ? (ANSWER_FIELDS[field] as string) : UNKNOWN,
      });
  }
  const verdict = verdictOf(request, resolved);
  return {
    tenant: identity.tenant,
    identity,
    included,
    dropped,
    normalize: { ...resolved.normalize, changedTexts: counter.changed },
    cacheable: CACHEABLE[verdict],
    cacheableReason: reasonFor(verdict, request),
  };
}

function resolveChatKeyOptions(options: ChatKeyOptions): Resolved {
  assertPlainObject('options', options);
  assertKnownOptions('chatKeyPolicy', options, KNOWN);
  const { normalize, cacheNonDeterministic = false, tenant, ignoreFields = [] } = options;
  if (typeof cacheNonDeterministic !== 'boolean') {
    throw optionError('cacheNonDeterministic', 'a boolean', cacheNonDeterministic);
  }
  if (tenant !== undefined && tenant !== false && typeof tenant !== 'function') {
    throw optionError('tenant', 'a function or false', tenant);
  }
  const keyField = (f: unknown) => typeof f !== 'string' || f === 'model' || f === 'messages';
  if (!Array.isArray(ignoreFields) || ignoreFields.some(keyField)) {
    throw optionError('ignoreFields', "an array of field names other than 'model' and 'messages'", ignoreFields);
  }
  // No prototype, so a request field named `constructor` or `toString` is not mistaken for an ignored one.
  const ignored: Record<string, string> = Object.assign(
    Object.create(null) as Record<string, string>,
    CHAT_IGNORED_FIELDS,
  );
  for (const field of ignoreFields) ignored[field] = 'listed in `ignoreFields`';
  const n = resolveNormalize(normalize);
  const normalizer = n.whitespace || n.nfc || n.lowercase ? new MessageNormalizer(n) : undefined;
  return { normalize: n, cacheNonDeterministic, tenant: tenant || undefined, ignored, normalizer };
}

function resolveNormalize(normalize: ChatKeyOptions['normalize']): Normalization {
  if (normalize === undefined || normalize === false) return NO_NORMALIZATION;
  if (normalize === true) return NORMALIZE_TRUE;
  assertPlainObject('normalize', normalize);
  assertKnownOptions('normalize', normalize, Object.keys(NO_NORMALIZATION));
  const merged: { -readonly [K in keyof ChatNormalizeOptions]-?: boolean } = { ...NO_NORMALIZATION };
  for (const name of Object.keys(NO_NORMALIZATION) as (keyof ChatNormalizeOptions)[]) {
    const value = normalize[name];
    if (value !== undefined && typeof value !== 'boolean') throw optionError(`normalize.${name}`, 'a boolean', value);
    if (value !== undefined) merged[name] = value;
  }
  return merged;
}

function assertRequest(request: unknown): ChatRequest {
  const r = request as ChatRequest | null;
  if (r === null || typeof r !== 'object' || typeof r.model !== 'string' || !Array.isArray(r.messages)) {
    const message = 'A chat key needs a request `{ model: string, messages: [...] }` as the first argument';
    throw new ChatKeyError(message, request);
  }
  return r;
}

/**
 * Exactly what is hashed into a call's key: the tenant, and the request minus dropped fields (ignored,
 * `null` or `undefined`) with its message texts normalised. Built on every call, so it copies nothing it
 * need not: a request that drops no field and whose texts need no change is used as it is (the usual
 * case), since a copy would encode to the same text. `counter` counts the texts normalisation changed.
 */
function identityOf(
  self: unknown,
  args: unknown[],
  resolved: Resolved,
  counter?: ChangeCounter,
): ChatKeyExplanation['identity'] {
  const request = assertRequest(args[0]);
  let tenant: string | null = null;
  if (resolved.tenant !== undefined) {
    const found: unknown = resolved.tenant.apply(self, args);
    // Falling back to a shared key would leak one tenant's answers to another; refuse instead.
    if (typeof found !== 'string' || found.length === 0) {
      const message = 'The `tenant` function must return a non-empty string; refusing to share the entry';
      throw new ChatKeyError(message, found);
    }
    tenant = found;
  }
  return { tenant, request: keptFields(request, resolved, counter) };
}

function isDropped(request: ChatRequest, field: string, ignored: Resolved['ignored']): boolean {
  const value = request[field];
  return value === undefined || value === null || ignored[field] !== undefined;
}

function keptFields(
  request: ChatRequest,
  resolved: Resolved,
  counter: ChangeCounter | undefined,
): Readonly<Record<string, unknown>> {
  const messages = resolved.normalizer?.messages(request.messages, counter) ?? request.messages;
  if (messages === request.messages && isPlainObject(request) && !dropsAny(request, resolved.ignored)) return request;
  const kept: Record<string, unknown> = {};
  for (const field of Object.keys(request)) {
    if (!isDropped(request, field, resolved.ignored)) kept[field] = field === 'messages' ? messages : request[field];
  }
  return kept;
}

/** Whether any field is dropped, without allocating (`for...in` also visits inherited fields: a copy then drops those too). */
function dropsAny(request: ChatRequest, ignored: Resolved['ignored']): boolean {
  for (const field in request) if (isDropped(request, field, ignored)) return true;
  return false;
}

/** Why a call may or may not use the cache; the sentence is written only when explained. */
type Verdict = 'opted-in' | 'seed' | 'several-samples' | 'greedy' | 'no-temperature' | 'sampling';

const CACHEABLE: Readonly<Record<Verdict, boolean>> = {
  'opted-in': true,
  seed: true,
  'several-samples': false,
  greedy: true,
  'no-temperature': false,
  sampling: false,
};

function verdictOf(request: ChatRequest, resolved: Resolved): Verdict {
  if (resolved.cacheNonDeterministic) return 'opted-in';
  const { seed, temperature, n } = request;
  // A seed makes the provider's sampling reproducible (best effort), n > 1 choices included.
  if (typeof seed === 'number') return 'seed';
  if (typeof n === 'number' && n > 1) return 'several-samples';
  if (temperature === 0) return 'greedy';
  if (temperature === undefined || temperature === null) return 'no-temperature';
  return 'sampling';
}

function reasonFor(verdict: Verdict, { seed, n, temperature }: ChatRequest): string {
  switch (verdict) {
    case 'opted-in':
      return '`cacheNonDeterministic` is on';
    case 'seed':
      return `seed ${String(seed)} given: sampling is reproducible`;
    case 'several-samples':
      return `n = ${String(n)} asks for several different samples, and no seed`;
    case 'greedy':
      return 'temperature 0: greedy, deterministic';
    case 'no-temperature':
      return "temperature absent: the provider's default (1 on OpenAI) samples; set temperature 0 or a seed";
    case 'sampling':
      return `temperature ${String(temperature)} > 0 without a seed samples`;
  }
}

/** The text of the last message when it is the user's; `undefined` otherwise. */
function lastUserText(messages: readonly ChatMessage[]): string | undefined {
  const last = messages[messages.length - 1];
  if (last === undefined || last.role !== 'user') return undefined;
  const { content } = last;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  const texts: string[] = [];
  for (const part of content as readonly { type?: unknown; text?: unknown }[]) {
    // A part that is not text (an image, a file) cannot be compared by meaning: no semantic question.
    if (part.type !== 'text' || typeof part.text !== 'string') return undefined;
    texts.push(part.text);
  }
  return texts.join('\n');
}
