import type {
  LedgerCounters,
  LedgerFilter,
  LedgerReport,
  LedgerRow,
  LedgerRowId,
  LedgerTotals,
} from '../ports/cost-ledger';
import { formatUsd } from './price-table';

/** Counter names, in a fixed order (they are Redis hash field suffixes too, so renaming one loses history). */
export const LEDGER_METRICS = Object.freeze([
  'fills',
  'hits',
  'unpriced',
  'spentPromptTokens',
  'spentCompletionTokens',
  'savedPromptTokens',
  'savedCompletionTokens',
  'spentNanos',
  'savedNanos',
] as const satisfies readonly (keyof LedgerCounters)[]);

/** Fresh zeroed counters. */
export function emptyCounters(): LedgerCounters {
  return Object.fromEntries(LEDGER_METRICS.map((m) => [m, 0])) as unknown as LedgerCounters;
}

/** Adds `delta` into `target` (mutates it). */
export function addCounters(target: LedgerCounters, delta: Readonly<LedgerCounters>): void {
  for (const metric of LEDGER_METRICS) target[metric] += delta[metric];
}

function totalsOf(counters: Readonly<LedgerCounters>): LedgerTotals {
  const calls = counters.fills + counters.hits;
  return {
    ...counters,
    calls,
    hitRate: calls === 0 ? 0 : counters.hits / calls,
    callsAvoided: counters.hits,
    tokensSpent: counters.spentPromptTokens + counters.spentCompletionTokens,
    tokensSaved: counters.savedPromptTokens + counters.savedCompletionTokens,
    costSpent: counters.spentNanos / 1e9,
    costSaved: counters.savedNanos / 1e9,
  };
}

function encodeSortKey(id: LedgerRowId): string {
  return `${id.namespace}\u0000${id.tenant}\u0000${id.model}`;
}

function matches(id: LedgerRowId, filter: LedgerFilter): boolean {
  return (
    (filter.namespace === undefined || filter.namespace === id.namespace) &&
    (filter.tenant === undefined || filter.tenant === id.tenant) &&
    (filter.model === undefined || filter.model === id.model)
  );
}

/** Builds a report from rows of counters (any order), keeping those that match `filter`. */
export function buildReport(
  rows: Iterable<readonly [LedgerRowId, Readonly<LedgerCounters>]>,
  filter: LedgerFilter = {},
): LedgerReport {
  const kept: LedgerRow[] = [];
  const sum = emptyCounters();
  for (const [id, counters] of rows) {
    if (!matches(id, filter)) continue;
    addCounters(sum, counters);
    kept.push({ namespace: id.namespace, tenant: id.tenant, model: id.model, ...totalsOf(counters) });
  }
  // Code-unit order (not locale order), so reports are identical on every machine.
  const order = (r: LedgerRow) => encodeSortKey(r);
  kept.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return { rows: kept, total: totalsOf(sum) };
}

/** Columns of {@link formatLedgerReport}: header and cell of each. */
const COLUMNS: readonly (readonly [string, (t: LedgerTotals) => string])[] = [
  ['calls', (t) => grouped(t.calls)],
  ['hit rate', (t) => `${(t.hitRate * 100).toFixed(1)}%`],
  ['calls avoided', (t) => grouped(t.callsAvoided)],
  ['tokens spent', (t) => grouped(t.tokensSpent)],
  ['tokens saved', (t) => grouped(t.tokensSaved)],
  ['spent', (t) => formatUsd(t.spentNanos)],
  ['saved', (t) => formatUsd(t.savedNanos)],
];

/** Digits in groups of three (`13,500`), the same on every machine, whatever its locale. */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * A plain-text table of a report, for logs and the demo: a header, one line per (namespace, tenant,
 * model), and the total, each with calls, hit rate, calls avoided, tokens spent and saved, and dollars
 * spent and saved. A last line counts calls whose model had no price, when there were any.
 *
 * @example
 * console.log(formatLedgerReport(await ledger.report()));
 * // namespace / tenant / model  calls  hit rate  calls avoided  tokens spent  tokens saved      spent      saved
 * // chat / acme / gpt-4o-mini      11     81.8%              9         3,000        13,500  $0.000900  $0.004050
 * // TOTAL                          11     81.8%              9         3,000        13,500  $0.000900  $0.004050
 */
export function formatLedgerReport(report: LedgerReport): string {
  const lines: [string, LedgerTotals][] = [
    ...report.rows.map((r): [string, LedgerTotals] => [`${r.namespace} / ${r.tenant} / ${r.model}`, r]),
    ['TOTAL', report.total],
  ];
  const header = ['namespace / tenant / model', ...COLUMNS.map(([name]) => name)];
  const table = [header, ...lines.map(([label, totals]) => [label, ...COLUMNS.map(([, cell]) => cell(totals))])];
  const widths = header.map((_, i) => Math.max(...table.map((cells) => cells[i]!.length)));
  const text = table.map((cells) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '),
  );
  const unpriced = report.total.unpriced;
  if (unpriced > 0)
    text.push(`${grouped(unpriced)} ${unpriced === 1 ? 'call' : 'calls'} of models without a price counted at $0`);
  return text.join('\n');
}
