/** Plain-text tables and the number formats the demo prints. */

export type Align = 'left' | 'right';

/** Renders rows under a header, columns padded to their widest cell and separated by two spaces. */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]): string =>
    widths
      .map((width, column) => {
        const cell = row[column] ?? '';
        return align[column] === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export const count = (n: number): string => n.toLocaleString('en-US');

export const percent = (part: number, whole: number): string =>
  whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`;

export const usd = (amount: number): string => `$${amount.toFixed(4)}`;

/** Milliseconds, with decimals only where they matter (a memory hit takes microseconds). */
export const ms = (value: number): string =>
  Number.isNaN(value) ? '-' : value < 10 ? `${value.toFixed(3)} ms` : `${Math.round(value)} ms`;
