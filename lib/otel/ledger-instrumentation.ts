import type { Attributes, BatchObservableCallback } from '@opentelemetry/api';
import type { CostLedger, LedgerCounters, LedgerRow } from '../ports/cost-ledger';
import { ATTRIBUTES, GEN_AI, METRICS } from './names';
import { assertOtelOptions, assertShape, meterOf, type OtelOptions } from './otel-options';
import { optionError } from '../core/validate';

/** Options of {@link instrumentLedger}. */
export interface LedgerInstrumentationOptions extends OtelOptions {
  /** Split the figures by tenant too (`cachet.tenant`): one series per tenant and model. @default false */
  readonly byTenant?: boolean;
}

/**
 * Reports what a {@link CostLedger} recorded, read with `ledger.report()` each time the meter collects:
 * calls (`cachet.ledger.calls`), tokens (`cachet.ledger.tokens`, by `gen_ai.token.type`) and dollars
 * (`cachet.ledger.cost`), each spent by fills or saved by hits (`cachet.ledger.kind`), by namespace and
 * model. With a `RedisCostLedger` the figures are every process's. Returns a function that stops reporting.
 * @example
 * const stop = instrumentLedger(ledger, { meterProvider });
 */
export function instrumentLedger(ledger: CostLedger, options: LedgerInstrumentationOptions = {}): () => void {
  assertShape('ledger', ledger, 'a CostLedger (MemoryCostLedger, RedisCostLedger)', ['report', 'recordFill']);
  assertOtelOptions('instrumentLedger', options, ['byTenant']);
  if (options.byTenant !== undefined && typeof options.byTenant !== 'boolean')
    throw optionError('byTenant', 'a boolean', options.byTenant);
  const meter = meterOf(options);
  const calls = meter.createObservableCounter(METRICS.ledgerCalls, {
    description: 'Model calls made by fills (spent) and avoided by hits (saved)',
    unit: '{call}',
  });
  const tokens = meter.createObservableCounter(METRICS.ledgerTokens, {
    description: 'Tokens spent by fills and saved by hits',
    unit: '{token}',
  });
  const cost = meter.createObservableCounter(METRICS.ledgerCost, {
    description: 'Dollars spent by fills and saved by hits (priced models only)',
    unit: '{USD}',
  });
  const observe: BatchObservableCallback = async (result) => {
    for (const [attributes, row] of group((await ledger.report()).rows, options.byTenant === true)) {
      const spent = { ...attributes, [ATTRIBUTES.ledgerKind]: 'spent' };
      const saved = { ...attributes, [ATTRIBUTES.ledgerKind]: 'saved' };
      result.observe(calls, row.fills, spent);
      result.observe(calls, row.hits, saved);
      result.observe(tokens, row.spentPromptTokens, { ...spent, [GEN_AI.tokenType]: 'input' });
      result.observe(tokens, row.spentCompletionTokens, { ...spent, [GEN_AI.tokenType]: 'output' });
      result.observe(tokens, row.savedPromptTokens, { ...saved, [GEN_AI.tokenType]: 'input' });
      result.observe(tokens, row.savedCompletionTokens, { ...saved, [GEN_AI.tokenType]: 'output' });
      result.observe(cost, row.spentNanos / 1e9, spent);
      result.observe(cost, row.savedNanos / 1e9, saved);
    }
  };
  meter.addBatchObservableCallback(observe, [calls, tokens, cost]);
  return () => meter.removeBatchObservableCallback(observe, [calls, tokens, cost]);
}

type Sums = Omit<LedgerCounters, 'unpriced'>;

/** The rows summed per namespace and model (and tenant, with `byTenant`). */
function group(rows: readonly LedgerRow[], byTenant: boolean): [Attributes, Sums][] {
  const groups = new Map<string, [Attributes, Sums]>();
  for (const row of rows) {
    const attributes: Attributes = { [ATTRIBUTES.namespace]: row.namespace, [GEN_AI.requestModel]: row.model };
    if (byTenant) attributes[ATTRIBUTES.tenant] = row.tenant;
    const id = JSON.stringify(attributes);
    let sums = groups.get(id)?.[1];
    if (sums === undefined) {
      sums = {
        fills: 0,
        hits: 0,
        spentPromptTokens: 0,
        spentCompletionTokens: 0,
        savedPromptTokens: 0,
        savedCompletionTokens: 0,
        spentNanos: 0,
        savedNanos: 0,
      };
      groups.set(id, [attributes, sums]);
    }
    for (const name of Object.keys(sums) as (keyof Sums)[]) sums[name] += row[name];
  }
  return [...groups.values()];
}
