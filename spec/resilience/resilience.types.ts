// Compile-only: `npm run typecheck` checks this file under both decorator dialects.
import {
  Cached,
  CircuitBreaker,
  Concurrency,
  Fallback,
  RateLimited,
  Retry,
  Timeout,
  rateLimited,
  retry,
} from '../../lib';

export class Stacked {
  @Fallback({ value: 'canned' })
  @Cached({ ttl: '1m' })
  @Retry({ attempts: 3 })
  @CircuitBreaker({ threshold: 5 })
  @RateLimited({ limit: 10, interval: '1s' })
  @Concurrency({ max: 2 })
  @Timeout('5s')
  async answer(question: string, lang?: 'en' | 'zh'): Promise<{ text: string }> {
    return { text: `${question}:${lang}` };
  }

  // @ts-expect-error resilience decorators only accept methods that return a promise.
  @Retry()
  sync(): number {
    return 1;
  }

  // @ts-expect-error so does @RateLimited.
  @RateLimited({ limit: 1 })
  alsoSync(): number {
    return 1;
  }
}

const stacked = new Stacked();
// A full stack keeps the exact signature and return type.
export const answer: Promise<{ text: string }> = stacked.answer('q', 'zh');
// @ts-expect-error argument types are unchanged by the stack.
stacked.answer('q', 'fr');

const limited = rateLimited(async (id: number) => String(id), { limit: 5 });
export const limitedOut: Promise<string> = limited(1);
// @ts-expect-error the wrapper keeps the parameter list.
limited('1');
const retried = retry(async (a: string, b: number) => a.repeat(b), { attempts: 2 });
export const retriedOut: Promise<string> = retried('x', 2);
