import { randomUUID } from 'node:crypto';
import { parseDuration, type Duration } from '../core/duration';
import { assertKnownOptions, assertPositiveInteger, withDefaults } from '../core/validate';
import { countEntry, decodeRowId, encodeRowId, rowIdOf } from '../ledger/cost-ledger';
import { type CostLedger, type LedgerEntry } from '../ports/cost-ledger';
import { addCounters, buildReport, emptyCounters, LEDGER_METRICS } from '../ledger/ledger-report';
import { type LedgerCounters, type LedgerFilter, type LedgerReport, type LedgerRowId } from '../ports/cost-ledger';
import { PriceTable } from '../ledger/price-table';
import { assertAnchorKeyPart, companionKey } from './hash-tag';
import { defineLua, runLua } from './lua';
import { CONNECTION_OPTIONS, RedisExecutor, type RedisConnectionOptions } from './redis-executor';

/**
 * Adds one batch of counter increments to the totals hash, at most once per batch id.
 * KEYS[1] totals hash; KEYS[2] the batch's marker key ({@link batchMarkerKey}, in the totals' hash slot).
 * ARGV[1] marker TTL (ms); then field, increment pairs.
 * Why the marker: if Redis applied a batch but the reply was lost (timeout, dropped connection), the
 * ledger retries the same batch; the marker makes that retry a no-op instead of counting twice.
 */
export const APPLY_LEDGER_BATCH = defineLua(
  'apply-ledger-batch',
  `if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 0 end
for i = 2, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1`,
);

/** How long a batch marker lives: a retry later than this (a day of outage) could count a batch twice. */
export const MARKER_TTL_MS = 86_400_000;

/**
 * The marker of one batch applied to the totals hash `totalsKey`: `{<totalsKey>}:batch:<id>`, which a Redis
 * Cluster puts in the totals' slot (see `hash-tag.ts`), so the one script can touch both.
 */
export function batchMarkerKey(totalsKey: string, batchId: string): string {
  return companionKey(totalsKey, `:batch:${batchId}`);
}

/**
 * Options of {@link RedisCostLedger}: the connection options every Redis class shares (`url` or `client`;
 * `operationTimeout` is how long one flush may take before it counts as failed and is retried later,
 * `'2s'` by default), plus the below.
 */
export interface RedisCostLedgerOptions extends RedisConnectionOptions {
  /** Prices used to value usage. @default new PriceTable() (illustrative prices) */
  readonly prices?: PriceTable;
  /**
   * The Redis hash holding the totals (fields `namespace|tenant|model|metric`). Batch markers are named
   * `{<key>}:batch:<id>`, which a Redis Cluster keeps in the key's hash slot. No `}`, unless the key holds
   * a hash tag (`{cachet}:ledger`, whose markers are then `{cachet}:ledger:batch:<id>`). The default lies
   * outside every cache's prefix, so that `cache.clear()` leaves the totals alone.
   * @default 'cachet-ledger'
   */
  readonly key?: string;
  /** How often recorded counts are sent to Redis, ms or a duration string. @default '1s' */
  readonly flushInterval?: Duration;
  /**
   * Bound on distinct (namespace, tenant, model) rows held in memory while Redis is unreachable. Counts
   * for a row already held are always kept (they only add to it); a record that would add a row past
   * the bound is dropped and counted in {@link RedisCostLedger.dropped}. With the one unconfirmed batch
   * awaiting its retry, at most twice this many rows are held. Positive integer.
   * @default 10_000
   */
  readonly maxPendingRows?: number;
}

const DEFAULTS = {
  key: 'cachet-ledger',
  flushInterval: '1s',
  maxPendingRows: 10_000,
} as const satisfies Partial<RedisCostLedgerOptions>;

const KNOWN = [...CONNECTION_OPTIONS, 'prices', ...Object.keys(DEFAULTS)] as const;

type Row = { id: LedgerRowId; counters: LedgerCounters };

/**
 * A {@link CostLedger} whose totals live in one Redis hash, so every instance adds to the same figures.
 * Recording only adds to an in-memory batch (a hit never waits on Redis); the batch is sent every
 * `flushInterval` (unref'd timer) and on `flush()`/`close()`, as one Lua script of `HINCRBY`s that is
 * atomic and applied at most once. When Redis is down the batch is kept and retried; new counts keep
 * aggregating per row (memory bounded by `maxPendingRows`). On a Redis Cluster (a `createCluster()`
 * client) the script's two keys share one hash slot ({@link batchMarkerKey}).
 *
 * @example
 * const ledger = new RedisCostLedger({ url: 'redis://localhost:6379', prices: new PriceTable(myPrices) });
 * ledger.recordHit({ namespace: 'chat', tenant: 'acme', model: 'gpt-4o-mini', usage: cached.usage });
 * console.log(formatLedgerReport(await ledger.report()));
 * await ledger.close();
 */
export class RedisCostLedger implements CostLedger {
  readonly prices: PriceTable;
  readonly #connection: RedisExecutor;
  readonly #key: string;
  readonly #maxPendingRows: number;
  readonly #timer: ReturnType<typeof setInterval>;
  #pending = new Map<string, Row>();
  // A batch that was sent but not confirmed: retried as-is (same id) so it counts exactly once.
  #unconfirmed: { id: string; args: string[] } | undefined;
  #chain: Promise<void> = Promise.resolve();
  #dropped = 0;
  #closed = false;

  /** @throws TypeError for an unknown or invalid option. */
  constructor(options: RedisCostLedgerOptions) {
    assertKnownOptions('RedisCostLedger', options, KNOWN);
    const resolved = withDefaults(DEFAULTS, options);
    assertAnchorKeyPart('key', resolved.key);
    assertPositiveInteger('maxPendingRows', resolved.maxPendingRows);
    const interval = parseDuration('flushInterval', resolved.flushInterval);
    this.prices = resolved.prices ?? new PriceTable();
    this.#key = resolved.key;
    this.#maxPendingRows = resolved.maxPendingRows;
    this.#connection = new RedisExecutor(options, { operationTimeout: '2s', owner: 'RedisCostLedger' });
    this.#timer = setInterval(() => this.flush().catch(() => {}), interval);
    this.#timer.unref();
  }

  /** Records dropped: because `maxPendingRows` was reached while Redis was unreachable, or made after `close()`. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Rows recorded here and not yet confirmed by Redis. */
  get pendingRows(): number {
    return this.#pending.size + (this.#unconfirmed === undefined ? 0 : 1);
  }

  recordFill(entry: LedgerEntry): void {
    this.#add('fill', entry);
  }

  recordHit(entry: LedgerEntry): void {
    this.#add('hit', entry);
  }

  /** Sends what was recorded so far. Rejects with a `StoreError` if Redis fails; the counts are kept for the next try. */
  flush(): Promise<void> {
    // One flush at a time, in order: a second caller waits for the first, then sends what came since.
    const run = this.#chain.then(() => this.#flushNow());
    this.#chain = run.catch(() => {});
    return run;
  }

  /**
   * Flushes, then reads the totals of every instance from Redis (one `HGETALL`: 9 fields per row, so keep
   * the number of rows in the thousands, not millions). Rejects with a `StoreError` if Redis fails.
   */
  async report(filter?: LedgerFilter): Promise<LedgerReport> {
    await this.flush();
    const flat = await this.#connection.run('ledger-report', this.#key, (c) =>
      c.sendCommand<string[] | Map<string, string> | Record<string, string>>(['HGETALL', this.#key]),
    );
    // RESP2 answers a flat array; a RESP3 client may answer a map or an object.
    const entries = Array.isArray(flat) ? pairs(flat) : flat instanceof Map ? [...flat] : Object.entries(flat);
    const rows = new Map<string, Row>();
    for (const [field, value] of entries) {
      const cut = field.lastIndexOf('|');
      const id = decodeRowId(field.slice(0, cut));
      const metric = field.slice(cut + 1) as keyof LedgerCounters;
      if (id === undefined || !LEDGER_METRICS.includes(metric)) continue;
      const rowKey = field.slice(0, cut);
      let row = rows.get(rowKey);
      if (row === undefined) rows.set(rowKey, (row = { id, counters: emptyCounters() }));
      row.counters[metric] += Number(value);
    }
    return buildReport(
      [...rows.values()].map((r) => [r.id, r.counters] as const),
      filter,
    );
  }

  /**
   * Stops the timer, flushes and closes the connection it opened. If the final flush fails the error is
   * thrown after closing, so counts still held (see {@link pendingRows}) are never lost silently.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    let failure: unknown;
    await this.flush().catch((error: unknown) => (failure = error));
    await this.#connection.close();
    if (failure !== undefined) throw failure;
  }

  #add(kind: 'fill' | 'hit', entry: LedgerEntry): void {
    if (this.#closed) {
      // Nothing would ever flush it: count it rather than hold it silently.
      this.#dropped++;
      return;
    }
    const id = rowIdOf(entry);
    const key = encodeRowId(id);
    let row = this.#pending.get(key);
    if (row === undefined) {
      if (this.#pending.size >= this.#maxPendingRows) {
        this.#dropped++;
        return;
      }
      this.#pending.set(key, (row = { id, counters: emptyCounters() }));
    }
    addCounters(row.counters, countEntry(kind, entry, this.prices));
  }

  async #flushNow(): Promise<void> {
    if (this.#unconfirmed !== undefined) await this.#send(this.#unconfirmed);
    if (this.#pending.size === 0) return;
    const args: string[] = [];
    for (const [rowKey, { counters }] of this.#pending) {
      for (const metric of LEDGER_METRICS)
        if (counters[metric] !== 0) args.push(`${rowKey}|${metric}`, String(counters[metric]));
    }
    this.#pending = new Map();
    this.#unconfirmed = { id: randomUUID(), args };
    await this.#send(this.#unconfirmed);
  }

  async #send(batch: { id: string; args: string[] }): Promise<void> {
    await this.#connection.run('ledger-flush', this.#key, (c) =>
      runLua(
        c,
        APPLY_LEDGER_BATCH,
        [this.#key, batchMarkerKey(this.#key, batch.id)],
        [String(MARKER_TTL_MS), ...batch.args],
      ),
    );
    this.#unconfirmed = undefined;
  }
}

function pairs(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
