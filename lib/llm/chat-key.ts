import { optionError } from '../core/validate';
import type { UsageFunction } from '../cache/method-ledger';
import type { SemanticQuestion } from '../cache/semantic-options';
import { CACHEABLE, reasonFor, verdictOf } from './chat-cacheable';
import { assertRequest, identityOf, type ChatIdentity } from './chat-identity';
import { ANSWER_FIELDS } from './chat-key-fields';
import {
  resolveChatKeyOptions,
  type ChatKeyOptions,
  type ChatNormalizeOptions,
  type ResolvedChatKey,
} from './chat-key-options';
import type { ChatMessage, ChatRequest } from './chat-request';
import { isWholeChatResult } from './chat-complete';
import { usageOfChatResult } from './chat-usage';

// Where they were first defined, so imports from this file keep working.

const ABSENT = 'absent (null or undefined), same as not sent';
const UNKNOWN = 'unknown field: included to be safe';

/** What went into a chat request's key, from {@link explainKey}. */
export interface ChatKeyExplanation {
  /** The tenant scope, or `null` when keys are shared by every tenant. */
  readonly tenant: string | null;
  /**
   * Exactly the value that is canonically encoded and hashed (after normalisation). Nothing is copied
   * that need not be: when no field is dropped and no text changed, `request` is your request object,
   * and unchanged messages are your message objects.
   */
  readonly identity: ChatIdentity;
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
function explainResolved(self: unknown, args: unknown[], resolved: ResolvedChatKey): ChatKeyExplanation {
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
