/**
 * The NestJS demo: an FAQ app whose controller response is cached by CachetInterceptor (@CacheRoute) and
 * whose service's model call is @Cached with chatKeyPolicy and @RateLimited by name, all configured by
 * CachetModule.forRootAsync from ConfigService (REDIS_URL optional: memory without it). It starts a
 * LocalProvider as the model, serves on 127.0.0.1, makes a few requests to itself, prints what each one
 * got and how many calls reached the provider, then closes and exits by itself.
 *
 *   npm run demo:nestjs            (or: npx ts-node --transpile-only demo/nestjs/main.ts)
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Cache } from '../../lib';
import { LocalProvider } from '../../lib/testing';
import { AppModule } from './app.module';

async function main(): Promise<void> {
  const provider = new LocalProvider({ latency: '20ms' });
  process.env.PROVIDER_URL = await provider.start();
  const app = await NestFactory.create(AppModule, { logger: ['error'] });
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  console.log(`cachet NestJS demo on ${base}, cache in ${process.env.REDIS_URL ? 'Redis' : 'memory'}`);

  const steps: [string, string, string][] = [
    ['GET', '/faq?q=How do refunds work?', 'first ask: the handler and the model run'],
    ['GET', '/faq?q=How do refunds work?', 'the same request: the HTTP response is cached'],
    ['GET', '/faq/live?q=How do refunds work?', 'an uncached route: the model call is @Cached'],
    ['GET', '/faq?q=Can I export my boards?', 'another question: a new entry'],
    ['POST', '/faq/invalidate', "cache.invalidateTags(['faq'])"],
    ['GET', '/faq?q=How do refunds work?', 'after the invalidation: the handler runs, the model call is cached'],
  ];
  try {
    for (const [method, path, why] of steps) {
      const response = await fetch(`${base}${encodeURI(path)}`, { method });
      const body = (await response.json()) as { answer?: string; removed?: number };
      const cache = response.headers.get('x-cache') ?? '-';
      const what = body.answer === undefined ? JSON.stringify(body) : `"${body.answer.slice(0, 48)}..."`;
      console.log(`${method.padEnd(4)} ${path.padEnd(36)} X-Cache: ${cache.padEnd(4)} ${what}  (${why})`);
    }
    for (const [method, counters] of Object.entries(app.get(Cache).stats().methods)) {
      console.log(`cached ${method}: ${counters.hits} hits, ${counters.fills} fills`);
    }
    console.log(`provider calls: ${provider.requests} for ${steps.length - 1} questions`);
  } finally {
    await app.close();
    await provider.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
