import { Cache } from '../../lib';
import { RedisStore } from '../../lib/redis';
import { freePort } from '../support/redis-server';

describe('RedisStore lifecycle', () => {
  it('closes at once when Redis was never reachable, instead of waiting on its reconnect loop', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const cache = new Cache({ store: new RedisStore({ url, operationTimeout: 50 }) });
    let calls = 0;
    const f = cache.wrap(async () => ++calls, { name: 'f' });
    await expect(f()).resolves.toBe(1);
    await expect(cache.close()).resolves.toBeUndefined();
  });

  it('closes after waiting for a fill, including the pub/sub connection it opened', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const store = new RedisStore({ url, operationTimeout: 50 });
    // waitForFill opens the subscriber; with Redis unreachable the wait fails with a store error.
    await expect(store.coordinator.waitForFill('k', 10)).rejects.toMatchObject({
      code: expect.stringMatching(/^ERR_CACHET_STORE/),
    });
    await expect(store.close()).resolves.toBeUndefined();
  });
});
