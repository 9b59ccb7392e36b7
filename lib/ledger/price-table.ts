import type { TokenUsage, UsageLike } from '../ports/cost-ledger';
import { CachetError } from '../core/errors';
import { assertNonNegativeNumber, assertPlainObject } from '../core/validate';

/** Price of one model, in US dollars per 1,000 tokens. */
export interface ModelPrice {
  /** Dollars per 1K prompt (input) tokens, >= 0. */
  readonly inputPer1K: number;
  /** Dollars per 1K completion (output) tokens, >= 0. */
  readonly outputPer1K: number;
}

/**
 * What a call costs, in integer nano-dollars (1e-9 USD) so that sums stay exact: a price of
 * `$0.00015` per 1K tokens is exactly 150 nano-dollars per token, and summing millions of calls in
 * floating-point dollars would drift.
 */
export interface CallCost {
  readonly inputNanos: number;
  readonly outputNanos: number;
  readonly totalNanos: number;
  /** `false` when the model is not in the table: the cost is then 0, and the ledger counts the call as unpriced. */
  readonly priced: boolean;
}

/**
 * ILLUSTRATIVE prices only (USD per 1K tokens, roughly public list prices at the time of writing). They
 * go stale; pass your own table to {@link PriceTable} for figures you report to anyone.
 */
export const ILLUSTRATIVE_PRICES = Object.freeze({
  'gpt-4o': { inputPer1K: 0.0025, outputPer1K: 0.01 },
  'gpt-4o-mini': { inputPer1K: 0.00015, outputPer1K: 0.0006 },
  'gpt-4.1': { inputPer1K: 0.002, outputPer1K: 0.008 },
  'gpt-4.1-mini': { inputPer1K: 0.0004, outputPer1K: 0.0016 },
  'claude-3-5-sonnet': { inputPer1K: 0.003, outputPer1K: 0.015 },
  'claude-3-5-haiku': { inputPer1K: 0.0008, outputPer1K: 0.004 },
} satisfies Record<string, ModelPrice>);

/** A model asked of {@link PriceTable.require} has no price. */
export class UnknownModelError extends CachetError {
  readonly code = 'ERR_CACHET_UNKNOWN_MODEL';

  constructor(
    /** The model name that has no entry. */
    readonly model: string,
    /** How many models the table does know. */
    readonly known: number,
  ) {
    super(`No price for model "${model}" (the price table knows ${known} models); add it to the PriceTable`);
  }
}

/** Whether `error` is an {@link UnknownModelError}. */
export function isUnknownModelError(error: unknown): error is UnknownModelError {
  return error instanceof UnknownModelError;
}

/** Normalises either usage shape; missing or invalid counts read as 0 so a ledger never throws on a caller's path. */
export function toTokenUsage(usage: UsageLike | undefined): TokenUsage {
  const raw = (usage ?? {}) as Record<string, unknown>;
  const count = (value: unknown) =>
    typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
  return {
    promptTokens: count(raw.promptTokens ?? raw.prompt_tokens),
    completionTokens: count(raw.completionTokens ?? raw.completion_tokens),
  };
}

/** Dollars per 1K tokens -> integer nano-dollars per token (1e9 / 1e3 = 1e6); rounds below a nano-dollar. */
function nanosPerToken(dollarsPer1K: number): number {
  return Math.round(dollarsPer1K * 1e6);
}

/**
 * Per-model prices. Model names match exactly (`gpt-4o-2024-08-06` is not `gpt-4o`: dated snapshots can
 * be priced differently, and a prefix match would price `gpt-4o-mini` as `gpt-4o` if the former were
 * missing). An unknown model costs 0 with `priced: false` rather than throwing, because pricing runs on
 * the path of every cached call; call {@link PriceTable.require} at start-up to fail fast instead.
 *
 * @default prices {@link ILLUSTRATIVE_PRICES}
 * @example
 * const prices = new PriceTable({ 'my-model': { inputPer1K: 0.001, outputPer1K: 0.002 } });
 * prices.require(['my-model']); // throws UnknownModelError for a model with no price
 * prices.priceOf('my-model', { promptTokens: 1000, completionTokens: 500 }).totalNanos; // 2_000_000 (= $0.002)
 */
export class PriceTable {
  readonly #perToken = new Map<string, { input: number; output: number }>();

  /** @throws TypeError when a price is negative or not a number. */
  constructor(prices: Readonly<Record<string, ModelPrice>> = ILLUSTRATIVE_PRICES) {
    assertPlainObject('prices', prices);
    for (const [model, price] of Object.entries(prices)) {
      assertPlainObject(`prices["${model}"]`, price);
      assertNonNegativeNumber(`prices["${model}"].inputPer1K`, price.inputPer1K);
      assertNonNegativeNumber(`prices["${model}"].outputPer1K`, price.outputPer1K);
      this.#perToken.set(model, { input: nanosPerToken(price.inputPer1K), output: nanosPerToken(price.outputPer1K) });
    }
  }

  /** The models this table prices. */
  get models(): string[] {
    return [...this.#perToken.keys()];
  }

  /** Whether `model` has a price. */
  has(model: string): boolean {
    return this.#perToken.has(model);
  }

  /** @throws UnknownModelError for the first of `models` that has no price. */
  require(models: Iterable<string>): void {
    for (const model of models) if (!this.#perToken.has(model)) throw new UnknownModelError(model, this.#perToken.size);
  }

  /** What `usage` costs on `model`, in integer nano-dollars; zero with `priced: false` for an unknown model. */
  priceOf(model: string, usage: UsageLike): CallCost {
    const price = this.#perToken.get(model);
    if (price === undefined) return { inputNanos: 0, outputNanos: 0, totalNanos: 0, priced: false };
    const { promptTokens, completionTokens } = toTokenUsage(usage);
    const inputNanos = promptTokens * price.input;
    const outputNanos = completionTokens * price.output;
    return { inputNanos, outputNanos, totalNanos: inputNanos + outputNanos, priced: true };
  }
}

/** Formats nano-dollars as dollars, e.g. `formatUsd(2_500_000)` → `"$0.002500"` (6 decimals: sub-cent LLM costs stay visible). */
export function formatUsd(nanos: number): string {
  return `$${(nanos / 1e9).toFixed(6)}`;
}
