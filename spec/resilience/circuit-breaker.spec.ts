import { Circuit, circuitBreaker } from '../../lib/resilience/circuit-breaker';
import type { CircuitBreakerOptions } from '../../lib/resilience/circuit-breaker-options';
import { CircuitOpenError, isCircuitOpenError } from '../../lib/resilience/circuit-open-error';
import { MemoryCircuitState } from '../../lib/resilience/memory-circuit-state';
import { manualClock, type ManualClock } from '../ports/cache-store-contract';
import { deferred } from '../support/async';

class ProviderError extends Error {}
class BadRequest extends Error {}

const fail =
  (error: Error = new ProviderError('boom')) =>
  () =>
    Promise.reject(error);
const succeed = () => Promise.resolve('ok');

// What the store decides (thresholds, the window, the probe) is the circuit-state contract's
// (spec/ports/circuit-state-contract.ts); here, how a Circuit turns its options, its clock and the store's
// answers into calls, errors, state and events.
describe('Circuit', () => {
  let clock: ManualClock;
  const make = (options: CircuitBreakerOptions = {}) =>
    new Circuit({ name: 'provider', clock, halfOpenAfter: '10s', ...options });

  /** Runs `n` failing calls, each of which must reject with the provider's own error. */
  async function failTimes(circuit: Circuit, n: number): Promise<void> {
    for (let i = 0; i < n; i++) await expect(circuit.execute(fail())).rejects.toBeInstanceOf(ProviderError);
  }

  beforeEach(() => {
    clock = manualClock();
  });

  it('passes results and errors through unchanged while closed', async () => {
    const circuit = make({ threshold: 3 });
    const error = new ProviderError('429');
    await expect(circuit.execute(succeed)).resolves.toBe('ok');
    await expect(circuit.execute(fail(error))).rejects.toBe(error);
    expect(circuit.state).toBe('closed');
  });

  it('opens after `threshold` consecutive failures and then rejects without calling the function', async () => {
    const circuit = make({ threshold: 3 });
    await failTimes(circuit, 2);
    expect(circuit.state).toBe('closed');
    await failTimes(circuit, 1);
    expect(circuit.state).toBe('open');
    const fn = jest.fn(succeed);
    const rejection = await circuit.execute(fn).catch((e: unknown) => e);
    expect(fn).not.toHaveBeenCalled();
    expect(isCircuitOpenError(rejection)).toBe(true);
    expect(rejection).toMatchObject({
      code: 'ERR_CACHET_CIRCUIT_OPEN',
      circuit: 'provider',
      state: 'open',
      retryAfterMs: 10_000,
    });
  });

  it('opens on the failure rate once the window holds `minimumCalls` calls', async () => {
    const circuit = make({ failureRate: 0.5, minimumCalls: 6, window: '10s' });
    // 5 failures in a row do not open it: the consecutive trigger is off when only failureRate is given,
    // and 5 calls are below minimumCalls.
    await failTimes(circuit, 5);
    expect(circuit.state).toBe('closed');
    await circuit.execute(succeed);
    expect(circuit.state).toBe('closed'); // a success never opens the circuit
    await failTimes(circuit, 1);
    expect(circuit.state).toBe('open'); // 6 of 7 failed
  });

  it('times the rolling window by its clock and `window`', async () => {
    const circuit = make({ failureRate: 0.5, minimumCalls: 4, window: '10s' });
    await failTimes(circuit, 3);
    clock.advance(11_000);
    await circuit.execute(succeed);
    await circuit.execute(succeed);
    await circuit.execute(succeed);
    await failTimes(circuit, 1);
    // 1 of 4 in the window; with the 3 old failures it would be 4 of 7 and open.
    expect(circuit.state).toBe('closed');
    await failTimes(circuit, 2);
    expect(circuit.state).toBe('open'); // 3 of 6
  });

  it('lets exactly one probe through after halfOpenAfter and rejects concurrent calls meanwhile', async () => {
    const circuit = make({ threshold: 1, probeTimeout: '1m' });
    await failTimes(circuit, 1);
    clock.advance(10_000);
    const probe = deferred<string>();
    const probing = circuit.execute(() => probe.promise);
    const others = [jest.fn(succeed), jest.fn(succeed)];
    const rejections = await Promise.all(others.map((fn) => circuit.execute(fn).catch((e: unknown) => e)));
    expect(circuit.state).toBe('half-open');
    for (const fn of others) expect(fn).not.toHaveBeenCalled();
    for (const r of rejections) expect(r).toMatchObject({ state: 'half-open', retryAfterMs: 60_000 });
    probe.resolve('recovered');
    await expect(probing).resolves.toBe('recovered');
    expect(circuit.state).toBe('closed');
    await expect(circuit.execute(succeed)).resolves.toBe('ok');
  });

  it('emits open, halfOpen and close as it observes each transition', async () => {
    const circuit = make({ threshold: 1 });
    const seen: string[] = [];
    circuit.on('open', (e) => seen.push(`open from ${e.previous}`));
    circuit.on('halfOpen', (e) => seen.push(`halfOpen from ${e.previous}`));
    circuit.on('close', (e) => seen.push(`close from ${e.previous}`));
    await failTimes(circuit, 1);
    clock.advance(10_000);
    await circuit.execute(succeed);
    expect(seen).toEqual(['open from closed', 'halfOpen from open', 'close from half-open']);
  });

  it('counts only the errors `on` accepts; the others propagate and count as successes', async () => {
    const circuit = make({ threshold: 2, on: (error) => error instanceof ProviderError });
    const bad = new BadRequest('invalid prompt');
    for (let i = 0; i < 5; i++) await expect(circuit.execute(fail(bad))).rejects.toBe(bad);
    expect(circuit.state).toBe('closed');
    await failTimes(circuit, 1);
    await expect(circuit.execute(fail(bad))).rejects.toBe(bad);
    await failTimes(circuit, 1);
    expect(circuit.state).toBe('closed');
    await failTimes(circuit, 1);
    expect(circuit.state).toBe('open');
  });

  it('shares one circuit between two Circuits with the same name on one store', async () => {
    const store = new MemoryCircuitState();
    const a = make({ threshold: 2, store });
    const b = make({ threshold: 2, store });
    await failTimes(a, 2);
    await expect(b.execute(succeed)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(b.state).toBe('open');
  });

  it('wraps a plain function with circuitBreaker, keeping `this` and the arguments', async () => {
    const circuit = make({ threshold: 1 });
    const obj = {
      factor: 3,
      times: circuitBreaker(async function (this: { factor: number }, n: number) {
        if (n < 0) throw new ProviderError('negative');
        return n * this.factor;
      }, circuit),
    };
    await expect(obj.times(2)).resolves.toBe(6);
    await expect(obj.times(-1)).rejects.toBeInstanceOf(ProviderError);
    await expect(obj.times(2)).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it.each([
    [{ threshold: 0 }, 'Expected `threshold` to be a positive integer, got `0` (number)'],
    [{ failureRate: 1.5 }, 'Expected `failureRate` to be a number in (0, 1], got `1.5` (number)'],
    [{ minimumCalls: -1 }, 'Expected `minimumCalls` to be a positive integer, got `-1` (number)'],
    [{ window: '5ms' }, 'Expected `window` to be a duration of at least 10 ms, got `"5ms"` (string)'],
    [{ halfOpenAfter: 'soon' }, 'Expected `halfOpenAfter` to be a duration'],
    [{ on: 'all' }, 'Expected `on` to be a function, got `"all"` (string)'],
    [{ name: 'has space' }, 'Expected `name` to be a non-empty string'],
    [{ treshold: 3 }, 'Unknown CircuitBreaker option `treshold`'],
  ])('rejects invalid options %j with a TypeError', (options, message) => {
    expect(() => new Circuit(options as CircuitBreakerOptions)).toThrow(TypeError);
    expect(() => new Circuit(options as CircuitBreakerOptions)).toThrow(message);
  });
});
