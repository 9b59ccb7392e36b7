import {
  ILLUSTRATIVE_PRICES,
  PriceTable,
  UnknownModelError,
  formatUsd,
  isUnknownModelError,
  toTokenUsage,
} from '../../lib/ledger/price-table';

const prices = new PriceTable({
  small: { inputPer1K: 0.00015, outputPer1K: 0.0006 },
  big: { inputPer1K: 0.0025, outputPer1K: 0.01 },
});

describe('PriceTable', () => {
  it('prices usage in exact integer nano-dollars per 1K tokens', () => {
    expect(prices.priceOf('big', { promptTokens: 1000, completionTokens: 500 })).toEqual({
      inputNanos: 2_500_000,
      outputNanos: 5_000_000,
      totalNanos: 7_500_000,
      priced: true,
    });
    // 0.00015 $/1K is 150 nano-dollars per token: no floating-point residue.
    expect(prices.priceOf('small', { promptTokens: 7, completionTokens: 3 }).totalNanos).toBe(7 * 150 + 3 * 600);
  });

  it("accepts OpenAI's usage shape", () => {
    expect(prices.priceOf('big', { prompt_tokens: 1000, completion_tokens: 0 }).totalNanos).toBe(2_500_000);
  });

  it('costs an unknown model 0 with priced: false instead of throwing', () => {
    expect(prices.priceOf('gpt-4o-2024-08-06', { promptTokens: 1000, completionTokens: 1000 })).toEqual({
      inputNanos: 0,
      outputNanos: 0,
      totalNanos: 0,
      priced: false,
    });
  });

  it('require() throws a typed UnknownModelError naming the model', () => {
    expect(() => prices.require(['small', 'gpt-5'])).toThrow(UnknownModelError);
    const error = (() => {
      try {
        prices.require(['gpt-5']);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(isUnknownModelError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_CACHET_UNKNOWN_MODEL', model: 'gpt-5', known: 2 });
    expect(() => prices.require(['small', 'big'])).not.toThrow();
  });

  it('matches model names exactly, not by prefix', () => {
    expect(prices.has('big')).toBe(true);
    expect(prices.has('big-2024')).toBe(false);
  });

  it('defaults to the illustrative table', () => {
    expect(new PriceTable().models.sort()).toEqual(Object.keys(ILLUSTRATIVE_PRICES).sort());
  });

  it('rejects a negative or non-numeric price at construction', () => {
    expect(() => new PriceTable({ m: { inputPer1K: -1, outputPer1K: 0 } })).toThrow(
      'Expected `prices["m"].inputPer1K` to be a finite number >= 0, got `-1` (number)',
    );
    expect(() => new PriceTable({ m: { inputPer1K: 0, outputPer1K: '1' as unknown as number } })).toThrow(TypeError);
  });

  it('reads missing, negative or fractional token counts safely', () => {
    expect(toTokenUsage(undefined)).toEqual({ promptTokens: 0, completionTokens: 0 });
    expect(toTokenUsage({ promptTokens: -5, completionTokens: 2.9 })).toEqual({ promptTokens: 0, completionTokens: 2 });
  });

  it('formats nano-dollars as dollars with 6 decimals', () => {
    expect(formatUsd(7_500_000)).toBe('$0.007500');
    expect(formatUsd(12_345_678_901)).toBe('$12.345679');
  });
});
