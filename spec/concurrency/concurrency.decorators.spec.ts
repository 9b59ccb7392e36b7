import { Concurrency, concurrencyOf } from '../../lib/concurrency/concurrency';
import { QueueFullError } from '../../lib/concurrency/concurrency-errors';
import { LocalSemaphore } from '../../lib/concurrency/local-semaphore';
import { describePolicies } from '../../lib/decorate/policies';

// This suite runs twice: under experimentalDecorators (legacy, as NestJS) and under TC39 standard decorators.

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('@Concurrency', () => {
  it('never runs more than max calls of the decorated method at once', async () => {
    const gates: Array<() => void> = [];
    let running = 0;
    let peak = 0;
    class ModelClient {
      @Concurrency({ max: 2 })
      async complete(prompt: string): Promise<string> {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => gates.push(resolve));
        running--;
        return `answer to ${prompt}`;
      }
    }
    const clients = [new ModelClient(), new ModelClient()];
    const calls = Array.from({ length: 50 }, (_, i) => clients[i % 2]!.complete(`q${i}`));
    const semaphore = concurrencyOf(ModelClient.prototype.complete)!;
    await tick();
    expect(semaphore.usage()).toEqual({ inFlight: 2, queued: 48 });
    while (gates.length > 0) {
      gates.shift()!();
      await tick();
    }
    const answers = await Promise.all(calls);
    expect(answers[49]).toBe('answer to q49');
    expect(peak).toBe(2);
    expect(semaphore.inFlight).toBe(0);
  });

  it('keeps this, the method name and the per-key cap', async () => {
    const gates: Array<() => void> = [];
    class ModelClient {
      constructor(readonly id: string) {}
      @Concurrency({ max: 1, maxQueue: 0, key: (model: string) => model })
      async complete(model: string): Promise<string> {
        await new Promise<void>((resolve) => gates.push(resolve));
        return `${this.id}:${model}`;
      }
    }
    const client = new ModelClient('c1');
    expect(client.complete.name).toBe('complete');
    const a = client.complete('gpt');
    const b = client.complete('claude');
    await expect(client.complete('gpt')).rejects.toBeInstanceOf(QueueFullError);
    await tick();
    gates.forEach((open) => open());
    await expect(Promise.all([a, b])).resolves.toEqual(['c1:gpt', 'c1:claude']);
  });

  it('records its options for describePolicies', () => {
    const semaphore = new LocalSemaphore({ max: 3 });
    class ModelClient {
      @Concurrency({ semaphore })
      async complete(): Promise<void> {}
    }
    expect(describePolicies(ModelClient)).toEqual([
      { method: 'complete', static: false, policies: [{ kind: 'concurrency', options: { semaphore } }] },
    ]);
  });

  it('throws a TypeError when the class is defined with invalid options', () => {
    expect(() => {
      class Bad {
        @Concurrency({ max: 0 })
        async run(): Promise<void> {}
      }
      return Bad;
    }).toThrow('Expected `max` to be a positive integer, got `0` (number)');
    expect(() => {
      class Bad {
        @Concurrency({ max: 2, queueTimeout: -5 })
        async run(): Promise<void> {}
      }
      return Bad;
    }).toThrow(TypeError);
    expect(() => {
      class Bad {
        @Concurrency({ max: 2, limit: 3 } as never)
        async run(): Promise<void> {}
      }
      return Bad;
    }).toThrow(/Unknown @Concurrency option `limit`/);
  });

  it('accepts only promise-returning methods and keeps the decorated signature', async () => {
    class Client {
      // @ts-expect-error a synchronous method cannot be capped: the slot would be released before the work ends
      @Concurrency({ max: 1 })
      sync(): number {
        return 1;
      }

      @Concurrency({ max: 1 })
      async twice(n: number): Promise<number> {
        return n * 2;
      }
    }
    const client = new Client();
    const doubled: Promise<number> = client.twice(21);
    // @ts-expect-error the parameter type is kept
    void client.twice('21').catch(() => undefined);
    await expect(doubled).resolves.toBe(42);
  });
});
