import { randomUUID } from 'node:crypto';
import { newCounters as zeroLike } from '../cache/stats';
import type { CacheCounters, SharedCounters, StoreInfo } from '../ports/cache-store';
import { optionError } from '../core/validate';
import type { RedisClientLike } from './connection';
import { COMMAND_OPTIONS } from './connection';
import { canAnchor } from './hash-tag';
import { runLua } from './lua';
import { APPLY_LEDGER_BATCH, batchMarkerKey, MARKER_TTL_MS } from './redis-cost-ledger';

/** Runs one command through a Redis class's executor (timeout, breaker, error mapping). */
export type RunCommand = <T>(
  operation: string,
  key: string | undefined,
  command: (client: RedisClientLike) => Promise<T>,
) => Promise<T>;

interface Batch {
  readonly id: string;
  readonly args: readonly string[];
  readonly deltas: ReadonlyMap<string, CacheCounters>;
}

/**
 * Sends a cache's counters to one Redis hash (`<prefix>:stats`, field `<method>|<counter>`) so every
 * instance adds to the same totals. Calls never wait on it: it reads the counters the cache keeps
 * anyway and sends what changed every `intervalMs` (unref'd timer), on `flush()` and on `close()`.
 * Each batch has an id and is applied at most once; a batch whose reply was lost is resent as it was.
 * Batches run the cost ledger's script, with markers in the hash's slot, so a Redis Cluster takes them;
 * each cache prefix has its own hash, so prefixes spread over the cluster.
 */
export class RedisStatsRecorder implements SharedCounters {
  /** The hash of the totals: `<prefix>:stats`. */
  readonly key: string;
  readonly #sent = new Map<string, CacheCounters>();
  #pending: Batch | undefined;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;

  /** @throws TypeError if `prefix` has a `}` outside a hash tag (batch markers could not share the hash's slot). */
  constructor(
    private readonly run: RunCommand,
    prefix: string,
    private readonly snapshot: () => ReadonlyMap<string, Readonly<CacheCounters>>,
    intervalMs: number,
  ) {
    this.key = `${prefix}:stats`;
    if (!canAnchor(this.key)) {
      throw optionError(
        'prefix',
        'a prefix without `}`, or one that holds a hash tag, when `sharedStats` is on',
        prefix,
      );
    }
    this.#timer = setInterval(() => void this.flush().catch(() => undefined), intervalMs);
    this.#timer.unref();
  }

  /** Sends everything counted so far; rejects when Redis does not take it (it is kept and resent later). */
  flush(): Promise<void> {
    return (this.#flushing ??= this.#flush().finally(() => (this.#flushing = undefined)));
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush().catch(() => undefined);
  }

  /** Totals per method from Redis, every instance included. */
  async totals(): Promise<Map<string, CacheCounters>> {
    const flat = await this.run('stats', this.key, (client) =>
      client.sendCommand<string[] | Record<string, string>>(['HGETALL', this.key], COMMAND_OPTIONS),
    );
    const pairs = Array.isArray(flat) ? pairsOf(flat) : Object.entries(flat);
    const totals = new Map<string, CacheCounters>();
    for (const [field, value] of pairs) {
      const bar = field.lastIndexOf('|');
      const method = field.slice(0, bar);
      const counter = field.slice(bar + 1) as keyof CacheCounters;
      let counters = totals.get(method);
      if (counters === undefined) totals.set(method, (counters = zeroLike()));
      if (counter in counters) counters[counter] = Number(value);
    }
    return totals;
  }

  async #flush(): Promise<void> {
    const batch = (this.#pending ??= this.#nextBatch());
    if (batch === undefined) return;
    await this.run('stats', this.key, (client) =>
      runLua(
        client,
        APPLY_LEDGER_BATCH,
        [this.key, batchMarkerKey(this.key, batch.id)],
        [String(MARKER_TTL_MS), ...batch.args],
      ),
    );
    for (const [method, delta] of batch.deltas) {
      const sent = this.#sent.get(method) ?? zeroLike();
      for (const name of Object.keys(delta) as (keyof CacheCounters)[]) sent[name] += delta[name];
      this.#sent.set(method, sent);
    }
    this.#pending = undefined;
  }

  /** What changed since the last batch Redis confirmed, or nothing. */
  #nextBatch(): Batch | undefined {
    const args: string[] = [];
    const deltas = new Map<string, CacheCounters>();
    for (const [method, counters] of this.snapshot()) {
      const sent = this.#sent.get(method);
      const delta = zeroLike();
      let changed = false;
      for (const name of Object.keys(delta) as (keyof CacheCounters)[]) {
        delta[name] = counters[name] - (sent?.[name] ?? 0);
        if (delta[name] !== 0) {
          changed = true;
          args.push(`${method}|${name}`, String(delta[name]));
        }
      }
      if (changed) deltas.set(method, delta);
    }
    return args.length === 0 ? undefined : { id: randomUUID(), args, deltas };
  }
}

/** Reads the figures {@link StoreInfo} lists from `INFO`. */
export async function readRedisInfo(run: RunCommand): Promise<StoreInfo> {
  const text = await run('info', undefined, (client) => client.sendCommand<string>(['INFO'], COMMAND_OPTIONS));
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  let keys = 0;
  for (const match of text.matchAll(/^db\d+:keys=(\d+)/gm)) keys += Number(match[1]);
  return {
    usedMemoryBytes: Number(field('used_memory')),
    connectedClients: Number(field('connected_clients')),
    totalCommandsProcessed: Number(field('total_commands_processed')),
    keys,
    version: field('redis_version'),
  };
}

function pairsOf(flat: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  return pairs;
}
