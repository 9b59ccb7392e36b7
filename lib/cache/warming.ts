import pLimit from 'p-limit';
import { optionError } from '../core/validate';
import type { Cache } from './cache';
import { locateCachedMethod, type LocatedMethod, type MethodKeys } from './method-registry';

/** Progress of a warm-up, reported after every entry. */
export interface WarmProgress {
  /** Entries to handle. */
  readonly total: number;
  /** Entries handled so far (written, skipped or failed). */
  readonly done: number;
  /** Written to the cache (by `warm`) or filled by calling the method (by `warmFromLog`). */
  readonly filled: number;
  /** Already cached, left alone. */
  readonly skipped: number;
  /** The method failed (logged calls only); the error is in `errors`. */
  readonly failed: number;
}

/** The outcome of a warm-up. */
export interface WarmResult extends WarmProgress {
  readonly errors: readonly { readonly args: readonly unknown[]; readonly error: unknown }[];
}

/** Options of {@link warmFromLog}. */
export interface WarmFromLogOptions {
  /** The most frequent distinct calls to warm. @default 100 */
  readonly top?: number;
  /** Method calls at once. @default 4 */
  readonly concurrency?: number;
  readonly onProgress?: (progress: WarmProgress) => void;
}

/** Options of {@link warm}. */
export interface WarmOptions {
  /** Write entries that are already cached too. @default false (skip them) */
  readonly overwrite?: boolean;
  readonly onProgress?: (progress: WarmProgress) => void;
}

type Method = (...args: any[]) => any;
type ArgsOf<T, K extends keyof T> = Parameters<Extract<T[K], Method>>;
type ResultOf<T, K extends keyof T> = Awaited<ReturnType<Extract<T[K], Method>>>;

function locate(cache: Cache, instance: object, method: PropertyKey, needs: 'put' | 'has'): Required<LocatedMethod> {
  const located = locateCachedMethod(cache, instance, method);
  if (located[needs] === undefined)
    throw optionError('method', 'a @Cached method that is not a stream (streams cannot be warmed)', method);
  return located as Required<LocatedMethod>;
}

/**
 * Fills entries without calling the method, from answers you already have (an FAQ list of question and
 * answer): each `{ args, value }` is stored as if `instance[method](...args)` had returned `value`, with
 * the method's key, TTL and tags. Entries already cached are skipped unless `overwrite`.
 *
 * @example await warm(cache, assistant, 'answer', faq.map((f) => ({ args: [f.question, { lang: 'en' }], value: f.answer })));
 */
export async function warm<T extends object, K extends MethodKeys<T>>(
  cache: Cache,
  instance: T,
  method: K,
  entries: Iterable<{ readonly args: ArgsOf<T, K>; readonly value: ResultOf<T, K> }>,
  options: WarmOptions = {},
): Promise<WarmResult> {
  const target = locate(cache, instance, method, 'put');
  const list = [...entries];
  const progress = { total: list.length, done: 0, filled: 0, skipped: 0, failed: 0 };
  const errors: { args: readonly unknown[]; error: unknown }[] = [];
  for (const { args, value } of list) {
    // A store failure fails this entry, not the warm-up: an outage must not stop a service starting.
    try {
      if (!options.overwrite && (await target.has(instance, args))) progress.skipped++;
      else if (await target.put(instance, args, value)) progress.filled++;
      else progress.skipped++;
    } catch (error) {
      progress.failed++;
      errors.push({ args, error });
    }
    progress.done++;
    options.onProgress?.({ ...progress });
  }
  return { ...progress, errors };
}

/**
 * Warms a method from a log of past calls: counts identical calls (by cache key), takes the `top` most
 * frequent, skips those already cached, and calls the method for the rest, `concurrency` at a time,
 * so their results are cached as usual. A failing call is recorded and the warm-up goes on.
 *
 * @example await warmFromLog(cache, assistant, 'answer', yesterdaysQuestions.map((q) => [q.text, { lang: q.lang }]), { top: 200 });
 */
export async function warmFromLog<T extends object, K extends MethodKeys<T>>(
  cache: Cache,
  instance: T,
  method: K,
  calls: Iterable<ArgsOf<T, K>>,
  options: WarmFromLogOptions = {},
): Promise<WarmResult> {
  const { top = 100, concurrency = 4, onProgress } = options;
  if (!Number.isSafeInteger(top) || top < 1) throw optionError('top', 'a positive integer', top);
  if (!Number.isSafeInteger(concurrency) || concurrency < 1)
    throw optionError('concurrency', 'a positive integer', concurrency);
  const target = locate(cache, instance, method, 'has');
  const counted = new Map<string, { args: ArgsOf<T, K>; count: number; first: number }>();
  let position = 0;
  for (const args of calls) {
    const key = target.keyFor(instance, args);
    const seen = counted.get(key);
    if (seen === undefined) counted.set(key, { args, count: 1, first: position });
    else seen.count++;
    position++;
  }
  // Most frequent first; ties keep the order of first appearance, so the choice is repeatable.
  const chosen = [...counted.values()].sort((a, b) => b.count - a.count || a.first - b.first).slice(0, top);
  const progress = { total: chosen.length, done: 0, filled: 0, skipped: 0, failed: 0 };
  const errors: { args: readonly unknown[]; error: unknown }[] = [];
  const call = (instance as Record<PropertyKey, Method>)[method as PropertyKey]!;
  const limit = pLimit(concurrency);
  await Promise.all(
    chosen.map(({ args }) =>
      limit(async () => {
        try {
          // A store that cannot tell counts as "not cached": the call then goes through the cache's own policy.
          if (await target.has(instance, args).catch(() => false)) progress.skipped++;
          else {
            await call.apply(instance, args);
            progress.filled++;
          }
        } catch (error) {
          progress.failed++;
          errors.push({ args, error });
        }
        progress.done++;
        onProgress?.({ ...progress });
      }),
    ),
  );
  return { ...progress, errors };
}
