/**
 * Report tables as archives keep them: rows with a label, summable metrics,
 * descriptive extras and an optional subtable. Tables of sub-periods merge by
 * label (sums, except `max_*` and `min_*`), so weeks, months, years and ranges are
 * built from days without going back to raw hits.
 */

export interface ReportRow {
  label: string;
  columns: Record<string, number>;
  /** Descriptive values that do not add up: url, code, referer_type, ... */
  extra?: Record<string, string | number>;
  subtable?: ReportRow[];
}

export type ReportTable = ReportRow[];

/** Numeric records (VisitsSummary, Actions.get, Goals ...): metric name to value. */
export type NumericRecord = Record<string, number>;

/** Label of the row that sums the rows an archive did not keep (Matomo's summary row). */
export const OTHERS_LABEL = 'Others';

function mergeColumn(name: string, into: Record<string, number>, value: number): void {
  const current = into[name];
  if (current === undefined) into[name] = value;
  else if (name.startsWith('max_')) into[name] = Math.max(current, value);
  else if (name.startsWith('min_')) into[name] = Math.min(current, value);
  else into[name] = current + value;
}

export function mergeNumeric(into: NumericRecord, from: NumericRecord): void {
  for (const [name, value] of Object.entries(from)) mergeColumn(name, into, value);
}

function cloneRow(row: ReportRow): ReportRow {
  return {
    label: row.label,
    columns: { ...row.columns },
    ...(row.extra ? { extra: { ...row.extra } } : {}),
    ...(row.subtable ? { subtable: row.subtable.map(cloneRow) } : {}),
  };
}

/** Sums tables row by row (matched by label, subtables too). */
export function mergeTables(tables: readonly ReportTable[]): ReportTable {
  const byLabel = new Map<string, ReportRow>();
  for (const table of tables) {
    for (const row of table) {
      const existing = byLabel.get(row.label);
      if (!existing) {
        byLabel.set(row.label, cloneRow(row));
        continue;
      }
      for (const [name, value] of Object.entries(row.columns)) mergeColumn(name, existing.columns, value);
      if (row.extra) existing.extra = { ...row.extra, ...existing.extra };
      if (row.subtable) existing.subtable = existing.subtable ? mergeTables([existing.subtable, row.subtable]) : row.subtable.map(cloneRow);
    }
  }
  return [...byLabel.values()];
}

/** Renames a column in every row (recursively): day tables' unique visitors are not unique over a week. */
export function renameColumn(table: ReportTable, from: string, to: string): void {
  for (const row of table) {
    const value = row.columns[from];
    if (value !== undefined) {
      delete row.columns[from];
      row.columns[to] = (row.columns[to] ?? 0) + value;
    }
    if (row.subtable) renameColumn(row.subtable, from, to);
  }
}

/** The archive's order: the sort metric descending, then label; stable, so subtable ids are too. */
export function sortForArchive(table: ReportTable, metric: string): void {
  table.sort((a, b) => (b.columns[metric] ?? 0) - (a.columns[metric] ?? 0) || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  for (const row of table) if (row.subtable) sortForArchive(row.subtable, metric);
}

/**
 * Keeps the `max` first rows (after sortForArchive) and sums the rest into one
 * "Others" row, as Matomo's archives do; subtables keep `maxSub` rows.
 */
export function truncateTable(table: ReportTable, max: number, maxSub: number): ReportTable {
  const kept = table.length > max ? table.slice(0, max - 1) : table;
  if (table.length > max) {
    const others: ReportRow = { label: OTHERS_LABEL, columns: {} };
    for (const row of table.slice(max - 1)) for (const [name, value] of Object.entries(row.columns)) mergeColumn(name, others.columns, value);
    kept.push(others);
  }
  for (const row of kept) if (row.subtable) row.subtable = truncateTable(row.subtable, maxSub, maxSub);
  return kept;
}

/** Sums every row's columns into its folder rows (hierarchical reports keep metrics on leaves while building). */
export function sumIntoParents(table: ReportTable): void {
  for (const row of table) {
    if (!row.subtable) continue;
    sumIntoParents(row.subtable);
    row.columns = {};
    for (const child of row.subtable) for (const [name, value] of Object.entries(child.columns)) mergeColumn(name, row.columns, value);
  }
}
