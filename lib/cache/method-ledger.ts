import type { Emitter } from '../core/events';
import type { CostLedger } from '../ports/cost-ledger';
import type { UsageLike } from '../ports/cost-ledger';
import type { CacheEvents } from './cache-events';

/** What one call cost, as a `usage` function reports it; see {@link CachedOptions.usage}. */
export interface CallUsage {
  /** The model, as the ledger's price table spells it. */
  readonly model: string;
  /** Tokens, in cachet's or OpenAI's shape. */
  readonly usage: UsageLike;
  /** Who the call was made for. @default '-' */
  readonly tenant?: string;
}

/**
 * Reads a call's usage from its result (for a stream method, the array of chunks), called with the
 * method's `this` and arguments. `undefined` records nothing.
 */
export type UsageFunction = (this: any, result: any, ...args: any[]) => CallUsage | undefined;

/**
 * Records one cached method's fills and hits in a {@link CostLedger}. Recording is synchronous and never
 * throws into the call: a `usage` function that fails is reported as an `error` event (operation `ledger`).
 */
export class MethodLedger {
  constructor(
    private readonly ledger: CostLedger,
    private readonly usage: UsageFunction,
    private readonly namespace: string,
    private readonly method: string,
    private readonly events: Emitter<CacheEvents>,
  ) {}

  /** `fill`: the method ran and its usage was spent. `hit`: a cached result saved that usage. */
  record(kind: 'fill' | 'hit', result: unknown, self: unknown, args: readonly unknown[], key: string): void {
    try {
      const call = this.usage.call(self, result, ...args);
      if (call === undefined) return;
      const entry = { namespace: this.namespace, tenant: call.tenant, model: call.model, usage: call.usage };
      if (kind === 'fill') this.ledger.recordFill(entry);
      else this.ledger.recordHit(entry);
    } catch (error) {
      if (this.events.has('error')) this.events.emit('error', { method: this.method, key, operation: 'ledger', error });
    }
  }
}
