import { LocalSemaphore } from '../../lib/concurrency/local-semaphore';
import { describeSemaphore } from '../ports/semaphore-contract';

describeSemaphore(
  'LocalSemaphore',
  async () => ({ semaphore: (options) => new LocalSemaphore(options), cleanup: async () => {} }),
  {
    fifo: true,
    fakeTimers: true,
  },
);

describe('LocalSemaphore', () => {
  it.each([
    [{ max: 0 }, 'Expected `max` to be a positive integer, got `0` (number)'],
    [{}, 'Expected `max` to be a positive integer, got `undefined` (undefined)'],
    [{ max: 1, maxQueue: -1 }, 'Expected `maxQueue` to be an integer >= 0 or Infinity, got `-1` (number)'],
    [{ max: 1, queueTimeout: 'soon' }, 'Expected `queueTimeout` to be a duration'],
  ])('rejects invalid options %j with a TypeError', (options, message) => {
    expect(() => new LocalSemaphore(options)).toThrow(TypeError);
    expect(() => new LocalSemaphore(options)).toThrow(message);
  });
});
