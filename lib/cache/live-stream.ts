import type { Clock } from '../core/clock';
import type { StreamRecording } from './stream-recording';

/** How a live stream ended: every chunk read, the source failed, or every reader left before the end. */
export type LiveStreamEnd = 'done' | 'failed' | 'abandoned';

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * One stream in progress, shared by every identical caller in this process. The source is read as fast
 * as it produces (the chunks are kept for the cache anyway), so a slow reader never slows the others;
 * each reader has its own position and sees every chunk from the first, however late it joins.
 *
 * The end reaches readers only when the owner {@link seal}s the stream, after storing it, so a caller
 * that starts after its stream ended finds the stored entry. A failure reaches readers at once, after
 * the chunks that came before it. When the last reader leaves early, the source is closed (the provider
 * stops generating tokens) and the stream ends as `abandoned`.
 */
export class LiveStream<T> implements StreamRecording<T> {
  readonly chunks: T[] = [];
  readonly gaps: number[] = [];
  /** Resolves once a source is attached (the method returned), rejects if the fill failed before that. */
  readonly opened: Promise<void>;
  #resolveOpened!: () => void;
  #rejectOpened!: (error: unknown) => void;
  #state: 'waiting' | 'reading' | 'read' | 'sealed' | 'failed' | 'abandoned' = 'waiting';
  #error: unknown;
  #source: AsyncIterator<T> | undefined;
  #readers = 0;
  /** Joined callers (not the first), for the ledger. */
  joined = 0;
  #wakers: (() => void)[] = [];
  /** Called once when the last reader leaves before the end, before the source is closed. */
  onAbandon: (() => void) | undefined;

  constructor(private readonly clock: Clock) {
    this.opened = new Promise<void>((resolve, reject) => {
      this.#resolveOpened = resolve;
      this.#rejectOpened = reject;
    });
    // Readers await `opened`; when none does (all left), its rejection must not go unhandled.
    this.opened.catch(() => undefined);
  }

  /** Whether every reader left before the end. */
  get abandoned(): boolean {
    return this.#state === 'abandoned';
  }

  /**
   * Reads `source` to its end. Resolves how the stream ended; never rejects. A `done` stream still
   * needs {@link seal} before its readers see the end.
   */
  async pump(source: AsyncIterator<T>): Promise<LiveStreamEnd> {
    if (this.#state !== 'waiting') {
      await source.return?.();
      return 'abandoned';
    }
    this.#source = source;
    this.#state = 'reading';
    this.#resolveOpened();
    let last = this.clock.now();
    try {
      for (;;) {
        const next = await source.next();
        if (this.#state !== 'reading') return 'abandoned';
        if (next.done === true) break;
        const now = this.clock.now();
        this.chunks.push(next.value);
        this.gaps.push(now - last);
        last = now;
        this.#wake();
      }
    } catch (error) {
      if (this.#state !== 'reading') return 'abandoned';
      this.fail(error);
      return 'failed';
    }
    this.#state = 'read';
    return 'done';
  }

  /** Serves a complete recording (stored by another process) as this stream's content, sealed. */
  serve(recording: StreamRecording<T>): void {
    this.chunks.push(...recording.chunks);
    this.gaps.push(...recording.gaps);
    this.#resolveOpened();
    this.seal();
  }

  /** Lets readers see the end, once the owner has stored the stream (or decided not to). */
  seal(): void {
    if (this.#state === 'failed' || this.#state === 'abandoned') return;
    this.#state = 'sealed';
    this.#wake();
  }

  /** Ends the stream with `error`: readers get it after the chunks that came before it. */
  fail(error: unknown): void {
    if (this.#state === 'failed' || this.#state === 'sealed' || this.#state === 'abandoned') return;
    this.#state = 'failed';
    this.#error = error;
    this.#rejectOpened(error);
    this.#wake();
  }

  /** A new reader, starting at the first chunk. */
  subscribe(): AsyncIterator<T, undefined> {
    this.#readers++;
    let index = 0;
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      if (--this.#readers === 0) this.#abandon();
      // A `next()` of this reader may be waiting for a chunk; it must see that the reader left.
      this.#wake();
    };
    return {
      next: async (): Promise<IteratorResult<T, undefined>> => {
        for (;;) {
          if (left) return DONE;
          if (index < this.chunks.length) return { done: false, value: this.chunks[index++]! };
          if (this.#state === 'sealed') {
            leave();
            return DONE;
          }
          if (this.#state === 'failed') {
            leave();
            throw this.#error;
          }
          await new Promise<void>((resolve) => this.#wakers.push(resolve));
        }
      },
      return: async (): Promise<IteratorResult<T, undefined>> => {
        leave();
        return DONE;
      },
    };
  }

  /** The last reader left: stop reading the source unless it has already ended. */
  #abandon(): void {
    if (this.#state !== 'waiting' && this.#state !== 'reading') return;
    this.#state = 'abandoned';
    this.#rejectOpened(new Error('Every reader left the stream'));
    this.onAbandon?.();
    const source = this.#source;
    // Closing the source may wait on I/O (an HTTP body); nobody is left to wait for it.
    if (source?.return !== undefined) void Promise.resolve(source.return()).catch(() => undefined);
  }

  #wake(): void {
    if (this.#wakers.length === 0) return;
    const wakers = this.#wakers;
    this.#wakers = [];
    for (const wake of wakers) wake();
  }
}
