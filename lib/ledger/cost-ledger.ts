import type {
  CostLedger,
  LedgerCounters,
  LedgerEntry,
  LedgerFilter,
  LedgerReport,
  LedgerRowId,
} from '../ports/cost-ledger';
import { buildReport, emptyCounters, addCounters } from './ledger-report';
import { PriceTable, toTokenUsage } from './price-table';

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
  return {
    namespace: String(entry.namespace),
    tenant: entry.tenant === undefined ? NO_TENANT : String(entry.tenant),
    model: String(entry.model),
  };
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
    return buildReport(
      [...this.#rows.values()].map((r) => [r.id, r.counters] as const),
      filter,
    );
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
