import { describePolicies } from '../../lib';
import { currentSignal } from '../../lib/core/current-signal';
import { TimeoutError } from '../../lib/resilience/errors';
import { Retry } from '../../lib/resilience/retry';
import { Timeout } from '../../lib/resilience/timeout';

// Runs under both decorator dialects (legacy and TC39 standard).

function httpError(status: number): Error {
  return Object.assign(new Error(`HTTP ${status}`), { status });
}

describe('@Retry', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('retries the method with the same `this` and arguments until it succeeds', async () => {
    class Client {
      calls: string[] = [];
      constructor(readonly failures: number) {}
      @Retry({ attempts: 3, base: 100, random: () => 0.5 })
      async complete(prompt: string): Promise<string> {
        this.calls.push(prompt);
        if (this.calls.length <= this.failures) throw httpError(503);
        return `done:${prompt}`;
      }
    }
    const client = new Client(2);
    const result = client.complete('hi');
    await jest.advanceTimersByTimeAsync(49);
    expect(client.calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(client.calls).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(100);
    await expect(result).resolves.toBe('done:hi');
    expect(client.calls).toEqual(['hi', 'hi', 'hi']);
    expect(Client.prototype.complete.name).toBe('complete');
  });

  it('gives up after exactly `attempts` tries with the last error', async () => {
    let calls = 0;
    class Client {
      @Retry({ attempts: 2, base: 0 })
      async complete(): Promise<string> {
        throw httpError(500 + ++calls);
      }
    }
    const result = new Client().complete();
    const settled = expect(result).rejects.toMatchObject({ status: 502 });
    await jest.advanceTimersByTimeAsync(0);
    await settled;
    expect(calls).toBe(2);
  });

  it('does not retry a client error', async () => {
    let calls = 0;
    class Client {
      @Retry({ attempts: 5 })
      async complete(): Promise<string> {
        calls++;
        throw httpError(422);
      }
    }
    await expect(new Client().complete()).rejects.toMatchObject({ status: 422 });
    expect(calls).toBe(1);
  });

  it('outside @Timeout, gives every attempt its own deadline and retries the TimeoutError', async () => {
    const signals: AbortSignal[] = [];
    class Client {
      @Retry({ attempts: 2, base: 0 })
      @Timeout('1s')
      async complete(): Promise<string> {
        signals.push(currentSignal() as AbortSignal);
        if (signals.length === 1) return new Promise<string>(() => {});
        return 'second try';
      }
    }
    const result = new Client().complete();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(signals).toHaveLength(1);
    // The retry's zero-delay wait is a timer of its own, queued as the deadline passed.
    await jest.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe('second try');
    expect(signals.map((s) => s.aborted)).toEqual([true, false]);
    expect(signals[0]?.reason).toBeInstanceOf(TimeoutError);
  });

  it('inside @Timeout, stops retrying when the one deadline passes', async () => {
    let calls = 0;
    class Client {
      @Timeout('1s')
      @Retry({ attempts: 10, base: 400, max: 400, random: () => 0.999 })
      async complete(): Promise<string> {
        calls++;
        throw httpError(503);
      }
    }
    const result = new Client().complete();
    const settled = expect(result).rejects.toThrow('Client.complete did not settle within 1000 ms');
    await jest.advanceTimersByTimeAsync(1_000);
    await settled;
    const callsAtDeadline = calls;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(callsAtDeadline);
    expect(calls).toBe(3);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('records its options for describePolicies', () => {
    const options = { attempts: 4 };
    class Client {
      @Retry(options)
      async complete(): Promise<void> {}
    }
    expect(describePolicies(Client)).toEqual([
      { method: 'complete', static: false, policies: [{ kind: 'retry', options }] },
    ]);
  });

  it('rejects invalid options when the class is defined', () => {
    expect(() => {
      class Client {
        @Retry({ attempts: 1.5 })
        async complete(): Promise<void> {}
      }
      return Client;
    }).toThrow('Expected `attempts` to be a positive integer, got `1.5` (number)');
    expect(() => {
      class Client {
        @Retry({ base: '2s', max: '1s' })
        async complete(): Promise<void> {}
      }
      return Client;
    }).toThrow('Expected `max` to be a duration of at least `base` (2000 ms), got `"1s"` (string)');
  });
});
