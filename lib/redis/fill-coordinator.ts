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
  /** Runs one Redis operation under the timeout even while the breaker is open (giving a lease back). */
  always<T>(operation: string, key: string | undefined, run: () => Promise<T>): Promise<T>;
  /** Whether the breaker of the node that serves `key` skips it now: a waiter stops polling it. */
  skips(key: string): boolean;
  /** Reads an entry through the store's batched read path. */
  read(key: string): Promise<CacheEntry | undefined>;
  /** Called with errors from background work (lease renewal, subscribing), which no caller awaits. */
  onBackgroundError(error: unknown, operation: string, key?: string): void;
}

const FIRST_POLL_MS = 10;
const MAX_POLL_MS = 250;
/** Attempts to announce an abandoned lease (each goes to another node of a cluster). */
const ANNOUNCE_ATTEMPTS = 3;
/** Longest pause between attempts to give an abandoned lease back. */
const MAX_RETRY_MS = 1000;

/** The channel on which holders announce leases they could not give back: `<fill channel>!abandoned`. */
export function abandonedChannelOf(channel: string): string {
  return channel + '!abandoned';
}

export function leaseKeyOf(key: string): string {
  return key + '#lock';
}

/**
 * Cross-process single flight over Redis. The first process to miss takes a lease (`SET NX PX` with a
 * random token) and runs the method; the lease is renewed while the method runs and released by its
 * owner only (compare-and-delete), which also publishes the key. Other processes wait for that notice,
 * and poll with backoff in case a notice is lost, until the value appears, the lease disappears (the
 * holder failed or died: its lease expires) or their wait bound runs out.
 *
 * A holder that cannot renew or give back its lease (the lease's node failed) abandons it visibly: it
 * announces the key on `<channel>!abandoned` (pub/sub reaches every instance through any live node),
 * and keeps trying to give the lease back in the background until it succeeds or the lease expires by
 * itself. Waiters that hear the announcement, and waiters whose lease node the breaker skips, stop
 * waiting at once and run the method themselves (`abandoned`): a failover costs at most one run per
 * process, never a wait for a lease nobody will release.
 */
export class RedisFillCoordinator implements FillCoordinator {
  readonly #waiters = new Map<string, Set<() => void>>();
  /** Keys whose lease was announced abandoned, until when (ms) the announcement holds. */
  readonly #abandoned = new Map<string, number>();
  /** Background attempts to give abandoned leases back, stopped by {@link close}. */
  readonly #retries = new Set<ReturnType<typeof setTimeout>>();
  #subscribed: Promise<unknown> | undefined;
  #closed = false;

  constructor(private readonly port: CoordinatorPort) {}

  async acquire(key: string, leaseMs: number): Promise<FillLease | undefined> {
    const { client, channel } = this.port;
    const leaseKey = leaseKeyOf(key);
    const token = randomUUID();
    const reply = await this.port.guard('lease', leaseKey, () =>
      client.sendCommand(['SET', leaseKey, token, 'NX', 'PX', String(leaseMs)], COMMAND_OPTIONS),
    );
    if (reply !== 'OK') return undefined;

    const release = (): Promise<unknown> =>
      this.port.always('lease', leaseKey, () => runLua(client, RELEASE_LEASE, [leaseKey], [token, channel, key]));
    let abandoned = false;
    const abandon = (): void => {
      if (abandoned) return;
      abandoned = true;
      clearInterval(renewal);
      this.#announce(key, leaseMs);
      this.#retryRelease(release, Date.now() + leaseMs);
    };
    const renewal = setInterval(
      () => {
        this.port
          .guard('lease', leaseKey, () => runLua(client, RENEW_LEASE, [leaseKey], [token, String(leaseMs)]))
          .catch((error: unknown) => {
            this.port.onBackgroundError(error, 'lease', key);
            // Waiters would otherwise wait for a lease that may run out while the method still runs.
            abandon();
          });
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    renewal.unref();

    let released: Promise<void> | undefined;
    return {
      release: () =>
        (released ??= (async () => {
          clearInterval(renewal);
          try {
            await release();
          } catch (error) {
            abandon();
            throw error;
          }
        })()),
    };
  }

  /** Stops the background attempts to give abandoned leases back (their leases expire by themselves). */
  close(): void {
    this.#closed = true;
    for (const timer of this.#retries) clearTimeout(timer);
    this.#retries.clear();
  }

  async waitForFill(
    key: string,
    timeoutMs: number,
    accept: (entry: CacheEntry) => boolean = () => true,
  ): Promise<FillWait> {
    this.#ensureSubscribed();
    const deadline = Date.now() + timeoutMs;
    const leaseKey = leaseKeyOf(key);
    let wake: (() => void) | undefined;
    const waiters = this.#waiters.get(key) ?? new Set();
    this.#waiters.set(key, waiters);
    try {
      for (let pollMs = FIRST_POLL_MS; ; pollMs = Math.min(pollMs * 2, MAX_POLL_MS)) {
        // Nobody will give this lease back soon: its holder said so, or its node is down.
        if (this.#isAbandoned(key) || this.port.skips(leaseKey)) return { status: 'abandoned' };
        // An entry the caller does not accept (the stale one being refreshed) counts as no entry yet.
        const entry = await this.port.read(key);
        if (entry !== undefined && accept(entry)) return { status: 'filled', entry };
        const held = await this.port.guard('lease', leaseKey, () =>
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
    const { notices, channel } = this.port;
    this.#subscribed ??= Promise.all([
      notices.subscribe(channel, (key) => {
        // Given back after all: later waiters wait for the next holder again.
        this.#abandoned.delete(key);
        this.#wake(key);
      }),
      notices.subscribe(abandonedChannelOf(channel), (message) => {
        const space = message.indexOf(' ');
        const forMs = Number(message.slice(0, space));
        if (space < 0 || !(forMs > 0)) return;
        const key = message.slice(space + 1);
        this.#forgetExpired();
        this.#abandoned.set(key, Date.now() + forMs);
        this.#wake(key);
      }),
    ]).catch((error: unknown) => {
      this.#subscribed = undefined;
      this.port.onBackgroundError(error, 'subscribe');
    });
  }

  #wake(key: string): void {
    const waiters = this.#waiters.get(key);
    if (waiters) for (const wake of [...waiters]) wake();
  }

  #isAbandoned(key: string): boolean {
    const until = this.#abandoned.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.#abandoned.delete(key);
    return false;
  }

  #forgetExpired(): void {
    const now = Date.now();
    for (const [key, until] of this.#abandoned) if (until <= now) this.#abandoned.delete(key);
  }

  /**
   * Tells every instance that the lease of `key` will not be given back soon (`<ms> <key>`, ms the lease's
   * time to live). Published through the store, which sends it to a master whose breaker is closed, each
   * attempt to the next, so a dead master does not silence it.
   */
  #announce(key: string, leaseMs: number): void {
    const channel = abandonedChannelOf(this.port.channel);
    const message = `${leaseMs} ${key}`;
    const attempt = (left: number): void => {
      this.port.notices.publish(channel, message).catch((error: unknown) => {
        if (left > 1) attempt(left - 1);
        else this.port.onBackgroundError(error, 'publish', key);
      });
    };
    attempt(ANNOUNCE_ATTEMPTS);
  }

  /**
   * Keeps trying to give an abandoned lease back (which also publishes the fill notice) until it works,
   * the lease has expired by itself (`until`), or the coordinator closes.
   */
  #retryRelease(release: () => Promise<unknown>, until: number): void {
    const retry = (delayMs: number): void => {
      if (this.#closed || Date.now() + delayMs >= until) return;
      const timer = setTimeout(() => {
        this.#retries.delete(timer);
        release().then(
          () => undefined,
          () => retry(Math.min(delayMs * 2, MAX_RETRY_MS)),
        );
      }, delayMs);
      timer.unref();
      this.#retries.add(timer);
    };
    retry(FIRST_POLL_MS * 10);
  }
}
