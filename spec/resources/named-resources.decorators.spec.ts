import {
  CircuitBreaker,
  Concurrency,
  LocalSemaphore,
  MemoryCircuitState,
  MemoryRateLimiter,
  RateLimited,
  concurrencyOf,
  isCircuitOpenError,
  isRateLimitError,
  isUnknownResourceError,
  registerResource,
  resolveResource,
  UnknownResourceError,
} from '../../lib';
import { deferred } from '../support/async';

// Decorators that name a shared resource instead of holding it: the class is defined before anything is
// registered, the name is looked up when a call needs it, and a missing name is a typed error at that call.

let seq = 0;
const unique = (label: string) => `${label}-${++seq}`;

describe('@RateLimited({ limiter: name })', () => {
  it('uses the limiter registered after the class was defined, shared by every method that names it', async () => {
    const name = unique('openai');
    class Client {
      @RateLimited({ limit: 2, interval: '1m', burst: 2, limiter: name, name: 'openai' })
      async chat(): Promise<string> {
        return 'chat';
      }
      @RateLimited({ limit: 2, interval: '1m', burst: 2, limiter: name, name: 'openai' })
      async embed(): Promise<string> {
        return 'embed';
      }
    }
    const limiter = new MemoryRateLimiter();
    const unregister = registerResource('rateLimiter', name, limiter);
    const client = new Client();
    expect(await client.chat()).toBe('chat');
    expect(await client.embed()).toBe('embed');
    expect(isRateLimitError(await client.chat().catch((e: unknown) => e))).toBe(true);
    unregister();
    await limiter.close();
  });

  it('fails the first call with an UnknownResourceError naming the kind and the name, whatever onStoreError says', async () => {
    const name = unique('missing');
    class Client {
      @RateLimited({ limit: 2, interval: '1m', limiter: name })
      async chat(): Promise<string> {
        return 'chat';
      }
    }
    const error = await new Client().chat().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownResourceError);
    expect(error).toMatchObject({ code: 'ERR_CACHET_UNKNOWN_RESOURCE', kind: 'rateLimiter', resourceName: name });
    expect((error as Error).message).toContain(`No rate limiter is registered under the name "${name}"`);
  });

  it('refuses a name that is not a key part when the class is defined', () => {
    expect(() => RateLimited({ limit: 1, interval: '1s', limiter: '' })).toThrow(TypeError);
  });
});

describe('@Concurrency({ semaphore: name })', () => {
  it('takes its slots from the registered semaphore, and reports it through concurrencyOf', async () => {
    const name = unique('gpu');
    const gate = deferred<void>();
    class Worker {
      @Concurrency({ semaphore: name })
      async run(): Promise<string> {
        await gate.promise;
        return 'done';
      }
    }
    const semaphore = new LocalSemaphore({ max: 1, maxQueue: 10 });
    const unregister = registerResource('semaphore', name, semaphore);
    const worker = new Worker();
    const first = worker.run();
    const second = worker.run();
    await Promise.resolve();
    expect(semaphore.inFlight).toBe(1);
    expect(concurrencyOf(worker.run)?.queued).toBe(1);
    gate.resolve();
    expect(await Promise.all([first, second])).toEqual(['done', 'done']);
    unregister();
  });

  it('fails the first call when no semaphore has the name', async () => {
    const name = unique('none');
    class Worker {
      @Concurrency({ semaphore: name })
      async run(): Promise<string> {
        return 'done';
      }
    }
    expect(isUnknownResourceError(await new Worker().run().catch((e: unknown) => e))).toBe(true);
  });
});

describe('@CircuitBreaker({ store: name })', () => {
  it('keeps one circuit in the registered store for every method that names it', async () => {
    const name = unique('circuits');
    class Client {
      @CircuitBreaker({ name: 'provider', threshold: 1, halfOpenAfter: '1m', store: name })
      async fail(): Promise<string> {
        throw new Error('down');
      }
      @CircuitBreaker({ name: 'provider', threshold: 1, halfOpenAfter: '1m', store: name })
      async other(): Promise<string> {
        return 'ok';
      }
    }
    const unregister = registerResource('circuitStore', name, new MemoryCircuitState());
    const client = new Client();
    await expect(client.fail()).rejects.toThrow('down');
    expect(isCircuitOpenError(await client.other().catch((e: unknown) => e))).toBe(true);
    unregister();
  });

  it('fails the first call when no store has the name', async () => {
    const name = unique('no-circuits');
    class Client {
      @CircuitBreaker({ threshold: 1, store: name })
      async run(): Promise<string> {
        return 'ok';
      }
    }
    expect(isUnknownResourceError(await new Client().run().catch((e: unknown) => e))).toBe(true);
  });
});

describe('the registry', () => {
  it('follows a re-registration, and an unregister only removes its own registration', async () => {
    const name = unique('swap');
    const first = new MemoryRateLimiter();
    const second = new MemoryRateLimiter();
    const unregisterFirst = registerResource('rateLimiter', name, first);
    const unregisterSecond = registerResource('rateLimiter', name, second);
    unregisterFirst();
    expect(resolveResource('rateLimiter', name)).toBe(second);
    unregisterSecond();
    expect(() => resolveResource('rateLimiter', name)).toThrow(UnknownResourceError);
    await Promise.all([first.close(), second.close()]);
  });

  it('refuses an unknown kind and a missing resource', () => {
    expect(() => registerResource('cache' as 'rateLimiter', 'x', new MemoryRateLimiter())).toThrow(TypeError);
    expect(() => registerResource('rateLimiter', 'x', undefined as never)).toThrow(TypeError);
  });
});
