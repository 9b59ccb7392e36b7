/**
 * A stream the test drives chunk by chunk: `push` delivers a chunk, `end` finishes the stream and
 * `fail` breaks it. Each `open()` is one stream (one "provider request"); `opened` counts them. A
 * stream stops waiting when `signal` aborts, as a real HTTP stream does.
 */
export function channel<T>() {
  type Item = { value: T } | { end: true } | { error: unknown };
  const items: Item[] = [];
  let wake: (() => void) | undefined;
  const state = { opened: 0, closed: 0 };

  const put = (item: Item) => {
    items.push(item);
    wake?.();
    wake = undefined;
  };

  async function* open(signal?: AbortSignal): AsyncGenerator<T, void> {
    state.opened++;
    signal?.addEventListener('abort', () => wake?.(), { once: true });
    let index = 0;
    try {
      for (;;) {
        while (index >= items.length) {
          signal?.throwIfAborted();
          await new Promise<void>((resolve) => (wake = resolve));
        }
        signal?.throwIfAborted();
        const item = items[index++]!;
        if ('error' in item) throw item.error;
        if ('end' in item) return;
        yield item.value;
      }
    } finally {
      state.closed++;
    }
  }

  return {
    open,
    push: (...values: T[]) => values.forEach((value) => put({ value })),
    end: () => put({ end: true }),
    fail: (error: unknown) => put({ error }),
    /** Streams opened so far. */
    get opened() {
      return state.opened;
    },
    /** Streams that ran their `finally` (ended, failed or closed early). */
    get closed() {
      return state.closed;
    },
  };
}

/** Reads a whole async iterable into an array. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Lets pending promise callbacks and timers of 0 ms run. */
export const settle = () => new Promise((resolve) => setImmediate(resolve));
