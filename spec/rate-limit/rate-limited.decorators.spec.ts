import { describePolicies } from '../../lib/decorate/policies';
import { MemoryRateLimiter } from '../../lib/rate-limit/memory-rate-limiter';
import { isRateLimitError, type RateLimitError } from '../../lib/rate-limit/rate-limit-error';
import { RateLimited } from '../../lib/rate-limit/rate-limited';
import { manualClock } from '../ports/cache-store-contract';

// This suite runs twice: under experimentalDecorators (legacy, as NestJS) and under TC39 standard decorators.

describe('@RateLimited', () => {
  it('rejects calls past the limit with a RateLimitError keyed by Class.method, shared by every instance', async () => {
    const clock = manualClock();
    let runs = 0;
    class Assistant {
      @RateLimited({ limit: 2, interval: '1s', burst: 2, limiter: new MemoryRateLimiter({ clock }) })
      async answer(question: string): Promise<string> {
        runs++;
        return `answer to ${question}`;
      }
    }
    const [a, b] = [new Assistant(), new Assistant()];
    await expect(a.answer('x')).resolves.toBe('answer to x');
    await expect(b.answer('y')).resolves.toBe('answer to y');
    const error = await a.answer('z').catch((e: unknown) => e);
    expect(isRateLimitError(error)).toBe(true);
    expect(error).toMatchObject({ key: 'Assistant.answer', retryAfterMs: 500, limit: 2 });
    expect(runs).toBe(2);
    clock.advance(500);
    await expect(b.answer('z')).resolves.toBe('answer to z');
  });

  it('passes this to the key function, so each instance can have its own limit', async () => {
    class ModelClient {
      constructor(readonly model: string) {}
      @RateLimited({
        limit: 1,
        interval: '1m',
        key(this: ModelClient, user: string) {
          return `${this.model}:${user}`;
        },
      })
      async chat(user: string): Promise<string> {
        return `${this.model} answers ${user}`;
      }
    }
    const [fast, smart] = [new ModelClient('fast'), new ModelClient('smart')];
    await expect(fast.chat('ada')).resolves.toBe('fast answers ada');
    await expect(smart.chat('ada')).resolves.toBe('smart answers ada');
    await expect(fast.chat('bob')).resolves.toBe('fast answers bob');
    const error = (await fast.chat('ada').catch((e: unknown) => e)) as RateLimitError;
    expect(error.key).toBe('fast:ada');
  });

  it('keeps two decorated methods on separate limits by default', async () => {
    class Service {
      @RateLimited({ limit: 1, interval: '1m' })
      async one(): Promise<number> {
        return 1;
      }
      @RateLimited({ limit: 1, interval: '1m' })
      async two(): Promise<number> {
        return 2;
      }
    }
    const service = new Service();
    await expect(service.one()).resolves.toBe(1);
    await expect(service.two()).resolves.toBe(2);
    await expect(service.one()).rejects.toMatchObject({ key: 'Service.one' });
  });

  it('reserves an estimate and corrects it from the result with actualCost, burst defaulting to the limit', async () => {
    const clock = manualClock();
    class Model {
      @RateLimited({
        limit: 1_000,
        interval: '1m',
        cost: (prompt: string) => prompt.length,
        actualCost: (answer: { usage: { total_tokens: number } }) => answer.usage.total_tokens,
        limiter: new MemoryRateLimiter({ clock }),
      })
      async chat(prompt: string): Promise<{ usage: { total_tokens: number } }> {
        return { usage: { total_tokens: prompt.length / 10 } };
      }
    }
    const model = new Model();
    // 900 reserved of a burst of 1,000; 90 used, so 810 come back and a second 900 fits.
    await model.chat('x'.repeat(900));
    await expect(model.chat('x'.repeat(900))).resolves.toEqual({ usage: { total_tokens: 90 } });
    const error = await model.chat('x'.repeat(900)).catch((e: unknown) => e);
    expect(error).toMatchObject({ key: 'Model.chat', limit: 1_000 });
  });

  it('validates its options when the class is defined', () => {
    expect(() => {
      class Broken {
        @RateLimited({ limit: 0 })
        async call(): Promise<void> {}
      }
      return Broken;
    }).toThrow('Expected `limit` to be a positive integer, got `0` (number)');
    expect(() => {
      class Broken {
        @RateLimited({ limit: 1, mode: 'later' as never })
        async call(): Promise<void> {}
      }
      return Broken;
    }).toThrow(TypeError);
  });

  it('is listed by describePolicies with its options', () => {
    class Listed {
      @RateLimited({ limit: 5, interval: '1m' })
      async call(): Promise<void> {}
    }
    expect(describePolicies(Listed)).toEqual([
      { method: 'call', static: false, policies: [{ kind: 'rateLimited', options: { limit: 5, interval: '1m' } }] },
    ]);
  });

  it('keeps the method name', () => {
    class Named {
      @RateLimited({ limit: 5 })
      async call(): Promise<void> {}
    }
    expect(Named.prototype.call.name).toBe('call');
  });
});
