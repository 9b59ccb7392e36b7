/**
 * The cost ledger's port: what the cache records into, and the report it reads back.
 * Implementations: `MemoryCostLedger` (lib/ledger) and `RedisCostLedger` (lib/redis).
 */

/** Token usage of one call, in cachet's shape. */
export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** Token usage as cachet's {@link TokenUsage} or as OpenAI's `usage` object (`prompt_tokens`, `completion_tokens`). */
export type UsageLike = TokenUsage | { readonly prompt_tokens: number; readonly completion_tokens: number };

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
 * path of every call. Implementations: `MemoryCostLedger` (one process) and `RedisCostLedger`
 * (every instance adds to the same totals).
 *
 * @example
 * ledger.recordFill({ namespace: 'chat', tenant: 'acme', model: 'gpt-4o-mini', usage: response.usage });
 * const { total } = await ledger.report();
 * console.log(`${(total.hitRate * 100).toFixed(1)}% hits, ${total.callsAvoided} calls avoided, $${total.costSaved} saved`);
 */
export interface CostLedger {
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

/** The counters a ledger keeps per (namespace, tenant, model). Money is integer nano-dollars (1e-9 USD). */
export interface LedgerCounters {
  /** Misses: the provider was called. */
  fills: number;
  /** Hits: a cached answer was served and the provider was not called. */
  hits: number;
  /** Calls whose model had no price (counted, costed at 0). */
  unpriced: number;
  spentPromptTokens: number;
  spentCompletionTokens: number;
  savedPromptTokens: number;
  savedCompletionTokens: number;
  spentNanos: number;
  savedNanos: number;
}

/** Identifies a ledger row. */
export interface LedgerRowId {
  readonly namespace: string;
  readonly tenant: string;
  readonly model: string;
}

/** One row of {@link LedgerReport}: the totals of one (namespace, tenant, model), or of everything. */
export interface LedgerTotals extends Readonly<LedgerCounters> {
  /** fills + hits. */
  readonly calls: number;
  /** hits / calls, 0 when there were no calls. */
  readonly hitRate: number;
  /** Provider calls the cache avoided (= hits). */
  readonly callsAvoided: number;
  /** Prompt + completion tokens paid for on fills. */
  readonly tokensSpent: number;
  /** Prompt + completion tokens of the cached answers served on hits. */
  readonly tokensSaved: number;
  /** Dollars spent on fills (display value; `spentNanos` is exact). */
  readonly costSpent: number;
  /** Dollars saved by hits (display value; `savedNanos` is exact). */
  readonly costSaved: number;
}

/** One (namespace, tenant, model) row of a {@link LedgerReport}. */
export type LedgerRow = LedgerRowId & LedgerTotals;

/** Which rows a report covers; every given field must match exactly. */
export interface LedgerFilter {
  readonly namespace?: string;
  readonly tenant?: string;
  readonly model?: string;
}

/** What `ledger.report()` returns: rows sorted by namespace, tenant, model, and their sum. */
export interface LedgerReport {
  readonly rows: readonly LedgerRow[];
  readonly total: LedgerTotals;
}
