import { Emitter } from '../core/events';
import { logEvent, type CachetLogger } from '../core/logger';
import type { NoticeBus } from '../ports/notice-bus';
import { closeClient } from './close-client';
import type { RedisClientLike } from './connection';

interface BusEvents {
  live: (live: boolean) => void;
}

/**
 * Redis pub/sub as a {@link NoticeBus}: one subscriber connection (a duplicate of the store's client,
 * opened on the first `subscribe`) carries every channel, fill notices and tier notices alike, so a
 * store holds two connections at most. Publishing goes through the store's own connection, behind its
 * timeout and breaker. The bus is live from the first subscription until the subscriber connection
 * fails or ends, and live again once node-redis has reconnected (it subscribes again by itself). Each
 * loss is logged once (`warn`, with the first error), and so is each return (`info`).
 */
export class RedisNoticeBus implements NoticeBus {
  readonly #events = new Emitter<BusEvents>();
  readonly #channels = new Map<string, Set<(message: string) => void>>();
  #subscriber: RedisClientLike | undefined;
  #connecting: Promise<void> | undefined;
  #live = false;
  #closed = false;
  /** The error that ended the subscription, for the log line of its loss. */
  #lostBy: unknown;
  /** Whether the bus has been live before (a return is logged, the first subscription is not). */
  #hadLive = false;

  constructor(
    private readonly client: RedisClientLike,
    private readonly send: (channel: string, message: string) => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly logger?: CachetLogger,
  ) {}

  get live(): boolean {
    return this.#live;
  }

  onLiveChange(listener: (live: boolean) => void): () => void {
    return this.#events.on('live', listener);
  }

  publish(channel: string, message: string): Promise<void> {
    return this.send(channel, message);
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<() => void> {
    if (this.#closed) throw new Error('the notice bus was closed');
    let listeners = this.#channels.get(channel);
    const first = listeners === undefined;
    if (listeners === undefined) this.#channels.set(channel, (listeners = new Set()));
    listeners.add(listener);
    const stop = (): void => void this.#channels.get(channel)?.delete(listener);
    await (this.#connecting ??= this.#connect());
    if (first) {
      await this.#subscriber!.subscribe(channel, (message) => {
        for (const each of [...(this.#channels.get(channel) ?? [])]) each(message);
      });
    }
    if (!this.#closed && this.#subscriber?.isReady) this.#setLive(true);
    return stop;
  }

  /** Closes the subscriber connection; the bus is no longer live. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#setLive(false);
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (subscriber !== undefined) await closeClient(subscriber);
  }

  async #connect(): Promise<void> {
    const subscriber = this.client.duplicate();
    this.#subscriber = subscriber;
    const lost = (error?: unknown): void => {
      if (error !== undefined) this.onError(error);
      this.#lostBy ??= error;
      this.#setLive(false);
    };
    subscriber.on('error', lost);
    subscriber.on('end', () => lost());
    subscriber.on('ready', () => {
      // After a reconnect node-redis subscribes again by itself; until then, notices could be missed.
      if (!this.#closed && this.#channels.size > 0 && this.#connecting !== undefined) this.#setLive(true);
    });
    try {
      await subscriber.connect();
    } catch (error) {
      // The next subscribe tries again with a new connection.
      this.#connecting = undefined;
      this.#subscriber = undefined;
      await closeClient(subscriber);
      throw error;
    }
  }

  #setLive(live: boolean): void {
    if (this.#live === live) return;
    this.#live = live;
    if (!this.#closed) this.#log(live);
    this.#events.emit('live', live);
  }

  /** Logs a loss of the subscription, or its return after one (not the first subscription). */
  #log(live: boolean): void {
    const channels = [...this.#channels.keys()];
    if (!live) {
      const err = this.#lostBy;
      logEvent(
        this.logger,
        'warn',
        { event: 'cachet.notices-lost', backend: 'RedisStore', channels, ...(err === undefined ? {} : { err }) },
        'RedisStore: the notice channel was lost; notices may be missed until it is subscribed again' +
          (err === undefined ? '' : `: ${err instanceof Error ? err.message : String(err)}`),
      );
    } else if (this.#hadLive) {
      this.#lostBy = undefined;
      logEvent(
        this.logger,
        'info',
        { event: 'cachet.notices-restored', backend: 'RedisStore', channels },
        'RedisStore: the notice channel is subscribed again',
      );
    }
    this.#hadLive = true;
  }
}
