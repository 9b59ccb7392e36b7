import { createMethodDecorator, type UniversalMethodDecorator } from '../decorate/method-decorator';
import { RateLimitPolicy } from './rate-limit-policy';
import { resolveRateLimitedOptions, type RateLimitedOptions } from './rate-limit-options';

type AsyncFunction = (this: any, ...args: any[]) => Promise<any>;

/**
 * Wraps an async function in a rate limit (GCRA): `limit` calls per `interval`, at most `burst` at once.
 * Past the limit a call rejects with a `RateLimitError` (`mode: 'reject'`), or waits its turn
 * (`mode: 'wait'`). The function's signature and `this` are kept. Options are validated here, once.
 *
 * @example
 * const chat = rateLimited(async (user: string, prompt: string) => model.chat(prompt), {
 *   limit: 20, interval: '1m', burst: 5, key: (user) => `user:${user}`,
 * });
 */
export function rateLimited<F extends AsyncFunction>(fn: F, options: RateLimitedOptions<Parameters<F>>): F {
  const resolved = resolveRateLimitedOptions(options as RateLimitedOptions);
  const policy = new RateLimitPolicy(resolved);
  const name = resolved.name ?? (fn.name || 'anonymous');
  return limitedCall(fn, policy, () => name);
}

/**
 * Rate-limits an async method: a thin adapter over {@link rateLimited}. By default one limit is shared
 * by every instance (`Class.method`); scope it with `key`, which sees `this`. Invalid options throw a
 * `TypeError` when the class is defined. Works in both TypeScript decorator dialects.
 *
 * @example
 * class ModelClient {
 *   constructor(readonly model: string) {}
 *   @RateLimited({ limit: 500, interval: '1m', burst: 10, key(this: ModelClient) { return this.model }, mode: 'wait', maxWait: '20s' })
 *   async chat(prompt: string): Promise<string> { ... }
 * }
 */
export function RateLimited(options: RateLimitedOptions): UniversalMethodDecorator<AsyncFunction> {
  const resolved = resolveRateLimitedOptions(options);
  return createMethodDecorator<AsyncFunction>(
    'rateLimited',
    options as unknown as Record<string, unknown>,
    (original, site) =>
      // One policy (and, by default, one memory limiter) per decorated method, shared by its instances.
      limitedCall(original, new RateLimitPolicy(resolved), (self) => resolved.name ?? site.qualifiedName(self)),
  );
}

function limitedCall<F extends AsyncFunction>(
  fn: F,
  policy: RateLimitPolicy,
  defaultKey: (self: unknown) => string,
): F {
  return async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const reserved = await policy.admit(this, args, defaultKey(this));
    if (!policy.corrects) return fn.apply(this, args);
    let result: unknown;
    try {
      result = await fn.apply(this, args);
    } catch (error) {
      await policy.settle(reserved, undefined, args, true);
      throw error;
    }
    await policy.settle(reserved, result, args, false);
    return result;
  } as F;
}
