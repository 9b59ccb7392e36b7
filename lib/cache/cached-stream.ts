import { raceAbort } from '../core/abortable';

/**
 * What a `@Cached({ stream: true })` method returns: an async iterator of the chunks, whether they come
 * live from the method, from an identical call already streaming in this process, or replayed from the
 * cache. It is also awaitable, so methods declared either way keep working for their callers:
 *
 * - `for await (const chunk of service.stream(request))` (an `async *` method), and
 * - `for await (const chunk of await service.ask(request))` (a method returning a promise of a stream,
 *   as `openai.chat.completions.create({ stream: true })` does). Awaiting resolves once the stream is
 *   open, and rejects when the method fails before its first chunk (a 429, a rate limit), so
 *   `@Fallback` and `try/await` see that failure where they expect it.
 *
 * Nothing starts until the first `next()` or `await`, as with an async generator. Single use, as generators are.
 */
export class CachedStream<T> implements AsyncIterableIterator<T>, PromiseLike<AsyncIterableIterator<T>> {
  #opening: Promise<AsyncIterator<T, unknown>> | undefined;
  #closed = false;
  readonly #view: AsyncIterableIterator<T>;

  /**
   * @param open starts the stream: a hit's replay, a shared live stream, or a new fill
   * @param signal the caller's {@link currentSignal}: when it aborts, this reader leaves (a shared stream
   *   goes on for the others) and its pending `next()` rejects with the signal's reason
   */
  constructor(
    private readonly open: () => Promise<AsyncIterator<T, unknown>>,
    private readonly signal?: AbortSignal,
  ) {
    // What `await` resolves to: the same iterator without `then`, so awaiting it again is a no-op.
    const view: AsyncIterableIterator<T> = {
      next: () => this.next(),
      return: (value?: unknown) => this.return(value),
      throw: (error?: unknown) => this.throw(error),
      [Symbol.asyncIterator]: () => view,
    };
    this.#view = view;
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.#closed) return { done: true, value: undefined };
    const step = this.#open().then((iterator) => iterator.next());
    const result = await (this.signal === undefined ? step : this.#unlessAborted(step, this.signal));
    return result.done === true ? { done: true, value: undefined } : result;
  }

  /** Stops reading (what `break` calls); a shared stream goes on for its other readers. */
  async return(value?: unknown): Promise<IteratorResult<T>> {
    this.#closed = true;
    if (this.#opening !== undefined) {
      const iterator = await this.#opening.catch(() => undefined);
      await iterator?.return?.();
    }
    return { done: true, value: value as T };
  }

  /** Stops reading, as {@link return} does, and rejects with `error` (what a generator's `throw` does when it does not catch). */
  async throw(error?: unknown): Promise<IteratorResult<T>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  then<R1 = AsyncIterableIterator<T>, R2 = never>(
    onOpened?: ((stream: AsyncIterableIterator<T>) => R1 | PromiseLike<R1>) | null,
    onFailed?: ((error: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#open()
      .then(() => this.#view)
      .then(onOpened, onFailed);
  }

  /** `step`, unless the caller's signal aborts first: then this reader leaves and the reason is thrown. */
  #unlessAborted<R>(step: Promise<R>, signal: AbortSignal): Promise<R> {
    return raceAbort(step, signal, () => undefined).catch((error: unknown) => {
      if (signal.aborted) void this.return();
      throw error;
    });
  }

  #open(): Promise<AsyncIterator<T, unknown>> {
    return (this.#opening ??= this.open());
  }
}
