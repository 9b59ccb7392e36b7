import { Cache, Cached, describePolicies } from '../../lib';
import { FallbackError } from '../../lib/resilience/errors';
import { Fallback } from '../../lib/resilience/fallback';
import { Retry } from '../../lib/resilience/retry';
import { Timeout } from '../../lib/resilience/timeout';

// Runs under both decorator dialects (legacy and TC39 standard).

class RateLimitedError extends Error {}
class OverloadedError extends Error {}

describe('@Fallback', () => {
  it('calls the named method on the same instance with the same arguments', async () => {
    class Assistant {
      constructor(readonly name: string) {}
      @Fallback({ to: 'askSmall' })
      async ask(question: string): Promise<string> {
        throw new RateLimitedError(`large model busy for ${question}`);
      }
      async askSmall(question: string): Promise<string> {
        return `${this.name} small: ${question}`;
      }
    }
    await expect(new Assistant('ada').ask('why?')).resolves.toBe('ada small: why?');
    expect(Assistant.prototype.ask.name).toBe('ask');
  });

  it('calls a function target with `this`, the error and the arguments', async () => {
    const error = new OverloadedError('busy');
    class Assistant {
      readonly tag = 'self';
      @Fallback({
        to(this: Assistant, e: unknown, question: string) {
          return Promise.resolve(`${this.tag}: ${(e as Error).message} / ${question}`);
        },
      })
      async ask(_question: string): Promise<string> {
        throw error;
      }
    }
    await expect(new Assistant().ask('q')).resolves.toBe('self: busy / q');
  });

  it('tries a chain from the decorator nearest the method outwards', async () => {
    const tried: string[] = [];
    class Assistant {
      @Fallback({ value: 'canned answer' })
      @Fallback({ to: 'askSmall' })
      @Fallback({ to: 'askMedium' })
      async ask(q: string): Promise<string> {
        tried.push('large');
        throw new Error(`large ${q}`);
      }
      async askMedium(q: string): Promise<string> {
        tried.push('medium');
        throw new Error(`medium ${q}`);
      }
      async askSmall(q: string): Promise<string> {
        tried.push('small');
        throw new Error(`small ${q}`);
      }
    }
    await expect(new Assistant().ask('q')).resolves.toBe('canned answer');
    expect(tried).toEqual(['large', 'medium', 'small']);
    expect(describePolicies(Assistant)[0]?.policies.map((p) => p.options)).toEqual([
      { to: 'askMedium' },
      { to: 'askSmall' },
      { value: 'canned answer' },
    ]);
  });

  it('gives a FallbackError carrying every cause in order when every step fails', async () => {
    class Assistant {
      @Fallback({ to: () => Promise.reject(new Error('canned store down')) })
      @Fallback({ to: 'askSmall' })
      async ask(): Promise<string> {
        throw new RateLimitedError('large');
      }
      async askSmall(): Promise<string> {
        throw new OverloadedError('small');
      }
    }
    const error = (await new Assistant().ask().catch((e: unknown) => e)) as FallbackError;
    expect(error).toBeInstanceOf(FallbackError);
    expect(error.code).toBe('ERR_CACHET_FALLBACK');
    expect(error.operation).toBe('Assistant.ask');
    expect(error.errors.map((e) => (e as Error).message)).toEqual(['large', 'small', 'canned store down']);
    expect(error.errors[0]).toBeInstanceOf(RateLimitedError);
    expect(error.cause).toBe(error.errors[2]);
    expect(error.message).toMatch(/^Assistant\.ask failed and so did its fallbacks \(3 errors\)/);
  });

  it('lets errors outside `on` propagate unchanged and skips steps that do not accept them', async () => {
    const bug = new TypeError('undefined is not a function');
    class Assistant {
      @Fallback({ value: 'any error', on: (e) => e instanceof Error })
      @Fallback({ value: 'rate limited', on: [RateLimitedError] })
      async ask(kind: string): Promise<string> {
        throw kind === 'limit' ? new RateLimitedError() : bug;
      }
      @Fallback({ value: 'rate limited', on: [RateLimitedError] })
      async strict(): Promise<string> {
        throw bug;
      }
    }
    await expect(new Assistant().ask('limit')).resolves.toBe('rate limited');
    await expect(new Assistant().ask('bug')).resolves.toBe('any error');
    await expect(new Assistant().strict()).rejects.toBe(bug);
  });

  it('rejects a misspelt method name on the first call, even when the primary succeeds', async () => {
    class Assistant {
      @Fallback({ to: 'askSmal' })
      async ask(): Promise<string> {
        return 'primary';
      }
    }
    await expect(new Assistant().ask()).rejects.toThrow(
      'Expected `to` to be the name of a method of `this` in Assistant.ask, got `"askSmal"` (string)',
    );
  });

  it('rejects invalid options when the class is defined', () => {
    expect(() => {
      class Assistant {
        @Fallback({ to: 'ask' })
        async ask(): Promise<string> {
          return '';
        }
      }
      return Assistant;
    }).toThrow('Expected `to` to be a method other than the decorated `ask` itself, got `"ask"` (string)');
    expect(() => {
      class Assistant {
        @Fallback({ to: 'x', on: [] })
        async ask(): Promise<string> {
          return '';
        }
      }
      return Assistant;
    }).toThrow('Expected `on` to be a non-empty array of error classes or a predicate, got `[]` (array)');
  });

  describe('composed with @Cached', () => {
    let cache: Cache;
    beforeEach(() => {
      cache = new Cache();
    });

    it('never stores a fallback answer when @Fallback sits above @Cached, as recommended', async () => {
      let down = true;
      let primaryRuns = 0;
      class Assistant {
        @Fallback({ value: 'canned' })
        @Cached({ cache })
        async ask(q: string): Promise<string> {
          primaryRuns++;
          if (down) throw new OverloadedError();
          return `answer to ${q}`;
        }
      }
      const assistant = new Assistant();
      await expect(assistant.ask('q')).resolves.toBe('canned');
      down = false;
      await expect(assistant.ask('q')).resolves.toBe('answer to q');
      await expect(assistant.ask('q')).resolves.toBe('answer to q');
      expect(primaryRuns).toBe(2);
      expect(cache.stats().methods['default:Assistant.ask']).toMatchObject({ hits: 1, fills: 1 });
    });

    it('retries, then falls back, through the recommended stack, and caches only primary answers', async () => {
      jest.useFakeTimers();
      try {
        const busy = () => Object.assign(new Error('busy'), { status: 503 });
        const failures = [busy(), busy(), busy()];
        let primaryRuns = 0;
        class Assistant {
          @Fallback({ value: 'canned' })
          @Retry({ attempts: 2, base: 0 })
          @Timeout('5s')
          @Cached({ cache })
          async ask(q: string): Promise<string> {
            primaryRuns++;
            const failure = failures.shift();
            if (failure) throw failure;
            return `answer to ${q}`;
          }
        }
        const assistant = new Assistant();
        const first = assistant.ask('q');
        await jest.advanceTimersByTimeAsync(1);
        await expect(first).resolves.toBe('canned');
        expect(primaryRuns).toBe(2);
        const second = assistant.ask('q');
        await jest.advanceTimersByTimeAsync(1);
        await expect(second).resolves.toBe('answer to q');
        expect(primaryRuns).toBe(4);
        await expect(assistant.ask('q')).resolves.toBe('answer to q');
        expect(primaryRuns).toBe(4);
      } finally {
        jest.useRealTimers();
      }
    });

    it('would cache a fallback answer as the primary one with @Cached above @Fallback, the order to avoid', async () => {
      let down = true;
      class Assistant {
        @Cached({ cache })
        @Fallback({ value: 'canned' })
        async ask(q: string): Promise<string> {
          if (down) throw new OverloadedError();
          return `answer to ${q}`;
        }
      }
      await expect(new Assistant().ask('q')).resolves.toBe('canned');
      down = false;
      await expect(new Assistant().ask('q')).resolves.toBe('canned');
    });
  });
});
