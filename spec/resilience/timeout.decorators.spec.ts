import { describePolicies } from '../../lib';
import { currentSignal } from '../../lib/core/current-signal';
import { isTimeoutError, type TimeoutError } from '../../lib/resilience/errors';
import { Timeout } from '../../lib/resilience/timeout';

// Runs under both decorator dialects (legacy and TC39 standard).

describe('@Timeout', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('rejects with a TimeoutError naming Class.method and aborts the signal the method reads', async () => {
    const observed: string[] = [];
    class Client {
      @Timeout('500ms')
      async complete(prompt: string): Promise<string> {
        const signal = currentSignal() as AbortSignal;
        observed.push(`started ${prompt}, aborted=${signal.aborted}`);
        return new Promise<string>((_resolve, reject) => {
          // What fetch does with its signal: stop the work and reject with the reason.
          signal.addEventListener('abort', () => {
            observed.push(`cancelled: ${(signal.reason as Error).message}`);
            reject(signal.reason);
          });
        });
      }
    }
    const result = new Client().complete('hi');
    const settled = expect(result).rejects.toMatchObject({
      code: 'ERR_CACHET_TIMEOUT',
      timeoutMs: 500,
      operation: 'Client.complete',
      message: 'Client.complete did not settle within 500 ms',
    });
    await jest.advanceTimersByTimeAsync(499);
    expect(observed).toEqual(['started hi, aborted=false']);
    await jest.advanceTimersByTimeAsync(1);
    await settled;
    expect(observed).toEqual(['started hi, aborted=false', 'cancelled: Client.complete did not settle within 500 ms']);
  });

  it('answers normally within the limit, clears its timer and keeps the method name', async () => {
    class Client {
      constructor(readonly model: string) {}
      @Timeout('1m')
      async complete(prompt: string): Promise<string> {
        return `${this.model}:${prompt}`;
      }
    }
    await expect(new Client('small').complete('q')).resolves.toBe('small:q');
    expect(jest.getTimerCount()).toBe(0);
    expect(Client.prototype.complete.name).toBe('complete');
  });

  it('hands a nested decorated call a signal that aborts at the outer deadline', async () => {
    let innerSignal: AbortSignal | undefined;
    class Pipeline {
      @Timeout('1s')
      async run(): Promise<string> {
        return this.step();
      }

      @Timeout('1m')
      async step(): Promise<string> {
        innerSignal = currentSignal();
        return new Promise<string>(() => {});
      }
    }
    const result = new Pipeline().run();
    const settled = expect(result).rejects.toMatchObject({ operation: 'Pipeline.run', timeoutMs: 1_000 });
    await jest.advanceTimersByTimeAsync(1_000);
    await settled;
    expect(innerSignal?.aborted).toBe(true);
    expect(isTimeoutError(innerSignal?.reason)).toBe(true);
    expect((innerSignal?.reason as TimeoutError).operation).toBe('Pipeline.run');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('works on static methods', async () => {
    class Api {
      @Timeout(100)
      static async ping(): Promise<string> {
        return new Promise<string>(() => {});
      }
    }
    const result = Api.ping();
    const settled = expect(result).rejects.toThrow('Api.ping did not settle within 100 ms');
    await jest.advanceTimersByTimeAsync(100);
    await settled;
  });

  it('records its duration for describePolicies', () => {
    class Client {
      @Timeout('10s')
      async complete(): Promise<void> {}
    }
    expect(describePolicies(Client)).toEqual([
      { method: 'complete', static: false, policies: [{ kind: 'timeout', options: { duration: '10s' } }] },
    ]);
  });

  it('rejects an invalid duration when the class is defined', () => {
    expect(() => {
      class Client {
        @Timeout(0)
        async complete(): Promise<void> {}
      }
      return Client;
    }).toThrow('Expected `duration` to be a duration between 1 ms and 2147483647 ms, got `0` (number)');
  });
});
