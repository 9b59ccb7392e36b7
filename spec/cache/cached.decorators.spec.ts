import { Cache, Cached, CacheKeyError, describePolicies, MemoryStore, registerClass, setDefaultCache } from '../../lib';
import { deferred } from '../support/async';

// This suite runs twice: under experimentalDecorators (legacy, as NestJS) and under TC39 standard decorators.

describe('@Cached', () => {
  let cache: Cache;
  beforeEach(() => {
    cache = new Cache();
  });

  it('answers a repeated call from the cache without running the method again', async () => {
    let calls = 0;
    class Greeter {
      @Cached({ cache })
      async greet(name: string): Promise<string> {
        calls++;
        return `hello ${name}`;
      }
    }
    const greeter = new Greeter();
    await expect(greeter.greet('ada')).resolves.toBe('hello ada');
    await expect(greeter.greet('ada')).resolves.toBe('hello ada');
    await expect(greeter.greet('bob')).resolves.toBe('hello bob');
    expect(calls).toBe(2);
    expect(cache.stats().methods['default:Greeter.greet']).toMatchObject({ hits: 1, misses: 2, fills: 2 });
  });

  it('calls the method with the right `this`, per instance', async () => {
    class Client {
      constructor(readonly model: string) {}
      @Cached({
        cache,
        key(this: Client, prompt: string) {
          return [this.model, prompt];
        },
      })
      async complete(prompt: string): Promise<string> {
        return `${this.model}: ${prompt}`;
      }
    }
    const small = new Client('small');
    const large = new Client('large');
    await expect(small.complete('hi')).resolves.toBe('small: hi');
    await expect(large.complete('hi')).resolves.toBe('large: hi');
    await expect(small.complete('hi')).resolves.toBe('small: hi');
  });

  it('keeps the method name and never shares entries between two classes with the same method', async () => {
    class A {
      @Cached({ cache })
      async get(id: number): Promise<string> {
        return `A${id}`;
      }
    }
    class B {
      @Cached({ cache })
      async get(id: number): Promise<string> {
        return `B${id}`;
      }
    }
    expect(A.prototype.get.name).toBe('get');
    await expect(new A().get(1)).resolves.toBe('A1');
    await expect(new B().get(1)).resolves.toBe('B1');
    expect(Object.keys(cache.stats().methods).sort()).toEqual(['default:A.get', 'default:B.get']);
  });

  it('names inherited methods after the class that declares them', async () => {
    let calls = 0;
    class Base {
      @Cached({ cache })
      async load(id: number): Promise<number> {
        calls++;
        return id * 2;
      }
    }
    class Derived extends Base {}
    await new Derived().load(2);
    await new Base().load(2);
    expect(calls).toBe(1);
    expect(Object.keys(cache.stats().methods)).toEqual(['default:Base.load']);
  });

  it('caches static methods', async () => {
    let calls = 0;
    class Catalog {
      @Cached({ cache })
      static async find(sku: string): Promise<{ sku: string }> {
        calls++;
        return { sku };
      }
    }
    await Catalog.find('x');
    await Catalog.find('x');
    expect(calls).toBe(1);
    expect(Object.keys(cache.stats().methods)).toEqual(['default:Catalog.find']);
  });

  it('runs the method once for 100 concurrent misses on one key, and all callers get its result', async () => {
    const gate = deferred<void>();
    let calls = 0;
    class Slow {
      @Cached({ cache })
      async value(id: string): Promise<{ id: string }> {
        calls++;
        await gate.promise;
        return { id };
      }
    }
    const slow = new Slow();
    const pending = Array.from({ length: 100 }, () => slow.value('k'));
    gate.resolve();
    const results = await Promise.all(pending);
    expect(calls).toBe(1);
    expect(new Set(results).size).toBe(1);
    expect(results[0]).toEqual({ id: 'k' });
    expect(cache.stats().total).toMatchObject({ fills: 1, coalesced: 99 });
  });

  it('gives every concurrent waiter the error and caches nothing when the method fails', async () => {
    const gate = deferred<void>();
    let calls = 0;
    class Flaky {
      @Cached({ cache })
      async value(): Promise<number> {
        calls++;
        await gate.promise;
        if (calls === 1) throw new Error('provider down');
        return 42;
      }
    }
    const flaky = new Flaky();
    const pending = Array.from({ length: 10 }, () => flaky.value());
    gate.resolve();
    const outcomes = await Promise.allSettled(pending);
    expect(outcomes.every((o) => o.status === 'rejected' && (o.reason as Error).message === 'provider down')).toBe(
      true,
    );
    await expect(flaky.value()).resolves.toBe(42);
    expect(calls).toBe(2);
    expect(cache.fillsInProgress).toBe(0);
  });

  it('bypasses the cache entirely when `when` says no', async () => {
    let calls = 0;
    class Llm {
      @Cached({ cache, when: (req: { temperature: number }) => req.temperature === 0 })
      async complete(req: { prompt: string; temperature: number }): Promise<string> {
        calls++;
        return `${req.prompt}#${calls}`;
      }
    }
    const llm = new Llm();
    await llm.complete({ prompt: 'p', temperature: 0.7 });
    await llm.complete({ prompt: 'p', temperature: 0.7 });
    expect(calls).toBe(2);
    expect(cache.stats().total).toMatchObject({ bypassed: 2, hits: 0, misses: 0 });
    await llm.complete({ prompt: 'p', temperature: 0 });
    await llm.complete({ prompt: 'p', temperature: 0 });
    expect(calls).toBe(3);
  });

  it('returns but does not store a result that `unless` rejects', async () => {
    let calls = 0;
    class Search {
      @Cached({ cache, unless: (hits: string[]) => hits.length === 0 })
      async find(q: string): Promise<string[]> {
        calls++;
        return q === 'none' ? [] : [q];
      }
    }
    const search = new Search();
    await expect(search.find('none')).resolves.toEqual([]);
    await expect(search.find('none')).resolves.toEqual([]);
    await search.find('x');
    await search.find('x');
    expect(calls).toBe(3);
  });

  it('returns but does not store a result that `complete` finds cut short, beside its own `unless`', async () => {
    let calls = 0;
    class Writer {
      @Cached({ cache, unless: (text: string) => text === '', complete: (text: string) => text.endsWith('.') })
      async write(topic: string): Promise<string> {
        calls++;
        return calls === 1 ? `${topic} is` : `${topic} is fine.`;
      }
    }
    const writer = new Writer();
    await expect(writer.write('tea')).resolves.toBe('tea is');
    await expect(writer.write('tea')).resolves.toBe('tea is fine.');
    await expect(writer.write('tea')).resolves.toBe('tea is fine.');
    expect(calls).toBe(2);
  });

  it('caches `undefined` and `null` results like any other value', async () => {
    let calls = 0;
    class Users {
      @Cached({ cache })
      async find(id: number): Promise<{ id: number } | null | undefined> {
        calls++;
        return id === 1 ? null : undefined;
      }
    }
    const users = new Users();
    await expect(users.find(1)).resolves.toBeNull();
    await expect(users.find(1)).resolves.toBeNull();
    await expect(users.find(2)).resolves.toBeUndefined();
    await expect(users.find(2)).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });

  it('expires entries after the TTL, including a TTL computed from the result', async () => {
    let now = 1_000_000;
    const clock = { now: () => now };
    const timed = new Cache({ store: new MemoryStore({ clock }), clock });
    let calls = 0;
    class Tokens {
      @Cached({ cache: timed, ttl: (token: { expiresInMs: number }) => token.expiresInMs - 60_000 })
      async token(): Promise<{ expiresInMs: number }> {
        calls++;
        return { expiresInMs: 3_600_000 };
      }
      @Cached({ cache: timed, ttl: '10s' })
      async fixed(): Promise<number> {
        calls++;
        return 1;
      }
    }
    const tokens = new Tokens();
    await tokens.token();
    now += 3_540_000 - 1;
    await tokens.token();
    expect(calls).toBe(1);
    now += 1;
    await tokens.token();
    expect(calls).toBe(2);
    await tokens.fixed();
    now += 9_999;
    await tokens.fixed();
    now += 1;
    await tokens.fixed();
    expect(calls).toBe(4);
  });

  it('returns a result it cannot store (an unregistered class instance) without caching it, and says so loudly', async () => {
    class Reply {
      constructor(readonly text: string) {}
    }
    let calls = 0;
    class Assistant {
      @Cached({ cache })
      async answer(question: string): Promise<Reply> {
        calls++;
        return new Reply(`re: ${question}`);
      }
    }
    const errors: unknown[] = [];
    cache.on('error', ({ error }) => errors.push(error));
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const assistant = new Assistant();
      const first = await assistant.answer('q');
      expect(first).toBeInstanceOf(Reply);
      await assistant.answer('q');
      expect(calls).toBe(2);
      expect(cache.stats().total).toMatchObject({ encodeErrors: 2, storeErrors: 0, fills: 2 });
      expect(errors).toHaveLength(2);
      expect((errors[0] as Error).name).toBe('ValueEncodeError');
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn).toHaveBeenCalledWith(
        expect.stringContaining('default:Assistant.answer returned a value the cache cannot store'),
        expect.objectContaining({ type: 'CachetValueWarning' }),
      );
    } finally {
      warn.mockRestore();
    }
  });

  it('returns an instance of a registered class from a hit, with its class', async () => {
    class Dto {
      constructor(readonly id: number) {}
      label(): string {
        return `#${this.id}`;
      }
    }
    registerClass(Dto, { name: 'spec.cached.Dto' });
    class Repo {
      @Cached({ cache })
      async find(id: number): Promise<Dto> {
        return new Dto(id);
      }
    }
    const repo = new Repo();
    await repo.find(7);
    const hit = await repo.find(7);
    expect(hit).toBeInstanceOf(Dto);
    expect(hit.label()).toBe('#7');
    expect(cache.stats().total).toMatchObject({ hits: 1, encodeErrors: 0 });
  });

  it('rejects with a CacheKeyError naming the argument path for arguments that cannot be keyed', async () => {
    class Jobs {
      @Cached({ cache })
      async run(_job: unknown): Promise<number> {
        return 1;
      }
    }
    const job = { name: 'x', onDone: () => {} };
    const error = await new Jobs().run(job).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheKeyError);
    expect(error).toMatchObject({ path: 'args[0].onDone', found: 'function', method: 'Jobs.run' });
  });

  it('uses the default cache, and picks up setDefaultCache() made after the class was defined', async () => {
    class Defaults {
      @Cached()
      async value(): Promise<number> {
        return 7;
      }
    }
    const mine = new Cache();
    setDefaultCache(mine);
    try {
      await new Defaults().value();
      await new Defaults().value();
      expect(mine.stats().total).toMatchObject({ hits: 1, misses: 1 });
    } finally {
      setDefaultCache(undefined);
    }
  });

  it('separates namespaces', async () => {
    class Scoped {
      @Cached({ cache, namespace: 'faq' })
      async a(): Promise<number> {
        return 1;
      }
    }
    await new Scoped().a();
    expect(Object.keys(cache.stats().methods)).toEqual(['faq:Scoped.a']);
  });

  describe('option validation at class definition', () => {
    it.each([
      [{ ttl: -1 }, /Expected `ttl` to be a duration/],
      [{ ttl: '10 minutes' }, /Expected `ttl` to be a duration/],
      [{ when: true }, /Expected `when` to be a function, got `true` \(boolean\)/],
      [{ namespace: 'has space' }, /Expected `namespace` to be a non-empty string/],
      [
        { namespace: 'chat:v2' },
        /^Expected `namespace` to be a non-empty string of at most 200 characters without whitespace or `:`, got `"chat:v2"` \(string\)$/,
      ],
      [
        { namespace: 'tag' },
        /^Expected `namespace` to be a namespace other than `tag` \(the cache's tag sets live there\), got `"tag"` \(string\)$/,
      ],
      [{ onStoreError: 'ignore' }, /Expected `onStoreError` to be one of 'bypass', 'throw', got `"ignore"` \(string\)/],
      [{ tll: '1m' }, /Unknown @Cached option `tll`/],
      [{ lock: { ttl: 0 } }, /Expected `lock.ttl` to be a duration of at least 1ms/],
      [{ cache: {} }, /Expected `cache` to be a Cache instance/],
    ])('throws a TypeError for %j', (options, message) => {
      expect(() => {
        class Bad {
          @Cached(options as Record<string, unknown>)
          async m(): Promise<void> {}
        }
        return Bad;
      }).toThrow(TypeError);
      expect(() => Cached(options as never)).toThrow(message);
    });
  });

  it('lists a class’s cached methods and their options', () => {
    class Listed {
      @Cached({ cache, ttl: '1m' })
      async one(): Promise<number> {
        return 1;
      }
      @Cached({ cache, namespace: 'n' })
      static async two(): Promise<number> {
        return 2;
      }
      async plain(): Promise<number> {
        return 3;
      }
    }
    class Child extends Listed {
      @Cached({ cache })
      async three(): Promise<number> {
        return 3;
      }
    }
    const listed = describePolicies(Listed);
    expect(listed.map((m) => [m.method, m.static]).sort()).toEqual([
      ['one', false],
      ['two', true],
    ]);
    expect(listed.find((m) => m.method === 'one')?.policies).toEqual([
      { kind: 'cached', options: { cache, ttl: '1m' } },
    ]);
    expect(
      describePolicies(Child)
        .map((m) => m.method)
        .sort(),
    ).toEqual(['one', 'three', 'two']);
    expect(describePolicies(Listed).map((m) => m.method)).not.toContain('three');
  });
});
