import type { Result, Scenario, Target } from './scenario';

/** A plain-text table; `align` has one letter per column, `l` or `r`. */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: string,
  indent = '  ',
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    indent +
    cells
      .map((cell, i) => (align[i] === 'r' ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(header), indent + widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatNumber(value: number, unit: string): string {
  if (!Number.isFinite(value)) return String(value);
  if (unit === 'ops/s' || unit === 'calls' || unit === 'modules') return Math.round(value).toLocaleString('en-US');
  if (value >= 1_000) return Math.round(value).toLocaleString('en-US');
  if (value >= 100) return value.toFixed(0);
  // Scores and shares (nDCG, recall) live in [0, 1], where one decimal says nothing.
  if (value < 1 || unit === 'share') return value.toFixed(3);
  return value.toFixed(1);
}

export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return '-';
  if (ratio < 0.01) return `${ratio.toPrecision(1)}x`;
  return ratio >= 100 ? `${ratio.toFixed(0)}x` : ratio >= 10 ? `${ratio.toFixed(1)}x` : `${ratio.toFixed(2)}x`;
}

export function formatTarget(target: Target | undefined, unit: string): string {
  if (target === undefined) return 'info';
  const op = target.op === '<=' ? '≤' : target.op === '>=' ? '≥' : '=';
  // `= 1 call`, not `= 1 calls`.
  const units = target.value === 1 ? unit.replace(/s$/, '') : unit;
  return target.on === 'ratio' ? `ratio ${op} ${target.value}x` : `${op} ${target.value} ${units}`;
}

export const status = (r: Result): string => (r.pass === undefined ? '' : r.pass ? 'PASS' : 'MISS');

const CASE_HEADER = ['case', 'unit', 'ours', 'baseline', 'ratio', 'target', ''];
const CASE_ALIGN = 'llrrrll';

function caseCells(r: Result): string[] {
  return [
    r.case,
    r.unit,
    formatNumber(r.ours, r.unit),
    formatNumber(r.baseline, r.unit),
    formatRatio(r.ratio),
    formatTarget(r.target, r.unit),
    status(r),
  ];
}

export function printScenarioStart(s: Scenario): void {
  console.log(`\n▸ ${s.name}: ${s.measures}`);
  console.log(`  baseline: ${s.baseline}`);
}

export function printScenarioResults(results: readonly Result[]): void {
  console.log(table(CASE_HEADER, results.map(caseCells), CASE_ALIGN));
  const notes = results.filter((r) => r.note !== undefined);
  for (const r of notes) console.log(`    · ${r.case}: ${r.note}`);
}

export function printSummary(results: readonly Result[], failures: readonly string[]): void {
  console.log('\n══ summary ' + '═'.repeat(60));
  console.log(
    table(
      ['scenario', ...CASE_HEADER],
      results.map((r) => [r.scenario, ...caseCells(r)]),
      'l' + CASE_ALIGN,
    ),
  );
  const judged = results.filter((r) => r.pass !== undefined);
  const met = judged.filter((r) => r.pass).length;
  console.log(
    `\n  targets met: ${met} of ${judged.length}` +
      (met < judged.length
        ? `  (MISS: ${judged
            .filter((r) => !r.pass)
            .map((r) => `${r.scenario} / ${r.case}`)
            .join('; ')})`
        : ''),
  );
  for (const failure of failures) console.log(`  ERROR ${failure}`);
}

/** The summary as a Markdown table, for the README. */
export function markdownTable(results: readonly Result[]): string {
  const lines = ['| scenario | case | ours | baseline | ratio | target | |', '|---|---|--:|--:|--:|---|---|'];
  for (const r of results) {
    const [name, unit, ours, baseline, ratio, target, verdict] = caseCells(r);
    const ourUnit = r.unit === 'calls' && r.ours === 1 ? 'call' : unit;
    lines.push(
      `| ${r.scenario} | ${name} | ${ours} ${ourUnit} | ${baseline} ${unit} | ${ratio} | ${target} | ${verdict} |`,
    );
  }
  return lines.join('\n');
}
