import { Cached, currentSignal } from '../lib';
import { chatKeyPolicy } from '../lib/llm';
import type { ChatClient, ChatCompletion, ChatCompletionChunk, ChatRequest } from '../lib/llm';
import { LANGUAGE_NAMES, SYSTEM_PROMPT } from './support-assistant';
import type { Lang } from './questions';

export const CHAT_MODEL = 'gpt-4o-mini';

// One policy for both methods: the key is the whole request (model, system prompt, messages,
// temperature...) plus the tenant, prompts are normalised (whitespace, NFC), only deterministic calls
// are cached, and `usage` tells the cache's ledger what each answer cost.
const policy = chatKeyPolicy({
  normalize: true,
  tenant(this: ChatAssistant) {
    return this.tenant;
  },
});

/**
 * The support assistant of part 1, now talking to an OpenAI-compatible provider over HTTP through a
 * pooled `ChatClient`, once per tenant: one tenant's cached answers never reach another.
 */
export class ChatAssistant {
  constructor(
    private readonly client: ChatClient,
    readonly tenant: string,
  ) {}

  /** The whole answer at once. */
  @Cached({ ttl: '10m', ...policy })
  complete(request: ChatRequest): Promise<ChatCompletion> {
    return this.client.complete(request, { signal: currentSignal() });
  }

  /**
   * The answer as it is generated. Identical questions asked meanwhile read the same live stream; later
   * ones replay the recording. `currentSignal()` lets cachet close the request if every reader leaves.
   */
  @Cached({ ttl: '10m', stream: true, ...policy })
  stream(request: ChatRequest): AsyncIterable<ChatCompletionChunk> {
    return this.client.stream(request, { signal: currentSignal() });
  }
}

/** A deterministic request (temperature 0), so that it may be cached; streams ask for their usage. */
export function supportRequest(question: string, lang: Lang, streamed: boolean): ChatRequest {
  return {
    model: CHAT_MODEL,
    temperature: 0,
    messages: [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: `Answer in ${LANGUAGE_NAMES[lang]}.\n\n${question}` },
    ],
    ...(streamed ? { stream_options: { include_usage: true } } : {}),
  };
}
