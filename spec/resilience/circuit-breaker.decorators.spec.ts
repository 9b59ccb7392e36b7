import { describePolicies } from '../../lib/decorate/policies';
import { Circuit, CircuitBreaker } from '../../lib/resilience/circuit-breaker';
import type { CircuitBreakerOptions } from '../../lib/resilience/circuit-breaker-options';
import { CircuitOpenError } from '../../lib/resilience/circuit-open-error';
import { manualClock, type ManualClock } from '../ports/cache-store-contract';

// This suite runs twice: under experimentalDecorators (legacy, as NestJS) and under TC39 standard decorators.

class ProviderError extends Error {}

describe('@CircuitBreaker', () => {
  let clock: ManualClock;
  beforeEach(() => {
    clock = manualClock();
  });

  it('throws CircuitOpenError from the decorated method after the threshold, without running it', async () => {
    let runs = 0;
    class Model {
      constructor(readonly healthy: boolean) {}
      @CircuitBreaker({ threshold: 2, halfOpenAfter: '30s', clock })
      async complete(prompt: string): Promise<string> {
        runs++;
        if (!this.healthy) throw new ProviderError(`failed: ${prompt}`);
        return `done: ${prompt}`;
      }
    }
    const broken = new Model(false);
    await expect(broken.complete('a')).rejects.toThrow('failed: a');
    await expect(broken.complete('b')).rejects.toThrow('failed: b');
    const rejection = await broken.complete('c').catch((e: unknown) => e);
    expect(rejection).toBeInstanceOf(CircuitOpenError);
    expect(rejection).toMatchObject({ circuit: 'Model.complete', retryAfterMs: 30_000 });
    expect(runs).toBe(2);
    // One circuit per decorated method: every instance of the class shares it.
    await expect(new Model(true).complete('d')).rejects.toBeInstanceOf(CircuitOpenError);
    clock.advance(30_000);
    await expect(new Model(true).complete('e')).resolves.toBe('done: e');
    await expect(broken.complete('f')).rejects.toBeInstanceOf(ProviderError);
  });

  it('keeps the method name and `this`, and passes errors through unchanged while closed', async () => {
    const error = new ProviderError('429');
    class Client {
      model = 'small';
      @CircuitBreaker({ threshold: 5 })
      async ask(question: string): Promise<string> {
        if (question === 'bad') throw error;
        return `${this.model}: ${question}`;
      }
    }
    const client = new Client();
    expect(client.ask.name).toBe('ask');
    await expect(client.ask('hi')).resolves.toBe('small: hi');
    await expect(client.ask('bad')).rejects.toBe(error);
  });

  it('shares one Circuit instance between two methods', async () => {
    const provider = new Circuit({ name: 'provider', threshold: 2, clock });
    class Assistant {
      @CircuitBreaker(provider)
      async answer(): Promise<string> {
        throw new ProviderError('down');
      }
      @CircuitBreaker(provider)
      async summarize(text: string): Promise<string> {
        return text.slice(0, 3);
      }
    }
    const assistant = new Assistant();
    await expect(assistant.answer()).rejects.toBeInstanceOf(ProviderError);
    await expect(assistant.answer()).rejects.toBeInstanceOf(ProviderError);
    await expect(assistant.summarize('summary')).rejects.toMatchObject({ circuit: 'provider', state: 'open' });
    expect(provider.state).toBe('open');
  });

  it('counts only the errors `on` accepts', async () => {
    class BadRequest extends Error {}
    class Client {
      @CircuitBreaker({ threshold: 1, on: (error) => !(error instanceof BadRequest) })
      async ask(): Promise<string> {
        throw new BadRequest('invalid');
      }
    }
    const client = new Client();
    for (let i = 0; i < 3; i++) await expect(client.ask()).rejects.toBeInstanceOf(BadRequest);
  });

  it.each([
    [{ threshold: 1.5 }, 'Expected `threshold` to be a positive integer, got `1.5` (number)'],
    [{ failureRate: 0 }, 'Expected `failureRate` to be a number in (0, 1], got `0` (number)'],
    [{ halfOpenAfter: -1 }, 'Expected `halfOpenAfter` to be a duration'],
    [{ minimumcalls: 5 }, 'Unknown CircuitBreaker option `minimumcalls`'],
  ])('rejects invalid options %j with a TypeError when the class is defined', (options, message) => {
    const define = () => {
      class Invalid {
        @CircuitBreaker(options as CircuitBreakerOptions)
        async run(): Promise<void> {}
      }
      return Invalid;
    };
    expect(define).toThrow(TypeError);
    expect(define).toThrow(message);
  });

  it('records its options for describePolicies', () => {
    const shared = new Circuit({ name: 'shared' });
    class Listed {
      @CircuitBreaker({ threshold: 3 })
      async one(): Promise<number> {
        return 1;
      }
      @CircuitBreaker(shared)
      async two(): Promise<number> {
        return 2;
      }
    }
    const policies = describePolicies(Listed);
    expect(policies.find((m) => m.method === 'one')?.policies).toEqual([
      { kind: 'circuitBreaker', options: { threshold: 3 } },
    ]);
    expect(policies.find((m) => m.method === 'two')?.policies).toEqual([
      { kind: 'circuitBreaker', options: { circuit: 'shared' } },
    ]);
  });
});
