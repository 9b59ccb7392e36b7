import { runWithSignal, currentSignal } from '../core/current-signal';
import type { CacheEntry, FillLease } from '../ports/cache-store';
import { CachedStream } from './cached-stream';
import { LiveStream } from './live-stream';
import type { MethodRuntime } from './method-runtime';
import { MethodStore } from './method-store';
import { SemanticIndex } from './semantic-index';
import type { SemanticExplanation, SemanticQuery } from './semantic-types';
import { isStreamRecording, replayRecording, type ResolvedPace, type StreamRecording } from './stream-recording';

/** A method whose chunks `@Cached({ stream: true })` caches: an async generator, or a promise of a stream. */
export type StreamMethod = (
  this: unknown,
  ...args: unknown[]
) => AsyncIterable<unknown> | Promise<AsyncIterable<unknown>>;

/** Live streams in progress per key, shared by every stream method of a cache. */
export type LiveStreams = Map<string, LiveStream<unknown>>;

/**
 * The cache-aside algorithm for a method that streams. A hit replays the recorded chunks. A miss runs the
 * method and hands its chunks to the caller as they arrive while recording them; identical calls made
 * meanwhile in this process read the same live stream from its first chunk; another process waits for
 * the recording (the fill lease) and replays it. Only a stream that completes is stored: one that fails
 * stores nothing and every reader gets the error after the chunks that preceded it. When every reader
 * stops early, the method's stream is closed and its signal ({@link currentSignal}) aborted, so the
 * provider stops generating.
 */
export class CachedStreamMethod {
  readonly #store: MethodStore;
  /** The semantic index; `undefined` for a method without `semantic`. */
  readonly #semantic: SemanticIndex | undefined;

  constructor(
    private readonly rt: MethodRuntime,
    private readonly live: LiveStreams,
    private readonly pace: ResolvedPace,
  ) {
    this.#store = new MethodStore(rt);
    this.#semantic = rt.semantic === undefined ? undefined : new SemanticIndex(rt, rt.semantic);
  }

  /** The key of a call, for removing one entry (`cache.invalidate`). */
  keyFor(self: unknown, args: readonly unknown[]): string {
    return this.rt.keys.keyFor(self, args as unknown[]);
  }

  /** The tag keys the method gave a stored recording (computed from its chunks), for `cache.peek`. */
  tagKeysOf(args: readonly unknown[], value: unknown): readonly string[] {
    return this.rt.tagKeys?.(isStreamRecording(value) ? value.chunks : value, args) ?? [];
  }

  /** What a semantic lookup of this call would do (`cache.explainSemantic`); a `TypeError` without `semantic`. */
  explainSemantic(self: unknown, args: readonly unknown[]): Promise<SemanticExplanation> {
    if (this.#semantic === undefined) throw new TypeError(`${this.rt.method} is not cached with \`semantic\``);
    return this.#semantic.explainCall(self, args as unknown[]);
  }

  call(fn: StreamMethod, self: unknown, args: unknown[]): CachedStream<unknown> | ReturnType<StreamMethod> {
    const rt = this.rt;
    if (rt.when !== undefined && !rt.when.apply(self, args)) {
      rt.counters.bypassed++;
      return fn.apply(self, args);
    }
    return new CachedStream(() => this.#open(fn, self, args), currentSignal());
  }

  async #open(fn: StreamMethod, self: unknown, args: unknown[]): Promise<AsyncIterator<unknown, unknown>> {
    const rt = this.rt;
    const key = rt.keys.keyFor(self, args);
    let entry: CacheEntry | undefined;
    try {
      entry = await rt.store.get(key);
    } catch (error) {
      this.#store.readFailed(error, key);
    }
    if (entry !== undefined) {
      if (isStreamRecording(entry.value)) {
        rt.counters.hits++;
        if (rt.events.has('hit')) rt.events.emit('hit', { method: rt.method, key });
        if (rt.ledger !== undefined) rt.ledger.record('hit', entry.value.chunks, self, args, key);
        return replayRecording(entry.value, this.pace);
      }
      this.#store.decodeFailed(notARecording(entry.value), key);
    }
    let query: SemanticQuery | undefined;
    if (this.#semantic !== undefined && !this.live.has(key)) {
      query = this.#semantic.queryOf(self, args);
      const replay = query === undefined ? undefined : await this.#semanticReplay(query, self, args, key);
      if (replay !== undefined) return replay;
    }
    rt.counters.misses++;
    if (rt.events.has('miss')) rt.events.emit('miss', { method: rt.method, key });
    let live = this.live.get(key);
    if (live !== undefined) {
      rt.counters.coalesced++;
      live.joined++;
    } else {
      live = new LiveStream(rt.clock);
      this.live.set(key, live);
      void this.#fill(live, fn, self, args, key, query);
    }
    const reader = live.subscribe();
    await live.opened;
    return reader;
  }

  /**
   * An exact miss of a method with `semantic`: replays the recording of a cached question that means the
   * same, as an exact hit replays its own. A failing embedder or index is reported and the call goes on as
   * an exact miss.
   */
  async #semanticReplay(
    query: SemanticQuery,
    self: unknown,
    args: unknown[],
    key: string,
  ): Promise<AsyncIterator<unknown, unknown> | undefined> {
    const rt = this.rt;
    let match;
    try {
      match = await (this.#semantic as SemanticIndex).find(query);
    } catch (error) {
      this.#store.emitError(error, 'semantic lookup', key);
      return undefined;
    }
    if (match === undefined || !isStreamRecording(match.entry.value)) return undefined;
    (this.#semantic as SemanticIndex).served(query, match, key);
    if (rt.ledger !== undefined) rt.ledger.record('hit', match.entry.value.chunks, self, args, key);
    return replayRecording(match.entry.value, this.pace);
  }

  async #fill(
    live: LiveStream<unknown>,
    fn: StreamMethod,
    self: unknown,
    args: unknown[],
    key: string,
    query?: SemanticQuery,
  ): Promise<void> {
    const rt = this.rt;
    let lease: FillLease | undefined;
    try {
      const coordination = await this.#store.coordinate(key);
      lease = coordination.lease;
      const { entry } = coordination;
      if (entry !== undefined && isStreamRecording(entry.value)) {
        // Another process streamed it; every caller here avoided a call.
        rt.counters.coalesced++;
        live.serve(entry.value);
        this.#account('hit', entry.value, live.joined + 1, self, args, key);
        return;
      }
      const stop = new AbortController();
      live.onAbandon = () => stop.abort(new Error('Every reader of the cached stream stopped before its end'));
      const pending = this.#store.mark();
      const mark = pending instanceof Promise ? await pending : pending;
      const started = rt.clock.now();
      const pump = () =>
        runWithSignal(stop.signal, async () => live.pump(iteratorOf(await fn.apply(self, args), rt.method)));
      const scope = rt.fillScope.current;
      const end = await (scope === undefined
        ? pump()
        : scope({ method: rt.method, namespace: rt.namespace, key }, pump));
      if (end !== 'done') return;
      rt.counters.fills++;
      const recording: StreamRecording = { chunks: live.chunks, gaps: live.gaps };
      this.#account('fill', recording, 1, self, args, key);
      this.#account('hit', recording, live.joined, self, args, key);
      const ttlMs = this.#store.ttlFor(live.chunks);
      const { tags, stored } =
        ttlMs > 0
          ? await this.#store.set(key, recording, ttlMs, args, { result: live.chunks, mark })
          : { tags: [], stored: false };
      const raced = await this.#store.raced(key, tags, mark, stored);
      // The question joins the index once its recording is stored, before any reader sees the end.
      if (query !== undefined && stored && !raced) await (this.#semantic as SemanticIndex).add(query, key, ttlMs);
      const durationMs = rt.clock.now() - started;
      if (rt.events.has('fill'))
        rt.events.emit('fill', { method: rt.method, key, durationMs, stored: stored && !raced });
    } catch (error) {
      live.fail(error);
    } finally {
      // In this order: a caller that sees the end finds the entry stored and no live stream to join.
      if (this.live.get(key) === live) this.live.delete(key);
      live.seal();
      if (lease !== undefined) await this.#store.release(lease, key).catch(() => undefined);
    }
  }

  #account(
    kind: 'fill' | 'hit',
    recording: StreamRecording,
    times: number,
    self: unknown,
    args: unknown[],
    key: string,
  ): void {
    const ledger = this.rt.ledger;
    if (ledger === undefined) return;
    for (let i = 0; i < times; i++) ledger.record(kind, recording.chunks, self, args, key);
  }
}

function iteratorOf(source: unknown, method: string): AsyncIterator<unknown> {
  const open = (source as { [Symbol.asyncIterator]?: unknown } | null | undefined)?.[Symbol.asyncIterator];
  if (typeof open !== 'function') {
    const got =
      source === null ? 'null' : typeof source === 'object' ? `an object without Symbol.asyncIterator` : typeof source;
    throw new TypeError(
      `@Cached({ stream: true }) expected ${method} to return an AsyncIterable or a promise of one, got ${got}`,
    );
  }
  return (open as () => AsyncIterator<unknown>).call(source);
}

function notARecording(value: unknown): TypeError {
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
  return new TypeError(`The cached entry is not a stream recording ({ chunks, gaps }), got ${got}; treated as a miss`);
}
