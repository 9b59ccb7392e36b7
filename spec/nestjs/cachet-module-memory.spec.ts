import 'reflect-metadata';
import { Controller, Get, Inject, Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  Cache,
  Cached,
  Concurrency,
  LocalSemaphore,
  MemoryCircuitState,
  MemoryRateLimiter,
  CircuitBreaker,
  RateLimited,
  getDefaultCache,
  getLogger,
  isUnknownResourceError,
  resolveResource,
  setLogger,
} from '../../lib';
import { CachetModule, CachetRuntime } from '../../lib/nestjs';
import { recordingLogger } from '../support/logger';
import { MemoryRouterHealth } from '../../lib/router';

// CachetModule.forRoot in one process, with memory resources: what it provides, and that app.close() closes
// and unregisters everything it opened.

@Injectable()
class Service {
  fills = 0;

  @Cached({ ttl: '1m' })
  async answer(q: string): Promise<string> {
    this.fills++;
    return `answer to ${q}`;
  }

  @RateLimited({ limiter: 'mem-limiter', limit: 1, interval: '1m' })
  @Concurrency({ semaphore: 'mem-semaphore' })
  @CircuitBreaker({ store: 'mem-circuits' })
  async guarded(): Promise<string> {
    return 'guarded';
  }
}

@Controller()
class AppController {
  constructor(
    @Inject(Service) private readonly service: Service,
    @Inject(Cache) readonly cache: Cache,
  ) {}

  @Get('answer')
  answer(): Promise<string> {
    return this.service.answer('life');
  }

  @Get('guarded')
  guarded(): Promise<string> {
    return this.service.guarded();
  }
}

describe('CachetModule.forRoot', () => {
  let app: INestApplication;
  const routerHealth = new MemoryRouterHealth();
  const closed: string[] = [];
  const limiter = new MemoryRateLimiter();
  const closeLimiter = limiter.close.bind(limiter);
  limiter.close = async () => {
    closed.push('limiter');
    await closeLimiter();
  };

  beforeAll(async () => {
    @Module({
      imports: [
        CachetModule.forRoot({
          cache: { prefix: 'nest-memory' },
          rateLimiters: { 'mem-limiter': limiter },
          semaphores: { 'mem-semaphore': new LocalSemaphore({ max: 2 }) },
          circuitStores: { 'mem-circuits': new MemoryCircuitState() },
          routerHealth: { 'mem-health': routerHealth },
        }),
      ],
      controllers: [AppController],
      providers: [Service],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
  });

  it('injects the default cache as Cache, the one @Cached() without a cache uses', async () => {
    const cache = app.get(Cache);
    expect(getDefaultCache()).toBe(cache);
    const base = await app.getUrl();
    for (let i = 0; i < 3; i++) expect(await (await fetch(`${base}/answer`)).text()).toBe('answer to life');
    expect(app.get(Service).fills).toBe(1);
    expect(cache.stats().total.hits).toBe(2);
  });

  it('registers the named resources that the decorators use at their first call', async () => {
    const base = await app.getUrl();
    expect((await fetch(`${base}/guarded`)).status).toBe(200);
    // The second call is over the limit of the registered limiter: RateLimitError, a 500 without a filter.
    expect((await fetch(`${base}/guarded`)).status).toBe(500);
    expect(resolveResource('rateLimiter', 'mem-limiter')).toBe(limiter);
    expect(resolveResource('routerHealth', 'mem-health')).toBe(routerHealth);
  });

  it('closes and unregisters everything on app.close()', async () => {
    const cache = app.get(Cache);
    const runtime = app.get(CachetRuntime);
    await app.close();
    expect(closed).toEqual(['limiter']);
    expect(getDefaultCache()).not.toBe(cache);
    for (const [kind, name] of [
      ['rateLimiter', 'mem-limiter'],
      ['semaphore', 'mem-semaphore'],
      ['circuitStore', 'mem-circuits'],
      ['routerHealth', 'mem-health'],
    ] as const) {
      expect(
        isUnknownResourceError(
          (() => {
            try {
              resolveResource(kind, name);
            } catch (e) {
              return e;
            }
          })(),
        ),
      ).toBe(true);
    }
    await runtime.close(); // idempotent
  });

  it('refuses unknown options and a store it cannot make, when the module starts', async () => {
    @Module({ imports: [CachetModule.forRoot({ store: 'redis' as never })] })
    class BadStore {}
    await expect(
      NestFactory.createApplicationContext(BadStore, { logger: false, abortOnError: false }),
    ).rejects.toThrow(/store/);
    @Module({ imports: [CachetModule.forRoot({ stores: {} } as never)] })
    class BadOption {}
    await expect(
      NestFactory.createApplicationContext(BadOption, { logger: false, abortOnError: false }),
    ).rejects.toThrow(/stores/);
  });
});

describe('CachetModule.forRoot({ logger })', () => {
  afterEach(() => setLogger(undefined));

  it('makes the logger global while the application runs, and gives back the one before on close', async () => {
    const before = recordingLogger();
    setLogger(before);
    const logger = recordingLogger();
    @Module({ imports: [CachetModule.forRoot({ cache: { prefix: 'nest-logger' }, logger })] })
    class Logged {}
    const app = await NestFactory.createApplicationContext(Logged, { logger: false });
    expect(getLogger()).toBe(logger);
    const cache = app.get(Cache);
    cache.wrap(async () => 1, { name: 'twice' });
    cache.wrap(async () => 2, { name: 'twice' });
    expect(logger.lines.map(([level, fields]) => [level, fields.event])).toEqual([['warn', 'cachet.key-collision']]);
    await app.close();
    expect(getLogger()).toBe(before);
    expect(before.lines).toEqual([]);
  });

  it('refuses a logger without warn and error methods when the module starts', async () => {
    @Module({ imports: [CachetModule.forRoot({ logger: console.log as never })] })
    class BadLogger {}
    await expect(
      NestFactory.createApplicationContext(BadLogger, { logger: false, abortOnError: false }),
    ).rejects.toThrow('Expected `logger` to be a logger with warn(fields, message) and error(fields, message) methods');
  });
});
