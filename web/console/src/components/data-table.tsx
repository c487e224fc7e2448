/** A plain grid of rows: one header cell and one body cell per column (the admin view's lists). */
import type { ComponentChildren } from 'preact';

export interface Column<T> {
  /** The header text (already translated); an empty string leaves the header cell empty. */
  label: string;
  cell: (row: T) => ComponentChildren;
  /** The class of the body cells, e.g. `actions` or `muted`. */
  class?: string;
}

export function DataTable<T>({
  rows,
  columns,
  rowKey,
  rowClass,
  rowAttrs,
}: {
  rows: readonly T[];
  columns: Column<T>[];
  rowKey: (row: T) => string | number;
  rowClass?: (row: T) => string;
  /** Extra attributes of a row (data-* for tests). */
  rowAttrs?: (row: T) => Record<string, string | number>;
}) {
  return (
    <table class="grid">
      <thead>
        <tr>
          {columns.map((c, i) => (
            <th key={i}>{c.label}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={rowKey(row)} class={rowClass?.(row)} {...rowAttrs?.(row)}>
            {columns.map((c, i) => (
              <td key={i} class={c.class}>
                {c.cell(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
