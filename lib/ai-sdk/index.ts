/**
 * cachet/ai-sdk: a Vercel AI SDK (`ai` 5, 6 and 7) middleware that caches `generateText`, `generateObject` and
 * `streamText` answers in a cachet `Cache`. Needs `ai` (an optional peer dependency of cachet); it imports
 * only its types, so loading this entry point loads no AI SDK code, no Redis and no HTTP client.
 * @packageDocumentation
 */
export { cachetMiddleware, isWholeStream } from './middleware';
export type {
  CachetMiddlewareOptions,
  StoredGenerate,
  AiSdkCallOptions,
  AiSdkModel,
  AiSdkGenerateResult,
  AiSdkStreamPart,
} from './middleware';
export { ChatKeyError, isChatKeyError } from '../llm/chat-key-error';
