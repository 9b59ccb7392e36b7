import { assertKnownOptions, assertPlainObject, optionError } from '../core/validate';
import type { ChatMessage, ChatRequest } from './chat-request';

/** Options of {@link estimateChatTokens}. */
export interface EstimateChatTokensOptions {
  /**
   * Completion tokens assumed for a request that sets neither `max_completion_tokens` nor `max_tokens`.
   * A whole number >= 0.
   * @default 256
   */
  readonly completionTokens?: number;
}

/** Characters per token of English text with OpenAI's tokenizers, the usual rule of thumb. */
const CHARS_PER_TOKEN = 4;
/** Tokens a chat format adds around each message (role and separators), about 3 to 4 for OpenAI's models. */
const PER_MESSAGE = 4;
const DEFAULT_COMPLETION = 256;

/**
 * An estimate of the tokens a chat request will use, prompt and completion together, to reserve from a
 * token limit before the call (`@RateLimited`'s `cost`, a router endpoint's `tokensPerMinute`). It is
 * an estimate, not a count: the characters of every message (text parts, tool calls) and tool definition
 * divided by four, 4 more per message, plus the completion the request allows (`max_completion_tokens`,
 * else `max_tokens`, else `completionTokens`), times `n`. No tokenizer is loaded. Correct the estimate
 * from the answer's `usage` (`actualCost`): what it got wrong is refunded or charged then.
 *
 * @example estimateChatTokens({ model: 'm', messages: [{ role: 'user', content: 'Hello there!' }], max_tokens: 100 }) // 3 + 4 + 100 = 107
 */
export function estimateChatTokens(request: ChatRequest, options: EstimateChatTokensOptions = {}): number {
  assertPlainObject('options', options);
  assertKnownOptions('estimateChatTokens', options, ['completionTokens']);
  const { completionTokens = DEFAULT_COMPLETION } = options;
  if (!Number.isInteger(completionTokens) || completionTokens < 0) {
    throw optionError('completionTokens', 'a whole number >= 0', completionTokens);
  }
  if (request === null || typeof request !== 'object' || !Array.isArray(request.messages)) {
    throw optionError('request', 'a chat request with a `messages` array', request);
  }
  let chars = 0;
  for (const message of request.messages) chars += messageChars(message);
  if (Array.isArray(request.tools)) chars += JSON.stringify(request.tools).length;
  const prompt = Math.ceil(chars / CHARS_PER_TOKEN) + PER_MESSAGE * request.messages.length;
  const completion = request.max_completion_tokens ?? request.max_tokens ?? completionTokens;
  const choices = typeof request.n === 'number' && request.n > 1 ? request.n : 1;
  return prompt + choices * (Number.isFinite(completion) && completion > 0 ? completion : 0);
}

function messageChars(message: ChatMessage): number {
  let chars = 0;
  const { content } = message;
  if (typeof content === 'string') chars += content.length;
  else if (Array.isArray(content)) {
    for (const part of content as readonly { readonly text?: unknown }[]) {
      if (typeof part.text === 'string') chars += part.text.length;
    }
  }
  for (const call of message.tool_calls ?? []) chars += call.function.name.length + call.function.arguments.length;
  return chars;
}
