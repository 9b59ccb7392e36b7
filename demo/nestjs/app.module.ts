import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { MemoryRateLimiter } from '../../lib';
import { ChatClient } from '../../lib/llm';
import { CachetModule, type CachetModuleOptions } from '../../lib/nestjs';
import { RedisRateLimiter } from '../../lib/redis';
import { FaqController } from './faq.controller';
import { FaqService } from './faq.service';

/** Redis when REDIS_URL is set (the cache and the rate limit are then shared by every instance), else memory. */
function cachetOptions(config: ConfigService): CachetModuleOptions {
  const url = config.get<string>('REDIS_URL') || undefined;
  const prefix = `demo-nestjs-${process.pid}`;
  if (url === undefined) return { rateLimiters: { openai: new MemoryRateLimiter() } };
  return {
    store: { redis: url },
    cache: { prefix },
    rateLimiters: { openai: new RedisRateLimiter({ url, prefix: `${prefix}-rate` }) },
  };
}

@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    CachetModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: cachetOptions }),
  ],
  controllers: [FaqController],
  providers: [
    FaqService,
    {
      provide: ChatClient,
      inject: [ConfigService],
      useFactory: (config: ConfigService) =>
        new ChatClient({ baseURL: config.getOrThrow<string>('PROVIDER_URL'), apiKey: 'demo-key', connections: 4 }),
    },
  ],
})
export class AppModule {}
