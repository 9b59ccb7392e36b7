import type { ChatRequest } from './chat-request';
import { ChatKeyError } from './chat-key-error';
import type { ResolvedChatKey } from './chat-key-options';
import { isPlainObject, type ChangeCounter } from './chat-normalize';

/** Exactly what is hashed into a call's key: the tenant scope and the kept request. */
export interface ChatIdentity {
  readonly tenant: string | null;
  readonly request: Readonly<Record<string, unknown>>;
}

/** The request, or a {@link ChatKeyError} when it has no `{ model, messages }` shape. */
export function assertRequest(request: unknown): ChatRequest {
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
export function identityOf(
  self: unknown,
  args: unknown[],
  resolved: ResolvedChatKey,
  counter?: ChangeCounter,
): ChatIdentity {
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

function isDropped(request: ChatRequest, field: string, ignored: ResolvedChatKey['ignored']): boolean {
  const value = request[field];
  return value === undefined || value === null || ignored[field] !== undefined;
}

function keptFields(
  request: ChatRequest,
  resolved: ResolvedChatKey,
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
function dropsAny(request: ChatRequest, ignored: ResolvedChatKey['ignored']): boolean {
  for (const field in request) if (isDropped(request, field, ignored)) return true;
  return false;
}
