import { Cache, Cached, MemoryCostLedger, PriceTable, type CallUsage } from '../../lib';
import { RedisStore } from '../../lib/redis';
import { deferred } from '../support/async';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';

// This suite runs twice: under experimentalDecorators (legacy, as NestJS) and under TC39 standard decorators.

interface Reply {
  readonly text: string;
  readonly tokens: number;
}

const prices = new PriceTable({ m: { inputPer1K: 1, outputPer1K: 2 } });
const usage = (reply: Reply, _q: string, tenant: string): CallUsage => ({
  model: 'm',
  tenant,
  usage: { promptTokens: 100, completionTokens: reply.tokens },
});

describe('@Cached with a cost ledger', () => {
  it('records a fill as spent and every hit and shared fill as saved, per namespace and tenant', async () => {
    const ledger = new MemoryCostLedger({ prices });
    const cache = new Cache({ ledger, namespace: 'support' });
    const gate = deferred<void>();
    let calls = 0;
    class Assistant {
      @Cached({ cache, usage })
      async ask(q: string, _tenant: string): Promise<Reply> {
        calls++;
        await gate.promise;
        return { text: `answer to ${q}`, tokens: 7 };
      }
    }
    const a = new Assistant();
    const concurrent = [a.ask('q', 'acme'), a.ask('q', 'acme'), a.ask('q', 'acme')];
    gate.resolve();
    await Promise.all(concurrent);
    await a.ask('q', 'acme');
    await a.ask('other', 'globex');
    expect(calls).toBe(2); // one for ('q', 'acme'), one for ('other', 'globex')
    const { rows, total } = await ledger.report();
    expect(rows.find((r) => r.tenant === 'acme')).toMatchObject({
      namespace: 'support',
      model: 'm',
      fills: 1,
      hits: 3,
      spentPromptTokens: 100,
      savedCompletionTokens: 21,
      // 100 prompt tokens at $1/1K + 7 completion tokens at $2/1K = $0.114, in nano-dollars.
      spentNanos: 114_000_000,
      savedNanos: 3 * 114_000_000,
    });
    expect(total.fills).toBe(2);
  });

  it('records nothing without a usage function, or with `ledger: false`', async () => {
    const ledger = new MemoryCostLedger({ prices });
    const cache = new Cache({ ledger });
    class Service {
      @Cached({ cache })
      async plain(q: string): Promise<Reply> {
        return { text: q, tokens: 1 };
      }
      @Cached({ cache, usage, ledger: false })
      async off(q: string, _tenant: string): Promise<Reply> {
        return { text: q, tokens: 1 };
      }
    }
    const s = new Service();
    await s.plain('x');
    await s.plain('x');
    await s.off('x', 't');
    expect((await ledger.report()).rows).toEqual([]);
  });

  it('records nothing for calls that `when` sends past the cache, nor for results whose usage function finds none', async () => {
    const ledger = new MemoryCostLedger({ prices });
    const cache = new Cache({ ledger });
    let calls = 0;
    class Service {
      @Cached({ cache, usage, when: (_q: string, tenant: string) => tenant !== 'admin' })
      async ask(q: string, _tenant: string): Promise<Reply> {
        calls++;
        return { text: q, tokens: 1 };
      }
      @Cached({ cache, usage: () => undefined })
      async textOnly(q: string): Promise<string> {
        return q;
      }
    }
    const s = new Service();
    await s.ask('x', 'admin');
    await s.ask('x', 'admin');
    await s.textOnly('y');
    await s.textOnly('y');
    expect(calls).toBe(2);
    expect((await ledger.report()).rows).toEqual([]);
  });

  it('never lets a failing usage function reach the caller; it reports an error event instead', async () => {
    const ledger = new MemoryCostLedger({ prices });
    const cache = new Cache({ ledger });
    const errors: unknown[] = [];
    cache.on('error', ({ operation, error }) => errors.push([operation, (error as Error).message]));
    class Service {
      @Cached({
        cache,
        usage: () => {
          throw new Error('no usage here');
        },
      })
      async ask(q: string): Promise<string> {
        return q;
      }
    }
    await expect(new Service().ask('x')).resolves.toBe('x');
    await expect(new Service().ask('x')).resolves.toBe('x');
    expect(errors).toEqual([
      ['ledger', 'no usage here'],
      ['ledger', 'no usage here'],
    ]);
  });

  it('counts a value another instance filled (through the Redis lease) as saved', async () => {
    const prefix = uniquePrefix('ledger');
    const ledgers = [new MemoryCostLedger({ prices }), new MemoryCostLedger({ prices })];
    const caches = ledgers.map(
      (ledger) => new Cache({ ledger, prefix, store: new RedisStore({ url: testRedisUrl() }) }),
    );
    const gate = deferred<void>();
    const started = deferred<void>();
    const make = (cache: Cache) => {
      class Assistant {
        @Cached({ cache, usage })
        async ask(q: string, _tenant: string): Promise<Reply> {
          started.resolve();
          await gate.promise;
          return { text: q, tokens: 5 };
        }
      }
      return new Assistant();
    };
    try {
      const first = make(caches[0]!).ask('q', 't');
      await started.promise;
      // The second instance finds the lease taken and waits for the first one's value.
      const coordinator = (caches[1]!.store as RedisStore).coordinator;
      const waiting = deferred<void>();
      const wait = coordinator.waitForFill.bind(coordinator);
      jest.spyOn(coordinator, 'waitForFill').mockImplementation((...args) => (waiting.resolve(), wait(...args)));
      const second = make(caches[1]!).ask('q', 't');
      await waiting.promise;
      gate.resolve();
      await Promise.all([first, second]);
      expect((await ledgers[0]!.report()).total).toMatchObject({ fills: 1, hits: 0 });
      expect((await ledgers[1]!.report()).total).toMatchObject({ fills: 0, hits: 1 });
    } finally {
      await Promise.all(caches.map((c) => c.close()));
      const client = await connectTestClient();
      await deleteKeys(client, prefix);
      await client.close();
    }
  });

  it('rejects a ledger option that is not a ledger', () => {
    expect(() => Cached({ ledger: {} } as never)).toThrow(/Expected `ledger` to be a CostLedger/);
    expect(() => new Cache({ ledger: 1 } as never)).toThrow(/Expected `ledger` to be a CostLedger/);
  });
});
