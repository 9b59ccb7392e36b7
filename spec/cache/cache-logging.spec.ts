import { Cache } from '../../lib/cache/cache';
import { MemoryStore } from '../../lib/cache/memory-store';
import { setLogger } from '../../lib/core/logger';
import { retry } from '../../lib/resilience/retry';
import { withFallback } from '../../lib/resilience/fallback';
import { recordingLogger } from '../support/logger';

class Reply {
  constructor(readonly text: string) {}
}

async function* chunks(): AsyncGenerator<{ n: number }> {
  yield { n: 1 };
}

describe('what the cache and the resilience callbacks log', () => {
  let warn: jest.SpyInstance;

  beforeEach(() => {
    warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
  });

  afterEach(() => {
    setLogger(undefined);
    warn.mockRestore();
  });

  it('logs a value the store refuses once per method, with its namespace, method, key, store and error', async () => {
    const logger = recordingLogger();
    const cache = new Cache({ logger, namespace: 'bot' });
    const keys: string[] = [];
    cache.on('miss', ({ key }) => keys.push(key));
    const answer = cache.wrap(async (question: string) => new Reply(`re: ${question}`), { name: 'answer' });

    await answer('a');
    await answer('a');
    await answer('b');

    expect(cache.stats().total.encodeErrors).toBe(3);
    expect(logger.lines).toEqual([
      [
        'warn',
        {
          event: 'cachet.value-refused',
          namespace: 'bot',
          method: 'bot:answer',
          key: keys[0],
          store: 'memory',
          err: expect.objectContaining({ name: 'ValueEncodeError' }),
        },
        expect.stringContaining('bot:answer returned a value the cache cannot store'),
      ],
    ]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('logs an entry that does not decode once per method, and still answers from the method', async () => {
    const logger = recordingLogger();
    const store = new MemoryStore();
    const cache = new Cache({ store, logger });
    const keys: string[] = [];
    cache.on('miss', ({ key }) => keys.push(key));
    const stream = cache.wrap(chunks, { name: 'stream', stream: true });
    const collect = async (): Promise<unknown[]> => {
      const out: unknown[] = [];
      for await (const chunk of stream()) out.push(chunk);
      return out;
    };

    await collect();
    await store.set(keys[0] as string, 'not a recording', 60_000);
    expect(await collect()).toEqual([{ n: 1 }]);
    await store.set(keys[0] as string, 'not a recording either', 60_000);
    expect(await collect()).toEqual([{ n: 1 }]);

    expect(cache.stats().total.decodeErrors).toBe(2);
    expect(logger.lines).toEqual([
      [
        'warn',
        {
          event: 'cachet.decode-failed',
          namespace: 'default',
          method: 'default:stream',
          key: keys[0],
          store: 'memory',
          err: expect.any(Error),
        },
        expect.stringContaining('default:stream read an entry it cannot decode'),
      ],
    ]);
  });

  it("logs a cache event listener's exception as an error, and the call answers", async () => {
    const logger = recordingLogger();
    const cache = new Cache({ logger });
    const bug = new Error('listener bug');
    cache.on('miss', () => {
      throw bug;
    });
    await expect(cache.wrap(async () => 5, { name: 'f' })()).resolves.toBe(5);
    expect(logger.lines).toEqual([
      [
        'error',
        { event: 'cachet.listener-threw', listener: 'miss', err: bug },
        "A cachet 'miss' listener threw: Error: listener bug",
      ],
    ]);
  });

  it("logs an onRetry callback's exception on the global logger, with the function and attempt", async () => {
    const logger = recordingLogger();
    setLogger(logger);
    const bug = new Error('onRetry bug');
    let calls = 0;
    const flaky = retry(
      async function fetchAnswer(): Promise<string> {
        if (++calls === 1) throw new Error('transient');
        return 'ok';
      },
      {
        attempts: 2,
        on: () => true,
        random: () => 0,
        onRetry: () => {
          throw bug;
        },
      },
    );
    await expect(flaky()).resolves.toBe('ok');
    expect(logger.lines).toEqual([
      [
        'error',
        { event: 'cachet.listener-threw', listener: 'onRetry', method: 'fetchAnswer', attempt: 1, err: bug },
        'A cachet onRetry callback threw: Error: onRetry bug',
      ],
    ]);
  });

  it("logs an onFallback callback's exception on the global logger, and the fallback still answers", async () => {
    const logger = recordingLogger();
    setLogger(logger);
    const bug = new Error('onFallback bug');
    const guarded = withFallback(
      async function primary(): Promise<string> {
        throw new Error('down');
      },
      {
        value: 'spare',
        onFallback: () => {
          throw bug;
        },
      },
    );
    await expect(guarded()).resolves.toBe('spare');
    expect(logger.lines).toEqual([
      [
        'error',
        { event: 'cachet.listener-threw', listener: 'onFallback', method: 'primary', err: bug },
        'A cachet onFallback callback threw: Error: onFallback bug',
      ],
    ]);
  });

  it('keeps the process warnings of listeners when no logger is set', async () => {
    const guarded = withFallback(async () => Promise.reject(new Error('down')), {
      value: 0,
      onFallback: () => {
        throw new Error('onFallback bug');
      },
    });
    await guarded();
    expect(warn).toHaveBeenCalledWith(
      'A cachet onFallback callback threw: Error: onFallback bug',
      'CachetListenerWarning',
    );
  });
});
