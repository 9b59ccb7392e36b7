/**
 * Messages between the instances that share a backend: fill notices (a value is ready), a memory tier's
 * invalidation notices. Implementation: the `notices` of a `RedisStore`, one subscriber connection for
 * every channel.
 */
export interface NoticeBus {
  /**
   * Delivers every message published on `channel` afterwards, by any instance, to `listener`. Resolves
   * once the subscription is live, with a function that stops this listener.
   */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => void>;
  /** Publishes `message` on `channel` to every instance, this one included. */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Whether messages are being received now. While it is false, messages may be lost: a listener that
   * cannot afford to miss one must assume anything may have changed.
   */
  readonly live: boolean;
  /** Calls `listener` whenever `live` changes; returns a function that stops it. */
  onLiveChange(listener: (live: boolean) => void): () => void;
}
