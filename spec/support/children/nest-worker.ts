// One instance of a NestJS 11 application configured through @nestjs/config's ConfigService and CachetModule,
// serving over HTTP on 127.0.0.1. Env: CACHE_REDIS_URL, CACHE_PREFIX (read by ConfigService, not by cachet).
// Prints `{ "port": n }` then `ready`; prints `{ "filling": q }` when a fill starts. HTTP:
// - GET /answers/:q: a @Cached provider call (tag `answers`); POST /hold makes fills wait until
//   POST /release; GET /calls: the provider calls this process made;
// - GET /limited: @RateLimited({ limiter: 'openai' }), shared through Redis; 429 past the limit;
// - POST /invalidate: the injected Cache invalidates the tag `answers`.
// On the stdin line `close`, it stops reading stdin, calls app.close() and prints `{ "result": "closed" }`;
// it never calls process.exit: the test checks that the process exits by itself.
import 'reflect-metadata';
import { createInterface } from 'node:readline';
import { Controller, Get, HttpException, HttpStatus, Inject, Injectable, Module, Param, Post } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { Cache } from '../../../lib/cache/cache';
import { Cached } from '../../../lib/cache/cached';
import { isRateLimitError } from '../../../lib/rate-limit/rate-limit-error';
import { RateLimited } from '../../../lib/rate-limit/rate-limited';
import { RedisRateLimiter } from '../../../lib/redis/redis-rate-limiter';
import { CachetModule } from '../../../lib/nestjs';

const say = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);

@Injectable()
class AnswerService {
  calls = 0;
  gate: { promise: Promise<void>; release: () => void } | undefined;

  // Declared before any configuration exists: the default cache and the limiter come from CachetModule.
  @Cached({ ttl: '1m', tags: ['answers'] })
  async answer(q: string): Promise<{ q: string; fill: number; pid: number }> {
    this.calls++;
    say({ filling: q });
    await this.gate?.promise;
    return { q, fill: this.calls, pid: process.pid };
  }

  @RateLimited({ limiter: 'openai', limit: 3, interval: '1m', burst: 3, name: 'nest-limited', onStoreError: 'deny' })
  async limited(): Promise<string> {
    return 'ok';
  }
}

@Controller()
class AppController {
  constructor(
    @Inject(AnswerService) private readonly answers: AnswerService,
    @Inject(Cache) private readonly cache: Cache,
  ) {}

  @Get('answers/:q')
  answer(@Param('q') q: string) {
    return this.answers.answer(q);
  }

  @Get('calls')
  calls() {
    return { calls: this.answers.calls };
  }

  @Post('hold')
  hold() {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.answers.gate = { promise, release };
    return { held: true };
  }

  @Post('release')
  release() {
    this.answers.gate?.release();
    this.answers.gate = undefined;
    return { released: true };
  }

  @Get('limited')
  async limited() {
    try {
      return await this.answers.limited();
    } catch (error) {
      if (isRateLimitError(error)) throw new HttpException('rate limited', HttpStatus.TOO_MANY_REQUESTS);
      throw error;
    }
  }

  @Post('invalidate')
  async invalidate() {
    await this.cache.invalidateTags(['answers']);
    return { invalidated: true };
  }
}

@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    CachetModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => {
        const url = config.getOrThrow<string>('CACHE_REDIS_URL');
        const prefix = config.getOrThrow<string>('CACHE_PREFIX');
        return {
          store: { redis: url },
          cache: { prefix },
          rateLimiters: { openai: new RedisRateLimiter({ url, prefix: `${prefix}-rate` }) },
        };
      },
    }),
  ],
  controllers: [AppController],
  providers: [AnswerService],
})
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  say({ port: address.port });
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line !== 'close') return;
    lines.close();
    process.stdin.destroy();
    app
      .close()
      .then(() => say({ result: 'closed' }))
      .catch((error: unknown) => {
        process.stderr.write(String((error as Error)?.stack ?? error));
        process.exitCode = 1;
      });
  });
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});
