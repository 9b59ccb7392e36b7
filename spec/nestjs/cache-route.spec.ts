import 'reflect-metadata';
import {
  ClassSerializerInterceptor,
  Controller,
  Get,
  Header,
  HttpException,
  HttpStatus,
  Inject,
  Module,
  Param,
  Post,
  Query,
  Res,
  UseInterceptors,
  ValidationPipe,
  type INestApplication,
} from '@nestjs/common';
import { APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Exclude } from 'class-transformer';
import { IsInt, IsString, Max, Min } from 'class-validator';
import { Type } from 'class-transformer';
import { Cache, registerClass } from '../../lib';
import { deferred } from '../support/async';
import { CacheRoute, CachetInterceptor, CachetModule } from '../../lib/nestjs';

// CachetInterceptor and @CacheRoute in a real NestJS 11 application over HTTP on 127.0.0.1, with the memory
// cache of CachetModule.forRoot(), once on each HTTP platform: Express (Nest's default) and Fastify. The
// two-process behaviour over Redis is in cache-route-redis.spec.ts.

/** How many times each handler ran, in the application of the current platform (reset for each). */
let runs: Record<string, number> = {};
/** Holds the handler of GET /faq/held-volatile until the test resolves it. */
let hold = deferred<void>();
const ran = (name: string) => (runs[name] = (runs[name] ?? 0) + 1);

class ProfileDto {
  id!: string;
  name!: string;
  @Exclude()
  secret!: string;

  constructor(fields: Partial<ProfileDto>) {
    Object.assign(this, fields);
  }
}
registerClass(ProfileDto, { name: 'spec.ProfileDto' });

class SearchQuery {
  @IsString()
  q!: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(50)
  limit!: number;
}

const tenantOf = (request: { headers?: Readonly<Record<string, unknown>> }) =>
  typeof request.headers?.['x-tenant'] === 'string' ? request.headers['x-tenant'] : undefined;

interface HeaderTarget {
  setHeader?(name: string, value: string): unknown;
  header?(name: string, value: string): unknown;
}

@Controller('faq')
@UseInterceptors(CachetInterceptor)
class FaqController {
  constructor(@Inject(Cache) private readonly cache: Cache) {}

  @Get('public/:topic')
  @CacheRoute({ ttl: '1m', tenant: false, tags: (request) => [`topic:${(request.params as { topic: string }).topic}`] })
  topic(@Param('topic') topic: string, @Query() query: Record<string, string>) {
    return { topic, query, run: ran(`topic:${topic}`) };
  }

  @Get('mine')
  @CacheRoute({ ttl: '1m', tenant: tenantOf })
  mine() {
    return { run: ran('mine') };
  }

  @Post('public/:topic')
  @CacheRoute({ ttl: '1m', tenant: false })
  ask(@Param('topic') topic: string) {
    return { topic, run: ran(`post:${topic}`) };
  }

  @Post('posted')
  @CacheRoute({ ttl: '1m', tenant: false, methods: ['POST'] })
  posted() {
    return { run: ran('posted') };
  }

  @Get('volatile')
  @Header('Cache-Control', 'no-store')
  @CacheRoute({ ttl: '1m', tenant: false })
  volatile() {
    return { run: ran('volatile') };
  }

  @Get('held-volatile')
  @Header('Cache-Control', 'no-store')
  @CacheRoute({ ttl: '1m', tenant: false })
  async heldVolatile() {
    const run = ran('held-volatile');
    await hold.promise;
    return { run };
  }

  @Get('headers')
  @Header('Content-Language', 'en')
  @Header('X-Faq-Version', '3')
  @CacheRoute({ ttl: '1m', tenant: false })
  headers(@Res({ passthrough: true }) response: HeaderTarget) {
    const run = ran('headers');
    // Express's response has setHeader, Fastify's reply has header.
    if (typeof response.setHeader === 'function') response.setHeader('X-Run', String(run));
    else response.header?.('X-Run', String(run));
    return { run };
  }

  @Get('missing/:id')
  @CacheRoute({ ttl: '1m', tenant: false })
  missing(@Param('id') id: string) {
    const run = ran(`missing:${id}`);
    if (run === 1) throw new HttpException('not yet', HttpStatus.NOT_FOUND);
    return { id, run };
  }

  @Get('profile/:id')
  @CacheRoute({ ttl: '1m', tenant: false })
  profile(@Param('id') id: string) {
    ran(`profile:${id}`);
    return new ProfileDto({ id, name: `user ${id}`, secret: `secret of ${id}` });
  }

  @Get('search')
  @CacheRoute({ ttl: '1m', tenant: false })
  search(@Query(new ValidationPipe({ transform: true })) query: SearchQuery) {
    return { q: query.q, limit: query.limit, limitType: typeof query.limit, run: ran(`search:${query.q}`) };
  }

  @Post('invalidate/:topic')
  async invalidate(@Param('topic') topic: string) {
    return { removed: await this.cache.invalidateTags([`topic:${topic}`]) };
  }
}

@Module({
  imports: [CachetModule.forRoot()],
  controllers: [FaqController],
  providers: [{ provide: APP_INTERCEPTOR, useClass: ClassSerializerInterceptor }],
})
class AppModule {}

const platforms = [
  { platform: 'Express', adapter: () => undefined },
  { platform: 'Fastify', adapter: () => new FastifyAdapter() },
];

describe.each(platforms)('CachetInterceptor and @CacheRoute in a NestJS application on $platform', ({ adapter }) => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    runs = {};
    const platform = adapter();
    app =
      platform === undefined
        ? await NestFactory.create(AppModule, { logger: false })
        : await NestFactory.create(AppModule, platform, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => app?.close());

  async function call(path: string, init: RequestInit = {}) {
    const response = await fetch(`${base}${path}`, init);
    return { status: response.status, cache: response.headers.get('x-cache'), body: await response.text() };
  }

  it('runs the handler once for repeated GETs: a MISS, then HITs with the same body', async () => {
    const first = await call('/faq/public/refunds?lang=en');
    const second = await call('/faq/public/refunds?lang=en');
    const third = await call('/faq/public/refunds?lang=en');
    expect(first).toEqual({ status: 200, cache: 'MISS', body: first.body });
    expect(JSON.parse(first.body)).toEqual({ topic: 'refunds', query: { lang: 'en' }, run: 1 });
    expect([second, third]).toEqual([
      { ...first, cache: 'HIT' },
      { ...first, cache: 'HIT' },
    ]);
    expect(runs['topic:refunds']).toBe(1);
  });

  it('keys by path parameters and the query, whatever the order of its keys', async () => {
    await call('/faq/public/keys?a=1&b=2');
    expect((await call('/faq/public/keys?b=2&a=1')).cache).toBe('HIT');
    expect((await call('/faq/public/keys?a=1&b=3')).cache).toBe('MISS');
    expect((await call('/faq/public/other-keys?a=1&b=2')).cache).toBe('MISS');
    expect(runs['topic:keys']).toBe(2);
  });

  it('never shares an entry between tenants, and bypasses the cache for a request without one', async () => {
    const a = await call('/faq/mine', { headers: { 'x-tenant': 'a' } });
    const b = await call('/faq/mine', { headers: { 'x-tenant': 'b' } });
    expect([a.cache, b.cache]).toEqual(['MISS', 'MISS']);
    expect(await call('/faq/mine', { headers: { 'x-tenant': 'a' } })).toEqual({ ...a, cache: 'HIT' });
    expect(await call('/faq/mine', { headers: { 'x-tenant': 'b' } })).toEqual({ ...b, cache: 'HIT' });
    expect((await call('/faq/mine')).cache).toBe('BYPASS');
    expect(runs.mine).toBe(3);
  });

  it('does not cache a POST unless the route lists it in `methods`', async () => {
    for (let i = 0; i < 2; i++) expect((await call('/faq/public/ask', { method: 'POST' })).status).toBe(201);
    expect(runs['post:ask']).toBe(2);
    const posted = [await call('/faq/posted', { method: 'POST' }), await call('/faq/posted', { method: 'POST' })];
    expect(posted.map((response) => response.cache)).toEqual(['MISS', 'HIT']);
    expect(runs.posted).toBe(1);
  });

  it('bypasses the cache for a request with Cache-Control: no-store, and leaves the entry as it was', async () => {
    const cached = await call('/faq/public/bypass');
    const bypassed = await call('/faq/public/bypass', { headers: { 'cache-control': 'no-store' } });
    expect(bypassed.cache).toBe('BYPASS');
    expect(JSON.parse(bypassed.body).run).toBe(2);
    expect(await call('/faq/public/bypass')).toEqual({ ...cached, cache: 'HIT' });
  });

  it('never stores a response its handler marked Cache-Control: no-store', async () => {
    const responses = [await call('/faq/volatile'), await call('/faq/volatile')];
    expect(responses.map((response) => [response.cache, JSON.parse(response.body).run])).toEqual([
      ['MISS', 1],
      ['MISS', 2],
    ]);
  });

  it('does not share a no-store response with a request that joined its run: that request runs its own', async () => {
    hold = deferred<void>();
    const cache = app.get(Cache);
    let misses = 0;
    let bothIn!: () => void;
    const joined = new Promise<void>((resolve) => (bothIn = resolve));
    const off = cache.on('miss', (event) => {
      if (event.method.endsWith('FaqController.heldVolatile') && ++misses === 2) bothIn();
    });
    const responses = [call('/faq/held-volatile'), call('/faq/held-volatile')];
    await joined;
    off();
    hold.resolve();
    const settled = await Promise.all(responses);
    expect(settled.map((response) => [response.cache, JSON.parse(response.body).run]).sort()).toEqual([
      ['MISS', 1],
      ['MISS', 2],
    ]);
    expect(runs['held-volatile']).toBe(2);
  });

  it('sends the @Header() headers on a hit too, but not one the handler set on the response itself', async () => {
    const headersOf = async () => {
      const response = await fetch(`${base}/faq/headers`);
      const names = ['x-cache', 'content-type', 'content-language', 'x-faq-version', 'x-run'];
      return [...names.map((name) => response.headers.get(name)), await response.text()];
    };
    const json = expect.stringMatching(/^application\/json/);
    expect(await headersOf()).toEqual(['MISS', json, 'en', '3', '1', '{"run":1}']);
    expect(await headersOf()).toEqual(['HIT', json, 'en', '3', null, '{"run":1}']);
    expect(runs.headers).toBe(1);
  });

  it('does not cache a thrown HttpException', async () => {
    expect((await call('/faq/missing/7')).status).toBe(404);
    const found = await call('/faq/missing/7');
    expect([found.status, found.cache, JSON.parse(found.body)]).toEqual([200, 'MISS', { id: '7', run: 2 }]);
    expect((await call('/faq/missing/7')).cache).toBe('HIT');
  });

  it('drops the entries of a tag on cache.invalidateTags', async () => {
    await call('/faq/public/billing');
    expect((await call('/faq/public/billing')).cache).toBe('HIT');
    expect(JSON.parse((await call('/faq/invalidate/billing', { method: 'POST' })).body)).toEqual({ removed: 1 });
    expect((await call('/faq/public/billing')).cache).toBe('MISS');
    expect(runs['topic:billing']).toBe(2);
  });

  it('never sends an @Exclude()d field behind ClassSerializerInterceptor, on a fill or a hit', async () => {
    const expected = JSON.stringify({ id: '42', name: 'user 42' });
    const responses = [await call('/faq/profile/42'), await call('/faq/profile/42')];
    expect(responses).toEqual([
      { status: 200, cache: 'MISS', body: expected },
      { status: 200, cache: 'HIT', body: expected },
    ]);
    expect(runs['profile:42']).toBe(1);
  });

  it('works with ValidationPipe: an invalid query is a 400 that is not cached, a valid one is cached', async () => {
    expect((await call('/faq/search?q=refund&limit=500')).status).toBe(400);
    expect((await call('/faq/search?q=refund&limit=500')).status).toBe(400);
    const valid = [await call('/faq/search?q=refund&limit=5'), await call('/faq/search?limit=5&q=refund')];
    expect(valid.map((response) => [response.status, response.cache])).toEqual([
      [200, 'MISS'],
      [200, 'HIT'],
    ]);
    expect(JSON.parse(valid[1]!.body)).toEqual({ q: 'refund', limit: 5, limitType: 'number', run: 1 });
  });

  it('requires `tenant`: a function of the request, or false', () => {
    expect(() => CacheRoute({ ttl: '1m' } as never)).toThrow(/tenant/);
    expect(() => CacheRoute({ tenant: false, methods: 'GET' } as never)).toThrow(/methods/);
  });
});
