import { Inject, Injectable } from '@nestjs/common';
import { Cached, RateLimited } from '../../lib';
import { ChatClient, chatKeyPolicy, type ChatCompletion, type ChatRequest } from '../../lib/llm';

/** Answers FAQ questions with a model. Declared before any configuration: CachetModule supplies the cache and the limiter. */
@Injectable()
export class FaqService {
  constructor(@Inject(ChatClient) private readonly client: ChatClient) {}

  async answer(question: string): Promise<{ question: string; answer: string }> {
    const completion = await this.complete({
      model: 'gpt-4o-mini',
      temperature: 0,
      messages: [
        { role: 'system', content: 'You are the FAQ assistant of Flowboard. Answer briefly.' },
        { role: 'user', content: question },
      ],
    });
    return { question, answer: completion.choices[0]?.message?.content ?? '' };
  }

  // @Cached outside @RateLimited: only a miss spends the rate limit. Both come from CachetModule by name
  // or as the default cache, resolved at the first call.
  @Cached({ namespace: 'faq', ttl: '10m', ...chatKeyPolicy({ normalize: true, tenant: false }) })
  @RateLimited({ limiter: 'openai', limit: 60, interval: '1m', burst: 10, name: 'faq-model' })
  complete(request: ChatRequest): Promise<ChatCompletion> {
    return this.client.complete(request);
  }
}
