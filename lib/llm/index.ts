/**
 * `cachet/llm`: cache keys for chat requests (`chatKeyPolicy`), the pooled `ChatClient`, provider errors
 * and the usage of chat results for the cost ledger.
 * @example
 * import { chatKeyPolicy, ChatClient } from 'cachet/llm';
 */
export { chatKeyPolicy, explainKey } from './chat-key';
export { ChatKeyError, isChatKeyError } from './chat-key-error';
export { CHAT_IGNORED_FIELDS } from './chat-key-fields';
export { usageOfChatResult } from './chat-usage';
export { estimateChatTokens } from './chat-tokens';
export type { EstimateChatTokensOptions } from './chat-tokens';
export type { ChatKeyPolicy, ChatKeyExplanation } from './chat-key';
export type { ChatKeyOptions, ChatNormalizeOptions } from './chat-key-options';
export type { ChatRequest, ChatMessage, ChatContentPart, ChatToolCall, ChatTool, ChatRole } from './chat-request';
export { ChatClient } from './chat-client';
export type { ChatCompletion, ChatCompletionChunk, ChatCompletionUsage, ChatCallOptions } from './chat-client';
export type { ChatClientOptions } from './chat-client-options';
export { EmbeddingsClient } from './embeddings-client';
export type { EmbeddingsClientOptions } from './embeddings-client';
export { ProviderError, isProviderError, retryAfterFrom } from './provider-error';
