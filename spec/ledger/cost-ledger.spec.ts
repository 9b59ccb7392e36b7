import { MemoryCostLedger, NO_TENANT, decodeRowId, encodeRowId } from '../../lib/ledger/cost-ledger';
import { formatLedgerReport } from '../../lib/ledger/ledger-report';
import { PriceTable } from '../../lib/ledger/price-table';

const prices = new PriceTable({
  small: { inputPer1K: 0.00015, outputPer1K: 0.0006 },
  big: { inputPer1K: 0.0025, outputPer1K: 0.01 },
});
const usage = { promptTokens: 1000, completionTokens: 500 }; // big: 7_500_000 nano; small: 450_000 nano

describe('MemoryCostLedger', () => {
  it('counts spent money on fills and saved money on hits, exactly', async () => {
    const ledger = new MemoryCostLedger({ prices });
    ledger.recordFill({ namespace: 'chat', tenant: 'acme', model: 'big', usage });
    for (let i = 0; i < 3; i++) ledger.recordHit({ namespace: 'chat', tenant: 'acme', model: 'big', usage });
    const { rows, total } = await ledger.report();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      namespace: 'chat',
      tenant: 'acme',
      model: 'big',
      fills: 1,
      hits: 3,
      calls: 4,
      hitRate: 0.75,
      callsAvoided: 3,
      tokensSpent: 1500,
      tokensSaved: 4500,
      spentNanos: 7_500_000,
      savedNanos: 22_500_000,
      costSpent: 0.0075,
      costSaved: 0.0225,
      unpriced: 0,
    });
    expect(total).toMatchObject({ fills: 1, hits: 3, hitRate: 0.75, savedNanos: 22_500_000 });
  });

  it('keeps rows apart per namespace, tenant and model and sums them in total', async () => {
    const ledger = new MemoryCostLedger({ prices });
    ledger.recordFill({ namespace: 'chat', tenant: 'a', model: 'big', usage });
    ledger.recordHit({ namespace: 'chat', tenant: 'b', model: 'big', usage });
    ledger.recordHit({ namespace: 'chat', tenant: 'b', model: 'small', usage });
    ledger.recordHit({ namespace: 'search', tenant: 'a', model: 'small', usage });
    const report = await ledger.report();
    expect(report.rows.map((r) => `${r.namespace}/${r.tenant}/${r.model}:${r.fills}/${r.hits}`)).toEqual([
      'chat/a/big:1/0',
      'chat/b/big:0/1',
      'chat/b/small:0/1',
      'search/a/small:0/1',
    ]);
    expect(report.total).toMatchObject({
      fills: 1,
      hits: 3,
      hitRate: 0.75,
      spentNanos: 7_500_000,
      savedNanos: 7_500_000 + 2 * 450_000,
    });
  });

  it('filters a report by namespace, tenant and model', async () => {
    const ledger = new MemoryCostLedger({ prices });
    ledger.recordHit({ namespace: 'chat', tenant: 'a', model: 'big', usage });
    ledger.recordHit({ namespace: 'chat', tenant: 'b', model: 'small', usage });
    ledger.recordHit({ namespace: 'search', tenant: 'a', model: 'small', usage });
    expect((await ledger.report({ tenant: 'a' })).total.hits).toBe(2);
    expect((await ledger.report({ namespace: 'chat', model: 'small' })).rows.map((r) => r.tenant)).toEqual(['b']);
    expect((await ledger.report({ namespace: 'none' })).total).toMatchObject({ calls: 0, hitRate: 0, savedNanos: 0 });
  });

  it('records an unknown model with its tokens, at zero cost, counted as unpriced', async () => {
    const ledger = new MemoryCostLedger({ prices });
    ledger.recordFill({ namespace: 'chat', model: 'mystery', usage });
    ledger.recordHit({ namespace: 'chat', model: 'mystery', usage });
    const [row] = (await ledger.report()).rows;
    expect(row).toMatchObject({
      tenant: NO_TENANT,
      unpriced: 2,
      tokensSpent: 1500,
      tokensSaved: 1500,
      spentNanos: 0,
      savedNanos: 0,
    });
  });

  it('sums many small prices without floating-point drift', async () => {
    const ledger = new MemoryCostLedger({ prices });
    for (let i = 0; i < 10_000; i++)
      ledger.recordHit({ namespace: 'n', model: 'small', usage: { promptTokens: 1, completionTokens: 1 } });
    expect((await ledger.report()).total.savedNanos).toBe(10_000 * 750);
  });

  it("accepts OpenAI's usage shape", async () => {
    const ledger = new MemoryCostLedger({ prices });
    ledger.recordFill({ namespace: 'n', model: 'big', usage: { prompt_tokens: 1000, completion_tokens: 500 } });
    expect((await ledger.report()).total.spentNanos).toBe(7_500_000);
  });

  it('keeps names containing the separator unambiguous', () => {
    const id = { namespace: 'a|b', tenant: '%7C', model: 'm|' };
    expect(decodeRowId(encodeRowId(id))).toEqual(id);
  });

  it('formats a report as a table: a header, one line per row and a total', async () => {
    const ledger = new MemoryCostLedger({ prices });
    ledger.recordHit({ namespace: 'chat', tenant: 'a', model: 'big', usage });
    const lines = formatLedgerReport(await ledger.report()).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^chat \/ a \/ big /);
    expect(lines[2]).toMatch(/^TOTAL /);
    expect(lines[2]).toContain('$0.007500');
  });

  it('prints what the README promises: hit rate, calls avoided, tokens and dollars spent and saved', async () => {
    const ledger = new MemoryCostLedger({ prices });
    const entry = { namespace: 'chat', tenant: 'acme', model: 'big', usage }; // 1,000 + 500 tokens, $0.0075
    for (let i = 0; i < 2; i++) ledger.recordFill(entry);
    for (let i = 0; i < 9; i++) ledger.recordHit(entry);
    const [header, row] = formatLedgerReport(await ledger.report()).split('\n');
    const cells = (line: string | undefined) => line!.split(/ {2,}/);
    expect(cells(header)).toEqual([
      'namespace / tenant / model',
      'calls',
      'hit rate',
      'calls avoided',
      'tokens spent',
      'tokens saved',
      'spent',
      'saved',
    ]);
    expect(cells(row)).toEqual(['chat / acme / big', '11', '81.8%', '9', '3,000', '13,500', '$0.015000', '$0.067500']);
  });

  it('says how many calls were counted at $0 for want of a price', async () => {
    const ledger = new MemoryCostLedger({ prices });
    ledger.recordFill({ namespace: 'chat', tenant: 'a', model: 'unknown', usage });
    expect(
      formatLedgerReport(await ledger.report())
        .split('\n')
        .at(-1),
    ).toBe('1 call of models without a price counted at $0');
  });
});
