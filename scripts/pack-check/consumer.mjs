// Uses every entry point of the installed package from an ES module, with named imports: Node serves
// them from the CommonJS build through cjs-module-lexer, so this fails if it stops detecting an export.
import { createRequire } from 'node:module';
import {
  Cache,
  Cached,
  CachetError,
  Circuit,
  CircuitBreaker,
  Concurrency,
  Fallback,
  InvalidatesCache,
  LocalSemaphore,
  MemoryRateLimiter,
  MemoryStore,
  RateLimited,
  Retry,
  Timeout,
  parseDuration,
} from 'cachet';
import {
  RedisBlobStore,
  RedisCircuitState,
  RedisCostLedger,
  RedisRateLimiter,
  RedisSemaphore,
  RedisStore,
  TieredStore,
  hashSlot,
} from 'cachet/redis';
import { ChatClient, ChatKeyError, ProviderError, chatKeyPolicy } from 'cachet/llm';
import { ConcurrentRouter, RouterError } from 'cachet/router';
import { Bm25Index, chunk, createTokenizer } from 'cachet/retrieval';
import { LocalProvider } from 'cachet/testing';
import { CachetInterceptor, CachetModule, CachetRuntime } from 'cachet/nestjs';
import { ChatKeyError as AiSdkChatKeyError, cachetMiddleware, isWholeStream } from 'cachet/ai-sdk';
import { METRICS, instrument, instrumentCache, instrumentChatClient } from 'cachet/otel';
import * as rootNs from 'cachet';
import * as redisNs from 'cachet/redis';
import * as llmNs from 'cachet/llm';
import * as routerNs from 'cachet/router';
import * as retrievalNs from 'cachet/retrieval';
import * as testingNs from 'cachet/testing';
import * as nestjsNs from 'cachet/nestjs';
import * as aiSdkNs from 'cachet/ai-sdk';
import * as otelNs from 'cachet/otel';
import exercise from './exercise.cjs';

// Every export that require() sees must be a named export of the ES module too.
const require = createRequire(import.meta.url);
const namespaces = {
  cachet: rootNs,
  'cachet/redis': redisNs,
  'cachet/llm': llmNs,
  'cachet/router': routerNs,
  'cachet/retrieval': retrievalNs,
  'cachet/testing': testingNs,
  'cachet/nestjs': nestjsNs,
  'cachet/ai-sdk': aiSdkNs,
  'cachet/otel': otelNs,
};
for (const [specifier, namespace] of Object.entries(namespaces)) {
  const missing = Object.keys(require(specifier)).filter((name) => name !== '__esModule' && !(name in namespace));
  if (missing.length > 0) throw new Error(`${specifier}: not importable by name from ESM: ${missing.join(', ')}`);
}

const entries = {
  root: {
    Cache,
    Cached,
    CachetError,
    Circuit,
    CircuitBreaker,
    Concurrency,
    Fallback,
    InvalidatesCache,
    LocalSemaphore,
    MemoryRateLimiter,
    MemoryStore,
    RateLimited,
    Retry,
    Timeout,
    parseDuration,
  },
  redis: {
    RedisBlobStore,
    RedisCircuitState,
    RedisCostLedger,
    RedisRateLimiter,
    RedisSemaphore,
    RedisStore,
    TieredStore,
    hashSlot,
  },
  llm: { ChatClient, ChatKeyError, ProviderError, chatKeyPolicy },
  router: { ConcurrentRouter, RouterError },
  retrieval: { Bm25Index, chunk, createTokenizer },
  testing: { LocalProvider },
  nestjs: { CachetModule, CachetRuntime, CachetInterceptor },
  aiSdk: { ChatKeyError: AiSdkChatKeyError, cachetMiddleware, isWholeStream },
  otel: { METRICS, instrument, instrumentCache, instrumentChatClient },
};
for (const name of Object.keys(entries)) await exercise[name](entries);
console.log(`  ES module: ${Object.keys(namespaces).join(', ')}: ok (named imports)`);
