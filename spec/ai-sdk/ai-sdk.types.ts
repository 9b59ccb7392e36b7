// Compile-only. `npm run typecheck` checks this file and lib/ai-sdk against each AI SDK major: `ai` 5 (the
// devDependency), and `ai` 6 and 7 through spec/ai-sdk/tsconfig.ai-v6.json and tsconfig.ai-v7.json, which
// map `ai` and `@ai-sdk/openai-compatible` to the `ai-v6` / `ai-v7` aliases. Each `@ts-expect-error` fails
// the build if the line it guards ever compiles.
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { wrapLanguageModel, type LanguageModelMiddleware } from 'ai';
import { Cache } from '../../lib';
import { cachetMiddleware, type AiSdkCallOptions, type StoredGenerate } from '../../lib/ai-sdk';

const cache = new Cache();
const provider = createOpenAICompatible({ name: 'local', baseURL: 'http://127.0.0.1:1', apiKey: 'test' });

// The middleware is that major's `LanguageModelMiddleware`, alone or in a list.
export const middleware: LanguageModelMiddleware = cachetMiddleware({
  cache,
  // The call options are that major's: `headers` is in all of them.
  tenant: (params: AiSdkCallOptions) => params.headers?.['x-tenant'] ?? '',
  tags: (params) => [String(params.temperature)],
});
export const model = wrapLanguageModel({ model: provider.chatModel('gpt-4o-mini'), middleware });
export const chained = wrapLanguageModel({ model: provider.chatModel('gpt-4o-mini'), middleware: [middleware] });

// A stored answer keeps that major's content and finish reason, and drops the request.
export const content = (stored: StoredGenerate) => [stored.content, stored.finishReason, stored.usage];
// @ts-expect-error the request body is never stored.
export const request = (stored: StoredGenerate) => stored.request;

// @ts-expect-error the tenant is required: false, or a function of the call options.
cachetMiddleware({ cache });
// @ts-expect-error a tenant function gets the call options, not a string.
cachetMiddleware({ cache, tenant: (params: string) => params });
