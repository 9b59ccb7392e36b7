import { buildReport, emptyCounters, addCounters, type LedgerCounters, type LedgerFilter, type LedgerReport, type LedgerRowId } from './ledger-report';
import { PriceTable, toTokenUsage, type UsageLike } from './price-table';

/** One call to record. */
export interface LedgerEntry {
  /** The cache namespace (or any grouping you choose). */
  readonly namespace: string;
  /** Who the call was made for. @default '-' */
  readonly tenant?: string;
  /** The model name, as the price table spells it. */
  readonly model: string;
  /** The call's token usage; on a hit, the usage of the cached answer (what calling again would have cost). */
  readonly usage: UsageLike;
}

/**
 * Records what model calls cost and what the cache saved, per namespace, tenant and model.
 * `recordFill` and `recordHit` are synchronous and never throw or wait on I/O, so they can sit on the
 * path of every call. Implementations: {@link MemoryCostLedger} (one process) and `RedisCostLedger`
 * (every instance adds to the same totals).
 *
 * @example
 * ledger.recordFill({ namespace: 'chat', tenant: 'acme', model: 'gpt-4o-mini', usage: response.usage });
 * const { total } = await ledger.report();
 * console.log(`${(total.hitRate * 100).toFixed(1)}% hits, ${total.callsAvoided} calls avoided, $${total.costSaved} saved`);
 */
export interface CostLedger {
  readonly prices: PriceTable;
  /** A miss: the provider was called and its usage is money spent. */
  recordFill(entry: LedgerEntry): void;
  /** A hit: the cached answer's usage, priced as if the provider had been called, is money saved. */
  recordHit(entry: LedgerEntry): void;
  /** Resolves when everything recorded so far is stored where `report()` reads it. */
  flush(): Promise<void>;
  /** Totals per (namespace, tenant, model) matching `filter`, and their sum. */
  report(filter?: LedgerFilter): Promise<LedgerReport>;
  /** Flushes, then releases timers and connections. */
  close(): Promise<void>;
}

/** The tenant recorded when an entry has none. */
export const NO_TENANT = '-';

// `|` separates the parts of a row key (and Redis field names); escaping `%` and `|` keeps it unambiguous
// whatever characters a tenant or model name holds.
const escapePart = (part: string) => part.replace(/%/g, '%25').replace(/\|/g, '%7C');
const unescapePart = (part: string) => part.replace(/%7C/g, '|').replace(/%25/g, '%');

/** `namespace|tenant|model`, each part escaped. */
export function encodeRowId(id: LedgerRowId): string {
  return `${escapePart(id.namespace)}|${escapePart(id.tenant)}|${escapePart(id.model)}`;
}

/** Inverse of {@link encodeRowId}; `undefined` for a string that is not one. */
export function decodeRowId(key: string): LedgerRowId | undefined {
  const parts = key.split('|');
  if (parts.length !== 3) return undefined;
  const [namespace, tenant, model] = parts.map(unescapePart) as [string, string, string];
  return { namespace, tenant, model };
}

/** The row an entry belongs to (tenant defaulted; non-strings coerced, since recording must not throw). */
export function rowIdOf(entry: LedgerEntry): LedgerRowId {
  return { namespace: String(entry.namespace), tenant: entry.tenant === undefined ? NO_TENANT : String(entry.tenant), model: String(entry.model) };
}

/** The counter increments one recorded call makes. */
export function countEntry(kind: 'fill' | 'hit', entry: LedgerEntry, prices: PriceTable): LedgerCounters {
  const usage = toTokenUsage(entry.usage);
  const cost = prices.priceOf(String(entry.model), usage);
  const delta = emptyCounters();
  delta.unpriced = cost.priced ? 0 : 1;
  if (kind === 'fill') {
    delta.fills = 1;
    delta.spentPromptTokens = usage.promptTokens;
    delta.spentCompletionTokens = usage.completionTokens;
    delta.spentNanos = cost.totalNanos;
  } else {
    delta.hits = 1;
    delta.savedPromptTokens = usage.promptTokens;
    delta.savedCompletionTokens = usage.completionTokens;
    delta.savedNanos = cost.totalNanos;
  }
  return delta;
}

/** Options of {@link MemoryCostLedger}. */
export interface MemoryCostLedgerOptions {
  /** Prices used to value usage. @default new PriceTable() (illustrative prices) */
  readonly prices?: PriceTable;
}

/**
 * A {@link CostLedger} in this process's memory: exact, immediate, and gone when the process ends.
 * Memory grows with the number of distinct (namespace, tenant, model) rows, not with calls.
 *
 * @example
 * const ledger = new MemoryCostLedger({ prices: new PriceTable({ 'm': { inputPer1K: 0.001, outputPer1K: 0.002 } }) });
 * ledger.recordHit({ namespace: 'chat', model: 'm', usage: { promptTokens: 1000, completionTokens: 0 } });
 * (await ledger.report()).total.savedNanos; // 1_000_000 (= $0.001)
 */
export class MemoryCostLedger implements CostLedger {
  readonly prices: PriceTable;
  readonly #rows = new Map<string, { id: LedgerRowId; counters: LedgerCounters }>();

  constructor(options: MemoryCostLedgerOptions = {}) {
    this.prices = options.prices ?? new PriceTable();
  }

  recordFill(entry: LedgerEntry): void {
    this.#add('fill', entry);
  }

  recordHit(entry: LedgerEntry): void {
    this.#add('hit', entry);
  }

  async flush(): Promise<void> {}

  async report(filter?: LedgerFilter): Promise<LedgerReport> {
    return buildReport([...this.#rows.values()].map((r) => [r.id, r.counters] as const), filter);
  }

  async close(): Promise<void> {}

  #add(kind: 'fill' | 'hit', entry: LedgerEntry): void {
    const id = rowIdOf(entry);
    const key = encodeRowId(id);
    let row = this.#rows.get(key);
    if (row === undefined) this.#rows.set(key, (row = { id, counters: emptyCounters() }));
    addCounters(row.counters, countEntry(kind, entry, this.prices));
  }
}
