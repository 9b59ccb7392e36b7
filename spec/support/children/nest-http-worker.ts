// One instance of a NestJS 11 application whose controller responses are cached by CachetInterceptor and
// @CacheRoute, on CachetModule's Redis cache, serving over HTTP on 127.0.0.1. Env: CACHE_REDIS_URL,
// CACHE_PREFIX. Prints `{ "port": n }` then `ready`; prints `{ "filling": q }` when a handler starts. HTTP:
// - GET /answers/:q: cached per tenant (header x-tenant), tag `answers`; POST /hold makes handlers wait
//   until POST /release; GET /calls: the handler runs of this process;
// - POST /invalidate: the injected Cache invalidates the tag `answers`.
import 'reflect-metadata';
import { Controller, Get, Inject, Module, Param, Post, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cache } from '../../../lib/cache/cache';
import { CacheRoute, CachetInterceptor, CachetModule } from '../../../lib/nestjs';

const say = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);

let calls = 0;
let gate: { promise: Promise<void>; release: () => void } | undefined;

@Controller()
class AppController {
  constructor(@Inject(Cache) private readonly cache: Cache) {}

  @Get('answers/:q')
  @UseInterceptors(CachetInterceptor)
  @CacheRoute({ ttl: '1m', tenant: (request) => String(request.headers?.['x-tenant'] ?? ''), tags: ['answers'] })
  async answer(@Param('q') q: string) {
    calls++;
    say({ filling: q });
    await gate?.promise;
    return { q, run: calls, pid: process.pid };
  }

  @Get('calls')
  calls() {
    return { calls };
  }

  @Post('hold')
  hold() {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    gate = { promise, release };
    return { held: true };
  }

  @Post('release')
  release() {
    gate?.release();
    gate = undefined;
    return { released: true };
  }

  @Post('invalidate')
  async invalidate() {
    return { removed: await this.cache.invalidateTags(['answers']) };
  }
}

@Module({
  imports: [
    CachetModule.forRoot({
      store: { redis: process.env.CACHE_REDIS_URL! },
      cache: { prefix: process.env.CACHE_PREFIX! },
    }),
  ],
  controllers: [AppController],
})
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  say({ port: address.port });
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});
