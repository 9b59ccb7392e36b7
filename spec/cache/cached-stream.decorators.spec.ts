import { Cache, Cached, currentSignal, MemoryCostLedger, MemoryStore, PriceTable } from '../../lib';
import { RedisStore } from '../../lib/redis';
import { eventually } from '../support/async';
import { channel, collect, settle } from '../support/channel';
import { cleanUpKeys, testRedisUrl, uniquePrefix } from '../support/redis';

// This suite runs twice: under experimentalDecorators (legacy, as NestJS) and under TC39 standard decorators.

interface Chunk {
  readonly n: number;
}

/** A service whose streaming method reads from a test-driven channel. */
function streamingService(cache: Cache, source = channel<Chunk>()) {
  class Service {
    signals: (AbortSignal | undefined)[] = [];

    @Cached({ cache, stream: true })
    async *stream(question: string): AsyncGenerator<Chunk> {
      const signal = currentSignal();
      this.signals.push(signal);
      for await (const chunk of source.open(signal)) yield { ...chunk, question } as Chunk;
    }
  }
  return { service: new Service(), source };
}

describe('@Cached({ stream: true })', () => {
  let cache: Cache;
  beforeEach(() => {
    cache = new Cache();
  });

  it('hands the first caller each chunk as it arrives, before the stream ends', async () => {
    const { service, source } = streamingService(cache);
    const reader = service.stream('q')[Symbol.asyncIterator]();
    const first = reader.next();
    source.push({ n: 1 });
    await expect(first).resolves.toMatchObject({ done: false, value: { n: 1 } });
    source.push({ n: 2 });
    await expect(reader.next()).resolves.toMatchObject({ value: { n: 2 } });
    source.end();
    await expect(reader.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it('stores a completed stream and replays it in order on a hit, without calling the method', async () => {
    const { service, source } = streamingService(cache);
    source.push({ n: 1 }, { n: 2 }, { n: 3 });
    source.end();
    const live = await collect(service.stream('q'));
    const replayed = await collect(service.stream('q'));
    expect(replayed).toEqual(live);
    expect(live.map((c) => c.n)).toEqual([1, 2, 3]);
    expect(source.opened).toBe(1);
    expect(cache.stats().methods['default:Service.stream']).toMatchObject({ hits: 1, misses: 1, fills: 1 });
  });

  it('gives 50 identical concurrent callers one stream, every chunk in order, late joiners included', async () => {
    const { service, source } = streamingService(cache);
    const early = Array.from({ length: 25 }, () => collect(service.stream('q')));
    source.push({ n: 1 }, { n: 2 });
    await settle();
    const late = Array.from({ length: 25 }, () => collect(service.stream('q')));
    await settle();
    source.push({ n: 3 });
    source.end();
    const all = await Promise.all([...early, ...late]);
    expect(source.opened).toBe(1);
    for (const chunks of all) expect(chunks.map((c) => c.n)).toEqual([1, 2, 3]);
    expect(cache.stats().methods['default:Service.stream']).toMatchObject({ misses: 50, coalesced: 49, fills: 1 });
    expect(cache.fillsInProgress).toBe(0);
  });

  it('stores nothing when the stream fails midway, and every reader gets the chunks before the error', async () => {
    const { service, source } = streamingService(cache);
    const readers = [collectUntilError(service.stream('q')), collectUntilError(service.stream('q'))];
    source.push({ n: 1 });
    source.fail(new Error('connection reset'));
    for (const outcome of await Promise.all(readers)) {
      expect(outcome.chunks.map((c) => c.n)).toEqual([1]);
      expect(outcome.error).toEqual(new Error('connection reset'));
    }
    expect(source.opened).toBe(1);
    expect(cache.stats().methods['default:Service.stream']?.fills).toBe(0);
    // Nothing was stored: the next call streams again (the channel now replays its items, error included).
    await collectUntilError(service.stream('q'));
    expect(source.opened).toBe(2);
  });

  it('keeps streaming for the others when one reader stops early, and stores the whole stream', async () => {
    const { service, source } = streamingService(cache);
    const quitter = service.stream('q')[Symbol.asyncIterator]();
    const stayer = collect(service.stream('q'));
    source.push({ n: 1 });
    await expect(quitter.next()).resolves.toMatchObject({ value: { n: 1 } });
    await quitter.return?.(undefined);
    source.push({ n: 2 });
    source.end();
    expect((await stayer).map((c) => c.n)).toEqual([1, 2]);
    expect(service.signals[0]?.aborted).toBe(false);
    expect((await collect(service.stream('q'))).map((c) => c.n)).toEqual([1, 2]);
    expect(source.opened).toBe(1);
  });

  it('closes the method’s stream and aborts its signal when every reader stops early, storing nothing', async () => {
    const { service, source } = streamingService(cache);
    source.push({ n: 1 });
    for await (const chunk of service.stream('q')) {
      expect(chunk.n).toBe(1);
      break;
    }
    await settle();
    expect(service.signals[0]?.aborted).toBe(true);
    await settle();
    expect(source.closed).toBe(1);
    expect(cache.fillsInProgress).toBe(0);
    source.push({ n: 2 });
    source.end();
    await collect(service.stream('q'));
    expect(source.opened).toBe(2);
  });

  it('lets a caller’s own signal take that caller out without ending the stream for others', async () => {
    const { service, source } = streamingService(cache);
    const controller = new AbortController();
    const { runWithSignal } = await import('../../lib');
    const leaving = runWithSignal(controller.signal, () => collect(service.stream('q')));
    const staying = collect(service.stream('q'));
    source.push({ n: 1 });
    await settle();
    controller.abort(new Error('client went away'));
    await expect(leaving).rejects.toThrow('client went away');
    source.push({ n: 2 });
    source.end();
    expect((await staying).map((c) => c.n)).toEqual([1, 2]);
  });

  it('works for a method that returns a promise of a stream, awaited or not (as the openai package does)', async () => {
    const source = channel<Chunk>();
    source.push({ n: 1 }, { n: 2 });
    source.end();
    let calls = 0;
    class Sdk {
      @Cached({ cache, stream: true })
      async create(_question: string): Promise<AsyncIterable<Chunk>> {
        calls++;
        return source.open();
      }
    }
    const sdk = new Sdk();
    const awaited = await sdk.create('q');
    expect((await collect(awaited)).map((c) => c.n)).toEqual([1, 2]);
    expect((await collect(await sdk.create('q'))).map((c) => c.n)).toEqual([1, 2]);
    expect((await collect(sdk.create('q') as unknown as AsyncIterable<Chunk>)).map((c) => c.n)).toEqual([1, 2]);
    expect(calls).toBe(1);
  });

  it('rejects the await when the method fails before its stream opens, so callers can fall back', async () => {
    class Sdk {
      @Cached({ cache, stream: true })
      async create(): Promise<AsyncIterable<Chunk>> {
        throw Object.assign(new Error('429 Too Many Requests'), { status: 429 });
      }
    }
    await expect(new Sdk().create()).rejects.toMatchObject({ status: 429 });
    expect(cache.fillsInProgress).toBe(0);
  });

  it('rejects a method that returns no stream, naming it', async () => {
    class Wrong {
      @Cached({ cache, stream: true })
      async list(): Promise<AsyncIterable<number>> {
        return [1, 2] as unknown as AsyncIterable<number>;
      }
    }
    await expect(new Wrong().list()).rejects.toThrow(
      'expected default:Wrong.list to return an AsyncIterable or a promise of one, got an object without Symbol.asyncIterator',
    );
  });

  it('calls the method directly, uncached, when `when` says no', async () => {
    const source = channel<Chunk>();
    source.push({ n: 1 });
    source.end();
    class Service {
      @Cached({ cache, stream: true, when: (temperature: number) => temperature === 0 })
      stream(_temperature: number): AsyncGenerator<Chunk> {
        return source.open();
      }
    }
    const service = new Service();
    await collect(service.stream(0.7));
    await collect(service.stream(0.7));
    expect(source.opened).toBe(2);
    expect(cache.stats().total.bypassed).toBe(2);
  });

  it('applies `unless` to the array of chunks', async () => {
    const source = channel<Chunk>();
    source.end();
    class Service {
      @Cached({ cache, stream: true, unless: (chunks: Chunk[]) => chunks.length === 0 })
      stream(): AsyncGenerator<Chunk> {
        return source.open();
      }
    }
    const service = new Service();
    expect(await collect(service.stream())).toEqual([]);
    expect(await collect(service.stream())).toEqual([]);
    expect(source.opened).toBe(2);
  });

  it('stores a stream only when `complete` accepts its chunks; every reader gets the chunks either way', async () => {
    interface Part {
      readonly text?: string;
      readonly last?: true;
    }
    // The first stream ends cleanly but cut short; the second one is whole.
    const cut = channel<Part>();
    const whole = channel<Part>();
    const fills: boolean[] = [];
    cache.on('fill', ({ stored }) => fills.push(stored));
    class Service {
      @Cached({ cache, stream: true, complete: (parts: Part[]) => parts.at(-1)?.last === true })
      stream(): AsyncGenerator<Part> {
        return cut.opened === 0 ? cut.open() : whole.open();
      }
    }
    const service = new Service();
    const readers = [collect(service.stream()), collect(service.stream())];
    cut.push({ text: 'cut ' }, { text: 'short' });
    cut.end();
    for (const parts of await Promise.all(readers)) expect(parts).toEqual([{ text: 'cut ' }, { text: 'short' }]);
    expect(cut.opened).toBe(1);
    whole.push({ text: 'whole' }, { last: true });
    whole.end();
    expect(await collect(service.stream())).toEqual([{ text: 'whole' }, { last: true }]);
    expect(await collect(service.stream())).toEqual([{ text: 'whole' }, { last: true }]);
    expect([cut.opened, whole.opened]).toEqual([1, 1]);
    expect(fills).toEqual([false, true]);
  });

  it('treats an entry that is not a recording as a miss, and counts it', async () => {
    const store = new MemoryStore();
    const shared = new Cache({ store });
    const keys: string[] = [];
    shared.on('miss', ({ key }) => keys.push(key));
    const { service, source } = streamingService(shared);
    source.push({ n: 1 });
    source.end();
    await collect(service.stream('q'));
    await store.set(keys[0]!, 'not a recording', 60_000);
    expect((await collect(service.stream('q'))).map((c) => c.n)).toEqual([1]);
    expect(shared.stats().total.decodeErrors).toBe(1);
    expect(source.opened).toBe(2);
  });

  describe('replay pace', () => {
    afterEach(() => jest.useRealTimers());

    it('replays at the recorded gaps with pace "recorded"', async () => {
      let now = 1_000;
      const paced = new Cache({ clock: { now: () => now } });
      const source = channel<Chunk>();
      class Service {
        @Cached({ cache: paced, stream: { pace: 'recorded' } })
        stream(): AsyncGenerator<Chunk> {
          return source.open();
        }
      }
      const service = new Service();
      const live = collect(service.stream());
      await settle();
      now += 300;
      source.push({ n: 1 });
      await settle();
      now += 50;
      source.push({ n: 2 });
      source.end();
      await live;

      jest.useFakeTimers();
      const replay = service.stream()[Symbol.asyncIterator]();
      let first = false;
      const firstChunk = replay.next().then((r) => ((first = true), r));
      await jest.advanceTimersByTimeAsync(299);
      expect(first).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await expect(firstChunk).resolves.toMatchObject({ value: { n: 1 } });
      let second = false;
      const secondChunk = replay.next().then((r) => ((second = true), r));
      await jest.advanceTimersByTimeAsync(49);
      expect(second).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await expect(secondChunk).resolves.toMatchObject({ value: { n: 2 } });
    });

    it('waits a fixed time before each replayed chunk with a duration', async () => {
      const source = channel<Chunk>();
      source.push({ n: 1 }, { n: 2 });
      source.end();
      class Service {
        @Cached({ cache, stream: { pace: '20ms' } })
        stream(): AsyncGenerator<Chunk> {
          return source.open();
        }
      }
      const service = new Service();
      await collect(service.stream());
      jest.useFakeTimers();
      const replay = collect(service.stream());
      let done = false;
      void replay.then(() => (done = true));
      await jest.advanceTimersByTimeAsync(39);
      expect(done).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect((await replay).map((c) => c.n)).toEqual([1, 2]);
    });
  });

  it('rejects bad stream options when the class is defined', () => {
    expect(() => Cached({ stream: { pace: 'fast' } } as never)).toThrow(
      /Expected `stream.pace` to be false, 'recorded', or a duration such as '20ms', got `"fast"`/,
    );
    expect(() => Cached({ stream: { speed: 2 } } as never)).toThrow(/Unknown stream option `speed`/);
    expect(() => Cached({ stream: true, complete: true } as never)).toThrow(
      'Expected `complete` to be a function, got `true` (boolean)',
    );
  });

  describe('cost ledger', () => {
    it('records the fill once, and a saving for each joiner and each replay', async () => {
      const ledger = new MemoryCostLedger({ prices: new PriceTable({ m: { inputPer1K: 1, outputPer1K: 2 } }) });
      const ledgered = new Cache({ ledger });
      const source = channel<Chunk>();
      class Service {
        @Cached({
          cache: ledgered,
          stream: true,
          usage: (chunks: Chunk[], tenant: string) => ({
            model: 'm',
            tenant,
            usage: { promptTokens: 10, completionTokens: chunks.length },
          }),
        })
        stream(_tenant: string): AsyncGenerator<Chunk> {
          return source.open();
        }
      }
      const service = new Service();
      const readers = [collect(service.stream('acme')), collect(service.stream('acme'))];
      source.push({ n: 1 }, { n: 2 });
      source.end();
      await Promise.all(readers);
      await collect(service.stream('acme'));
      const { rows } = await ledger.report();
      expect(rows).toEqual([
        expect.objectContaining({
          namespace: 'default',
          tenant: 'acme',
          model: 'm',
          fills: 1,
          hits: 2,
          spentPromptTokens: 10,
          savedCompletionTokens: 4,
        }),
      ]);
    });
  });

  describe('on Redis', () => {
    const prefix = uniquePrefix('stream');
    afterAll(() => cleanUpKeys(prefix));

    it('replays a stream recorded by another instance, and shares one fill between instances', async () => {
      const stores = [new RedisStore({ url: testRedisUrl() }), new RedisStore({ url: testRedisUrl() })];
      const caches = stores.map((store) => new Cache({ store, prefix }));
      const source = channel<Chunk>();
      const services = caches.map((c) => streamingService(c, source).service);
      try {
        const first = collect(services[0]!.stream('shared'));
        // Let instance 0 take the fill lease before instance 1 asks.
        await eventually(() => source.opened === 1);
        const second = collect(services[1]!.stream('shared'));
        source.push({ n: 1 }, { n: 2 });
        source.end();
        const [a, b] = await Promise.all([first, second]);
        expect(b).toEqual(a);
        expect(source.opened).toBe(1);
        expect((await collect(services[1]!.stream('shared'))).map((c) => c.n)).toEqual([1, 2]);
        expect(caches[1]!.stats().total).toMatchObject({ hits: 1, coalesced: 1, fills: 0 });
      } finally {
        await Promise.all(caches.map((c) => c.close()));
      }
    });
  });
});

async function collectUntilError<T>(iterable: AsyncIterable<T>): Promise<{ chunks: T[]; error: unknown }> {
  const chunks: T[] = [];
  try {
    for await (const chunk of iterable) chunks.push(chunk);
  } catch (error) {
    return { chunks, error };
  }
  return { chunks, error: undefined };
}
