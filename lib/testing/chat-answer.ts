/**
 * The request and response shapes of `POST /v1/chat/completions` that the {@link LocalProvider} speaks, and
 * the pure functions that turn a request into a deterministic answer.
 */

/** A chat message as the OpenAI API accepts it; `content` may be a string or an array of parts. */
export interface ChatMessageBody {
  readonly role: string;
  readonly content?: string | readonly { readonly type: string; readonly text?: string }[] | null;
  readonly [extra: string]: unknown;
}

/** The parts of a chat request the local provider reads; other fields are accepted and ignored. */
export interface ChatRequestBody {
  readonly model: string;
  readonly messages: readonly ChatMessageBody[];
  readonly stream?: boolean;
  readonly stream_options?: { readonly include_usage?: boolean };
  readonly [extra: string]: unknown;
}

/** Token counts in the OpenAI shape. */
export interface ChatUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

/** The plain text of a message, joining text parts. */
export function messageText(message: ChatMessageBody): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (typeof part.text === 'string' ? part.text : '')).join('');
}

/**
 * The default answer: the model and the last user message, so that a test can predict it.
 * @example defaultReply({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] }) // 'Local answer from m to: Hi'
 */
export function defaultReply(request: ChatRequestBody): string {
  const lastUser = [...request.messages].reverse().find((m) => m.role === 'user');
  return `Local answer from ${request.model} to: ${lastUser ? messageText(lastUser) : ''}`;
}

/** The usual rough estimate of about four characters per token, at least one token for non-empty text. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Usage of a request and its answer, estimated with {@link estimateTokens}. */
export function usageFor(request: ChatRequestBody, answer: string): ChatUsage {
  const prompt = estimateTokens(request.messages.map(messageText).join('\n'));
  const completion = estimateTokens(answer);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/**
 * Splits an answer into stream pieces, one word each with its trailing whitespace, so that joining the pieces
 * gives the answer back exactly.
 */
export function splitIntoChunks(answer: string): string[] {
  return answer.split(/(?<=\s)(?=\S)/).filter((piece) => piece.length > 0);
}

/** Returns why a body is not a valid chat request, or `undefined` when it is. */
export function invalidRequestReason(body: unknown): { message: string; param: string } | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { message: 'The request body must be a JSON object.', param: 'body' };
  }
  const { model, messages } = body as Record<string, unknown>;
  if (typeof model !== 'string' || model.length === 0) {
    return { message: "Missing required parameter: 'model'.", param: 'model' };
  }
  if (!Array.isArray(messages) || messages.length === 0) {
    return { message: "Missing required parameter: 'messages'.", param: 'messages' };
  }
  if (messages.some((m) => m === null || typeof m !== 'object' || typeof (m as { role?: unknown }).role !== 'string')) {
    return { message: "Each entry of 'messages' must be an object with a 'role'.", param: 'messages' };
  }
  return undefined;
}

/** An OpenAI-style error body: `{ error: { message, type, param, code } }`. */
export function errorBody(message: string, type: string, code: string | null, param: string | null = null): object {
  return { error: { message, type, param, code } };
}
