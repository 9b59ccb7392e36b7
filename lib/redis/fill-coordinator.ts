import { randomUUID } from 'node:crypto';
import type { CacheEntry, FillCoordinator, FillLease, FillWait } from '../ports/cache-store';
import { COMMAND_OPTIONS, type RedisClientLike } from './connection';
import { RELEASE_LEASE, RENEW_LEASE } from './fill-lease-scripts';
import { runLua } from './lua';
import type { NoticeBus } from '../ports/notice-bus';

/** What the coordinator needs from its store. */
export interface CoordinatorPort {
  readonly client: RedisClientLike;
  readonly channel: string;
  /** Where fill notices arrive: the store's one subscriber connection. */
  readonly notices: NoticeBus;
  /** Runs one Redis operation under the store's timeout and circuit breaker. */
  guard<T>(operation: string, key: string, run: () => Promise<T>): Promise<T>;
  /** Reads an entry through the store's batched read path. */
  read(key: string): Promise<CacheEntry | undefined>;
  /** Called with errors from background work (lease renewal, subscribing), which no caller awaits. */
  onBackgroundError(error: unknown, operation: string, key?: string): void;
}

const FIRST_POLL_MS = 10;
const MAX_POLL_MS = 250;

export function leaseKeyOf(key: string): string {
  return key + '#lock';
}

/**
 * Cross-process single flight over Redis. The first process to miss takes a lease (`SET NX PX` with a
 * random token) and runs the method; the lease is renewed while the method runs and released by its
 * owner only (compare-and-delete), which also publishes the key. Other processes wait for that notice,
 * and poll with backoff in case a notice is lost, until the value appears, the lease disappears (the
 * holder failed or died: its lease expires) or their wait bound runs out.
 */
export class RedisFillCoordinator implements FillCoordinator {
  readonly #waiters = new Map<string, Set<() => void>>();
  #subscribed: Promise<unknown> | undefined;

  constructor(private readonly port: CoordinatorPort) {}

  async acquire(key: string, leaseMs: number): Promise<FillLease | undefined> {
    const { client, channel } = this.port;
    const leaseKey = leaseKeyOf(key);
    const token = randomUUID();
    const reply = await this.port.guard('lease', key, () =>
      client.sendCommand(['SET', leaseKey, token, 'NX', 'PX', String(leaseMs)], COMMAND_OPTIONS),
    );
    if (reply !== 'OK') return undefined;

    const renewal = setInterval(
      () => {
        this.port
          .guard('lease', key, () => runLua(client, RENEW_LEASE, [leaseKey], [token, String(leaseMs)]))
          .catch((error: unknown) => this.port.onBackgroundError(error, 'lease', key));
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    renewal.unref();

    let released: Promise<void> | undefined;
    return {
      release: () =>
        (released ??= (async () => {
          clearInterval(renewal);
          await this.port.guard('lease', key, () => runLua(client, RELEASE_LEASE, [leaseKey], [token, channel, key]));
        })()),
    };
  }

  async waitForFill(
    key: string,
    timeoutMs: number,
    accept: (entry: CacheEntry) => boolean = () => true,
  ): Promise<FillWait> {
    this.#ensureSubscribed();
    const deadline = Date.now() + timeoutMs;
    let wake: (() => void) | undefined;
    const waiters = this.#waiters.get(key) ?? new Set();
    this.#waiters.set(key, waiters);
    try {
      for (let pollMs = FIRST_POLL_MS; ; pollMs = Math.min(pollMs * 2, MAX_POLL_MS)) {
        // An entry the caller does not accept (the stale one being refreshed) counts as no entry yet.
        const entry = await this.port.read(key);
        if (entry !== undefined && accept(entry)) return { status: 'filled', entry };
        const leaseKey = leaseKeyOf(key);
        const held = await this.port.guard('lease', key, () =>
          this.port.client.sendCommand<number>(['EXISTS', leaseKey], COMMAND_OPTIONS),
        );
        if (held === 0) {
          // The value may have landed between the two reads; look once more before giving up.
          const late = await this.port.read(key);
          return late === undefined || !accept(late) ? { status: 'released' } : { status: 'filled', entry: late };
        }
        const left = deadline - Date.now();
        if (left <= 0) return { status: 'timeout' };
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(pollMs, left));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
          waiters.add(wake);
        });
        if (wake) waiters.delete(wake);
      }
    } finally {
      if (wake) waiters.delete(wake);
      if (waiters.size === 0 && this.#waiters.get(key) === waiters) this.#waiters.delete(key);
    }
  }

  #ensureSubscribed(): void {
    // Not awaited: until the subscription is live, waiters poll, so nothing waits on it.
    this.#subscribed ??= this.port.notices
      .subscribe(this.port.channel, (key) => {
        const waiters = this.#waiters.get(key);
        if (waiters) for (const wake of [...waiters]) wake();
      })
      .catch((error: unknown) => {
        this.#subscribed = undefined;
        this.port.onBackgroundError(error, 'subscribe');
      });
  }
}
