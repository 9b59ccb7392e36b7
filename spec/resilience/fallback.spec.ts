import { FallbackError, isFallbackError } from '../../lib/resilience/errors';
import { withFallback } from '../../lib/resilience/fallback';

class RateLimited extends Error {}
class Overloaded extends Error {}

const failWith =
  (error: unknown) =>
  async (..._args: unknown[]): Promise<string> => {
    throw error;
  };

describe('withFallback', () => {
  it('answers with a value when the call fails', async () => {
    await expect(withFallback(failWith(new Error('down')), { to: 42 })()).resolves.toBe(42);
  });

  it('answers with a string or function taken literally through `value`', async () => {
    const canned = (): string => 'not called';
    await expect(withFallback(failWith(new Error('down')), { value: 'sorry' })()).resolves.toBe('sorry');
    await expect(withFallback(failWith(new Error('down')), { value: canned })()).resolves.toBe(canned);
    await expect(withFallback(failWith(new Error('down')), { value: undefined })()).resolves.toBeUndefined();
  });

  it('calls a function target with the error, the arguments and `this`', async () => {
    const error = new Error('down');
    const target = {
      tag: 'self',
      ask: withFallback(failWith(error), {
        to(this: { tag: string }, e: unknown, question: string, n: number) {
          return Promise.resolve([this.tag, e, question, n]);
        },
      }),
    };
    await expect(target.ask('why', 2)).resolves.toEqual(['self', error, 'why', 2]);
  });

  it('calls the method a string names on `this`, and rejects with a TypeError when there is none', async () => {
    const target = {
      small: async (q: string): Promise<string> => `small:${q}`,
      ask: withFallback(failWith(new Error('down')), { to: 'small' }),
    };
    await expect(target.ask('q')).resolves.toBe('small:q');
    const orphan = { ask: withFallback(failWith(new Error('down')), { to: 'small' }) };
    await expect(orphan.ask('q')).rejects.toThrow('Expected `to` to be the name of a method of `this`');
  });

  it('does not run the fallback when the call succeeds', async () => {
    const to = jest.fn();
    await expect(withFallback(async () => 'primary', { to })()).resolves.toBe('primary');
    expect(to).not.toHaveBeenCalled();
  });

  it('falls back only on the listed error classes and lets others through unchanged', async () => {
    const options = { value: 'fallback', on: [RateLimited, Overloaded] } as const;
    await expect(withFallback(failWith(new Overloaded()), options)()).resolves.toBe('fallback');
    const other = new Error('bug');
    await expect(withFallback(failWith(other), options)()).rejects.toBe(other);
  });

  it('falls back only when the predicate accepts the error', async () => {
    const on = (e: unknown): boolean => (e as { status?: number }).status === 503;
    await expect(withFallback(failWith({ status: 503 }), { value: 'x', on })()).resolves.toBe('x');
    await expect(withFallback(failWith({ status: 400 }), { value: 'x', on })()).rejects.toEqual({ status: 400 });
  });

  it('throws a FallbackError with both causes when the fallback fails too', async () => {
    const primary = new RateLimited('limited');
    const secondary = new Error('also down');
    const guarded = withFallback(failWith(primary), { to: failWith(secondary) });
    const error = await guarded().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FallbackError);
    expect(isFallbackError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_CACHET_FALLBACK', errors: [primary, secondary], cause: secondary });
    expect((error as Error).message).toMatch(/2 errors/);
  });

  it('tries a chain inside out and carries every cause when all steps fail', async () => {
    const order: string[] = [];
    const step = (name: string) => async (): Promise<string> => {
      order.push(name);
      throw new Error(name);
    };
    const chain = withFallback(withFallback(step('primary'), { to: step('first') }), { to: step('second') });
    const error = (await chain().catch((e: unknown) => e)) as FallbackError;
    expect(order).toEqual(['primary', 'first', 'second']);
    expect(error.errors.map((e) => (e as Error).message)).toEqual(['primary', 'first', 'second']);
    expect(error.cause).toBe(error.errors[2]);
  });

  it('lets each step of a chain filter the latest error', async () => {
    const inner = withFallback(failWith(new RateLimited()), { to: failWith(new Overloaded()), on: [RateLimited] });
    await expect(withFallback(inner, { value: 'outer', on: [Overloaded] })()).resolves.toBe('outer');
    const rejecting = withFallback(inner, { value: 'outer', on: [RateLimited] });
    const error = (await rejecting().catch((e: unknown) => e)) as FallbackError;
    expect(error).toBeInstanceOf(FallbackError);
    expect(error.errors).toHaveLength(2);
  });

  it('reports the error to onFallback before answering', async () => {
    const error = new Error('down');
    const onFallback = jest.fn();
    await withFallback(failWith(error), { value: 1, onFallback })();
    expect(onFallback).toHaveBeenCalledWith(error);
  });

  it('rejects invalid options with a TypeError', () => {
    const fn = async (): Promise<void> => {};
    expect(() => withFallback(fn, {})).toThrow(
      'Expected `options` to be an object with exactly one of `to` and `value`',
    );
    expect(() => withFallback(fn, { to: 1, value: 2 })).toThrow(TypeError);
    expect(() => withFallback(fn, { to: 1, on: [] })).toThrow(
      'Expected `on` to be a non-empty array of error classes or a predicate, got `[]` (array)',
    );
    expect(() => withFallback(fn, { to: 1, on: ['Error'] as never })).toThrow(TypeError);
    expect(() => withFallback(fn, { to: '' })).toThrow(TypeError);
    expect(() => withFallback(fn, { to: 1, onFallback: 3 as never })).toThrow('Expected `onFallback` to be a function');
    expect(() => withFallback(fn, { too: 1 } as never)).toThrow('Unknown @Fallback option `too`');
  });
});
