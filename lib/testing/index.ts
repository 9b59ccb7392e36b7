/**
 * `cachet/testing`: tools for users' own tests, above all a local OpenAI-compatible provider so that tests,
 * demos and benchmarks run offline.
 * @example
 * import { LocalProvider } from 'cachet/testing';
 * const provider = new LocalProvider();
 * const baseURL = await provider.start();
 */
export { LocalProvider } from './local-provider';
export type {
  LocalProviderOptions,
  LocalProviderSettings,
  LocalStreamError,
  LocalStreamFraming,
} from './local-provider-options';
export { defaultReply, estimateTokens } from './chat-answer';
export type { ChatMessageBody, ChatRequestBody, ChatUsage } from './chat-answer';
