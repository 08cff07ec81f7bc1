/**
 * Result tables (model comparisons, search results): aligned plain text for the console and for
 * notebooks rendered anywhere, plus an HTML table when a tslab notebook is there to show it.
 */
import { tslabDisplayWriter } from './display';

/** One table cell: numbers are formatted with the column's decimals, the rest printed as is. */
export type TableValue = string | number | boolean | null | undefined;

/** A column: the row field it shows, its French header, and how many decimals for numbers. */
export interface TableColumn<Row> {
  key: keyof Row & string;
  header: string;
  decimals?: number;
}

function cellText(value: TableValue, decimals: number | undefined): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    return decimals === undefined ? String(value) : value.toFixed(decimals);
  }
  return String(value);
}

/** The table as aligned text: header, rule, one line per row (numbers right-aligned). */
export function tableText<Row extends object>(rows: readonly Row[], columns: readonly TableColumn<Row>[]): string {
  const cells = rows.map((row) => columns.map((column) => cellText((row as Record<string, TableValue>)[column.key], column.decimals)));
  const numeric = columns.map((column) => rows.some((row) => typeof (row as Record<string, TableValue>)[column.key] === 'number'));
  const widths = columns.map((column, c) => Math.max(column.header.length, ...cells.map((line) => line[c].length)));
  const pad = (text: string, c: number) => (numeric[c] ? text.padStart(widths[c]) : text.padEnd(widths[c]));
  const lines = [columns.map((column, c) => pad(column.header, c)).join('  '), widths.map((width) => '-'.repeat(width)).join('  ')];
  for (const line of cells) lines.push(line.map(pad).join('  ').trimEnd());
  return lines.join('\n');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The table as a small self-contained HTML table (no scripts, no external styles). */
export function tableHtml<Row extends object>(rows: readonly Row[], columns: readonly TableColumn<Row>[]): string {
  const numeric = columns.map((column) => rows.some((row) => typeof (row as Record<string, TableValue>)[column.key] === 'number'));
  const align = (c: number) => (numeric[c] ? ' style="text-align:right"' : '');
  const head = columns.map((column, c) => `<th${align(c)}>${escapeHtml(column.header)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${columns.map((column, c) => `<td${align(c)}>${escapeHtml(cellText((row as Record<string, TableValue>)[column.key], column.decimals))}</td>`).join('')}</tr>`)
    .join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Shows a table: HTML + text in a tslab notebook, aligned text on the console otherwise. */
export function showTable<Row extends object>(rows: readonly Row[], columns: readonly TableColumn<Row>[]): void {
  const text = tableText(rows, columns);
  const writer = tslabDisplayWriter();
  if (!writer) {
    console.log(text);
    return;
  }
  writer({ data: { 'text/html': tableHtml(rows, columns), 'text/plain': text }, metadata: {}, transient: {} });
}
