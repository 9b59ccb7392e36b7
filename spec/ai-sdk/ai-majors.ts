import * as ai5 from 'ai';
import * as ai6 from 'ai-v6';
import * as ai7 from 'ai-v7';
import { createOpenAICompatible as compatible1 } from '@ai-sdk/openai-compatible';
import { createOpenAICompatible as compatible2 } from '@ai-sdk/openai-compatible-v2';
import { createOpenAICompatible as compatible3 } from '@ai-sdk/openai-compatible-v3';

/**
 * The AI SDK majors cachet/ai-sdk supports, each the real package (`ai-v6`, `ai-v7` and the
 * `@ai-sdk/openai-compatible-v2` / `-v3` devDependencies are npm aliases) with the openai-compatible major
 * on the same `@ai-sdk/provider`. The specs drive them through `ai` 5's types: what they call (generateText,
 * generateObject, streamText, wrapLanguageModel, doStream) takes and returns the same fields in all three;
 * spec/ai-sdk/ai-sdk.types.ts checks the middleware against each major's own types.
 */
export interface AiMajor {
  readonly name: string;
  /** The `specificationVersion` of the models this major's `wrapLanguageModel` hands a middleware. */
  readonly spec: 'v2' | 'v3' | 'v4';
  readonly ai: typeof ai5;
  readonly createOpenAICompatible: typeof compatible1;
}

export const aiMajors: readonly AiMajor[] = [
  { name: 'ai 5', spec: 'v2', ai: ai5, createOpenAICompatible: compatible1 },
  {
    name: 'ai 6',
    spec: 'v3',
    ai: ai6 as unknown as typeof ai5,
    createOpenAICompatible: compatible2 as unknown as typeof compatible1,
  },
  {
    name: 'ai 7',
    spec: 'v4',
    ai: ai7 as unknown as typeof ai5,
    createOpenAICompatible: compatible3 as unknown as typeof compatible1,
  },
];
