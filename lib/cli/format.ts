/** Column alignment in {@link formatTable}: text left, figures right. */
export type Align = 'left' | 'right';

/** One column of {@link formatTable}. */
export interface Column {
  readonly header: string;
  /** @default 'right' for every column but the first */
  readonly align?: Align;
}

/**
 * An aligned plain-text table: a header line, then one line per row, columns two spaces apart. Figures
 * are right-aligned so their digits line up. Hand-written (a dozen lines) rather than a table package:
 * the output is plain lines that tests and `grep` read, with no borders or colours to strip.
 */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const table = [columns.map((c) => c.header), ...rows];
  const widths = columns.map((_, i) => Math.max(...table.map((cells) => (cells[i] ?? '').length)));
  const alignOf = (i: number): Align => columns[i]?.align ?? (i === 0 ? 'left' : 'right');
  return table
    .map((cells) =>
      columns
        .map((_, i) => {
          const cell = cells[i] ?? '';
          return alignOf(i) === 'left' ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!);
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Digits in groups of three (`13,500`), the same on every machine whatever its locale. */
export function grouped(n: number): string {
  const [whole = '', fraction] = String(n).split('.');
  const digits = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? digits : `${digits}.${fraction}`;
}

/** A share as a percentage with one decimal: `0.818` -> `81.8%`. */
export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** Bytes in binary units: `1536` -> `1.5 KiB`. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
