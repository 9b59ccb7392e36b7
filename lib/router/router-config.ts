import type { Duration } from '../core/duration';
import { assertKnownOptions, assertPlainObject, optionError } from '../core/validate';
import { ChatClient } from '../llm/chat-client';
import { namedRateLimiter, namedSemaphore } from '../resources/named-resources';
import { ConcurrentRouter } from './concurrent-router';
import {
  ENDPOINT_KNOWN as ENDPOINT_OPTIONS,
  type EndpointClient,
  type EndpointOptions,
  type FailureWindow,
  type RouterOptions,
  type RouterStrategy,
} from './router-options';
import type { HealthStoreFallback } from './shared-health';

/**
 * Routing as data: what an operator edits to change routing without code. Everything in it is plain JSON;
 * what cannot be (a client object, a Redis-backed limiter) is named, and the names are resolved from
 * {@link RouterFromConfigOptions.clients} and from the registered resources (`registerResource`, or
 * `CachetModule` in NestJS).
 * @example
 * { "strategy": "priority", "cooldown": "30s", "endpoints": [
 *   { "name": "primary", "baseURL": "https://api.openai.com/v1", "apiKeyEnv": "OPENAI_API_KEY",
 *     "model": "gpt-4o", "maxConcurrent": 16, "rateLimit": { "limit": 500, "interval": "1m", "limiter": "openai" },
 *     "tokensPerMinute": 90000 },
 *   { "name": "fallback", "client": "azure", "model": "gpt-4o-mini", "maxConcurrent": 8, "priority": 1 } ] }
 */
export interface RouterConfig {
  readonly strategy?: RouterStrategy;
  readonly spillover?: boolean;
  readonly timeout?: Duration;
  readonly failureThreshold?: number;
  readonly cooldown?: Duration;
  /** Names a registered rate limiter (e.g. a `RedisRateLimiter`) for the endpoints' quotas: `tokensPerMinute`, and `rateLimit` where it names none. */
  readonly limiter?: string;
  readonly failures?: FailureWindow;
  /** Names a registered router health store (e.g. a `RedisRouterHealth`, so health is shared across instances). */
  readonly health?: string;
  readonly onHealthStoreError?: HealthStoreFallback;
  readonly endpoints: readonly EndpointConfig[];
}

/** One endpoint of a {@link RouterConfig}: give exactly one of `client` and `baseURL`. */
export interface EndpointConfig {
  readonly name: string;
  /** Names a client in {@link RouterFromConfigOptions.clients}. */
  readonly client?: string;
  /** An OpenAI-compatible base URL: a `ChatClient` is made for it (one per base URL and key). */
  readonly baseURL?: string;
  /** The environment variable holding the API key for `baseURL`. @default none (no Authorization header) */
  readonly apiKeyEnv?: string;
  /** Connections of the `ChatClient` made for `baseURL`. @default `maxConcurrent` */
  readonly connections?: number;
  readonly model?: string;
  readonly maxConcurrent: number;
  readonly priority?: number;
  readonly weight?: number;
  readonly timeout?: Duration;
  readonly contextWindow?: number;
  /** Names a registered semaphore (e.g. a `RedisSemaphore`, so the cap holds across instances). */
  readonly semaphore?: string;
  /** The provider's quota; `limiter` names a registered rate limiter (e.g. a `RedisRateLimiter`). */
  readonly rateLimit?: {
    readonly limit: number;
    readonly interval: Duration;
    readonly burst?: number;
    readonly limiter?: string;
  };
  /** The provider's token quota: tokens a minute, reserved from an estimate and corrected from the answer's usage. */
  readonly tokensPerMinute?: number;
}

/** What code supplies to {@link routerFromConfig} beside the data. */
export interface RouterFromConfigOptions {
  /** Clients that endpoints name with `client`. @default {} */
  readonly clients?: Readonly<Record<string, EndpointClient>>;
  /** Where `apiKeyEnv` is read. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Router options that are code, not data: `cached`, `classify`, `estimateTokens`, `random`, `clock`. */
  readonly router?: Pick<RouterOptions, 'cached' | 'classify' | 'estimateTokens' | 'random' | 'clock'>;
}

/** A router made from data, with the clients it made (closed by `close()`). */
export interface ConfiguredRouter {
  readonly router: ConcurrentRouter;
  /** Closes the `ChatClient`s made for `baseURL` endpoints (clients passed in are yours). */
  close(): Promise<void>;
}

const CONFIG_KNOWN = [
  'strategy',
  'spillover',
  'timeout',
  'failureThreshold',
  'cooldown',
  'limiter',
  'failures',
  'health',
  'onHealthStoreError',
  'endpoints',
] as const;
/** An endpoint of the data: the router's endpoint options, with `client` a name, or a `baseURL` to connect to. */
const ENDPOINT_KNOWN = [...ENDPOINT_OPTIONS, 'baseURL', 'apiKeyEnv', 'connections'] as const;
const RATE_KNOWN = ['limit', 'interval', 'burst', 'limiter'] as const;

/**
 * Builds a {@link ConcurrentRouter} from a {@link RouterConfig}. The data is checked field by field, and
 * a bad one throws a `TypeError` naming its path (`endpoints[1].rateLimit.limiter`); the router then
 * checks the values as it checks options given in code, so a router made from data behaves as the
 * same router made in code.
 */
export function routerFromConfig(config: unknown, options: RouterFromConfigOptions = {}): ConfiguredRouter {
  assertPlainObject('config', config);
  assertKnownOptions('router config', config as object, CONFIG_KNOWN);
  const data = config as RouterConfig;
  if (!Array.isArray(data.endpoints) || data.endpoints.length === 0) {
    throw optionError('endpoints', 'a non-empty array of endpoints', data.endpoints);
  }
  if (data.health !== undefined && typeof data.health !== 'string') {
    throw optionError('health', 'the name of a registered router health store', data.health);
  }
  const clients = options.clients ?? {};
  const env = options.env ?? process.env;
  const made = new Map<string, ChatClient>();
  const endpoints = data.endpoints.map((endpoint, i): EndpointOptions => {
    const at = `endpoints[${i}]`;
    assertPlainObject(at, endpoint);
    assertKnownOptions(at, endpoint, ENDPOINT_KNOWN);
    const { client, baseURL, apiKeyEnv, connections, semaphore, rateLimit, ...rest } = endpoint;
    if ((client === undefined) === (baseURL === undefined)) {
      throw optionError(`${at}.client or ${at}.baseURL`, 'exactly one of a client name and a base URL', {
        client,
        baseURL,
      });
    }
    let resolved: EndpointClient;
    if (client !== undefined) {
      if (typeof client !== 'string' || clients[client] === undefined) {
        throw optionError(
          `${at}.client`,
          `the name of a client in options.clients (${Object.keys(clients).join(', ') || 'none given'})`,
          client,
        );
      }
      resolved = clients[client] as EndpointClient;
    } else {
      if (apiKeyEnv !== undefined && (typeof apiKeyEnv !== 'string' || env[apiKeyEnv] === undefined)) {
        throw optionError(`${at}.apiKeyEnv`, 'the name of a set environment variable', apiKeyEnv);
      }
      const apiKey = apiKeyEnv === undefined ? undefined : env[apiKeyEnv];
      const id = `${String(baseURL)}\u0000${apiKey ?? ''}`;
      let chat = made.get(id);
      if (chat === undefined) {
        chat = new ChatClient({
          baseURL: baseURL as string,
          ...(apiKey === undefined ? { apiKey: '' } : { apiKey }),
          // A bad maxConcurrent is the router's to report, by its name.
          ...(connections !== undefined
            ? { connections }
            : Number.isInteger(endpoint.maxConcurrent) && endpoint.maxConcurrent > 0
              ? { connections: endpoint.maxConcurrent }
              : {}),
        });
        made.set(id, chat);
      }
      resolved = chat;
    }
    if (semaphore !== undefined && typeof semaphore !== 'string') {
      throw optionError(`${at}.semaphore`, 'the name of a registered semaphore', semaphore);
    }
    let rate: EndpointOptions['rateLimit'];
    if (rateLimit !== undefined) {
      assertPlainObject(`${at}.rateLimit`, rateLimit);
      assertKnownOptions(`${at}.rateLimit`, rateLimit, RATE_KNOWN);
      const { limiter, ...rule } = rateLimit;
      if (limiter !== undefined && typeof limiter !== 'string') {
        throw optionError(`${at}.rateLimit.limiter`, 'the name of a registered rate limiter', limiter);
      }
      rate = limiter === undefined ? rule : { ...rule, limiter: namedRateLimiter(limiter) };
    }
    return {
      ...rest,
      client: resolved,
      ...(semaphore === undefined ? {} : { semaphore: namedSemaphore(semaphore) }),
      ...(rate === undefined ? {} : { rateLimit: rate }),
    };
  });
  const { endpoints: _, limiter, ...settings } = data;
  if (limiter !== undefined && typeof limiter !== 'string') {
    throw optionError('limiter', 'the name of a registered rate limiter', limiter);
  }
  let router: ConcurrentRouter;
  try {
    router = new ConcurrentRouter({
      ...settings,
      ...(limiter === undefined ? {} : { limiter: namedRateLimiter(limiter) }),
      ...options.router,
      endpoints,
    });
  } catch (error) {
    void Promise.all([...made.values()].map((chat) => chat.close()));
    throw error;
  }
  return {
    router,
    close: async () => {
      await Promise.all([...made.values()].map((chat) => chat.close()));
    },
  };
}
