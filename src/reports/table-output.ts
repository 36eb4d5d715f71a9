import { PluraError } from '../core/errors.js';
import type { MatomoParams } from '../matomo-api/params.js';
import type { MatomoValue } from '../matomo-api/render.js';
import type { ReportRow, ReportTable } from './datatable.js';

/**
 * A report table as the Matomo API answers it: processed metrics, row segments,
 * subtable ids, and the generic filters (label, pattern, sort, offset, limit,
 * flat, expanded, idSubtable, showColumns, hideColumns) in Matomo's order.
 */

export interface TableShape {
  /** Computed columns (bounce_rate, avg_time_on_page, ...) from a row's metrics. */
  readonly processed?: (columns: Readonly<Record<string, number>>, percent: (value: number) => number | string) => Record<string, number | string>;
  /** The row's segment (Matomo's `segment` key), from the row and its parent. */
  readonly segment?: (row: ReportRow, parent: ReportRow | null) => string | null;
  /** How `flat=1` names a child: 'url' joins folders with / before the page; 'leaf' keeps the child's own label. */
  readonly flatten?: 'url' | 'leaf' | 'dash';
  /** Rows shown (entry pages: rows with entries), applied at every level. */
  readonly keep?: (row: ReportRow) => boolean;
  readonly defaultSort?: string;
  /** Extras shown as columns (url, code, referer_type, ...); other extras are internal. */
  readonly shownExtras?: readonly string[];
}

interface OutputRow {
  readonly source: ReportRow;
  readonly parent: ReportRow | null;
  label: string;
  values: Record<string, MatomoValue>;
  subtableId: number | null;
  children: OutputRow[] | null;
}

const HIDDEN_INTERNALLY = new Set(['segmentValue', 'segmentVersion', 'referrerTypeSegment']);

/** Matomo's `bc` formatting: rates as "12%". `format_metrics=0` leaves the fraction. */
export function percentFormatter(params: MatomoParams): (value: number) => number | string {
  const mode = (params.get('format_metrics') ?? 'bc').toLowerCase();
  if (mode === '0' || mode === 'false') return (value) => Math.round(value * 10_000) / 10_000;
  return (value) => `${Math.round(value * 1000) / 10}%`;
}

function integerParam(params: MatomoParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^-?\d+$/.test(raw.trim())) throw new PluraError('invalid_input', `The parameter '${name}' must be an integer, not "${raw}".`);
  return Number(raw.trim());
}

/** Subtable ids in the archive's row order, depth first from 1: the same table gives the same ids. */
function numberSubtables(table: ReportTable, ids: Map<ReportRow, number>, byId: Map<number, { rows: ReportTable; parent: ReportRow }>): void {
  for (const row of table) {
    if (!row.subtable) continue;
    const id = ids.size + 1;
    ids.set(row, id);
    byId.set(id, { rows: row.subtable, parent: row });
  }
  for (const row of table) if (row.subtable) numberSubtables(row.subtable, ids, byId);
}

export function renderTable(table: ReportTable, params: MatomoParams, shape: TableShape): MatomoValue[] {
  const percent = percentFormatter(params);
  const ids = new Map<ReportRow, number>();
  const byId = new Map<number, { rows: ReportTable; parent: ReportRow }>();
  numberSubtables(table, ids, byId);

  const expanded = params.getBool('expanded', false);
  const flat = params.getBool('flat', false);

  const toOutput = (rows: ReportTable, parent: ReportRow | null): OutputRow[] =>
    rows
      .filter((row) => !shape.keep || shape.keep(row))
      .map((row) => {
        const values: Record<string, MatomoValue> = { label: row.label, ...row.columns };
        if (shape.processed) Object.assign(values, shape.processed(row.columns, percent));
        for (const [name, value] of Object.entries(row.extra ?? {})) if (!HIDDEN_INTERNALLY.has(name) && (!shape.shownExtras || shape.shownExtras.includes(name))) values[name] = value;
        const segment = shape.segment?.(row, parent);
        if (segment) values['segment'] = segment;
        return { source: row, parent, label: row.label, values, subtableId: ids.get(row) ?? null, children: row.subtable && (expanded || flat) ? toOutput(row.subtable, row) : null };
      });

  let rows: OutputRow[];
  const idSubtable = integerParam(params, 'idSubtable');
  if (idSubtable !== undefined) {
    const found = byId.get(idSubtable);
    if (!found) throw new PluraError('invalid_input', `The subtable id ${idSubtable} does not exist in this report.`);
    rows = toOutput(found.rows, found.parent);
  } else rows = toOutput(table, null);

  if (flat) rows = flattenRows(rows, shape.flatten ?? 'dash', '');

  const labels = params.getAll('label').concat(params.getAll('label[]')).filter((label) => label !== '');
  if (labels.length > 0) rows = selectLabels(rows, labels, (row) => row.children ?? toOutput(row.source.subtable ?? [], row.source));

  const pattern = params.get('filter_pattern');
  if (pattern !== undefined && pattern !== '') {
    const column = params.get('filter_column') ?? 'label';
    const regex = compilePattern(pattern);
    rows = rows.filter((row) => regex.test(String(row.values[column] ?? '')));
  }
  const recursive = params.get('filter_pattern_recursive');
  if (recursive !== undefined && recursive !== '') {
    const column = params.get('filter_column_recursive') ?? 'label';
    const regex = compilePattern(recursive);
    const matches = (row: OutputRow): boolean => regex.test(String(row.values[column] ?? '')) || (row.children ?? toOutput(row.source.subtable ?? [], row.source)).some(matches);
    rows = rows.filter(matches);
  }

  const sortColumn = params.get('filter_sort_column') || shape.defaultSort || 'nb_visits';
  const ascending = (params.get('filter_sort_order') ?? 'desc').toLowerCase() === 'asc';
  const sortRows = (list: OutputRow[]): void => {
    list.sort((a, b) => compareValues(a.values[sortColumn], b.values[sortColumn]) * (ascending ? 1 : -1));
    for (const row of list) if (row.children) sortRows(row.children);
  };
  sortRows(rows);

  const offset = Math.max(0, integerParam(params, 'filter_offset') ?? 0);
  const limit = integerParam(params, 'filter_limit') ?? 100;
  if (limit < -1) throw new PluraError('invalid_input', `The parameter 'filter_limit' must be -1 (all rows) or a number of rows, not ${limit}.`);
  rows = rows.slice(offset, limit === -1 ? undefined : offset + limit);

  const show = params.getList('showColumns');
  const hide = new Set(params.getList('hideColumns'));
  const finish = (row: OutputRow): Record<string, MatomoValue> => {
    let values = row.values;
    if (show.length > 0) values = Object.fromEntries(Object.entries(values).filter(([name]) => name === 'label' || show.includes(name)));
    if (hide.size > 0) values = Object.fromEntries(Object.entries(values).filter(([name]) => !hide.has(name)));
    const out: Record<string, MatomoValue> = { ...values };
    if (row.subtableId !== null && !flat) out['idsubdatatable'] = row.subtableId;
    if (expanded && !flat && row.children) out['subtable'] = row.children.map(finish);
    return out;
  };
  return rows.map(finish);
}

function compareValues(a: MatomoValue, b: MatomoValue): number {
  const toNumber = (value: MatomoValue): number | null => (typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+(\.\d+)?%?$/.test(value) ? Number.parseFloat(value) : null);
  const na = toNumber(a);
  const nb = toNumber(b);
  if (na !== null || nb !== null) return (na ?? -Infinity) - (nb ?? -Infinity);
  const sa = String(a ?? '');
  const sb = String(b ?? '');
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function compilePattern(pattern: string): RegExp {
  try {
    return new RegExp(pattern, 'i');
  } catch {
    throw new PluraError('invalid_input', `The filter pattern '${pattern}' is not a valid regular expression.`);
  }
}

function flattenRows(rows: OutputRow[], mode: 'url' | 'leaf' | 'dash', prefix: string): OutputRow[] {
  const out: OutputRow[] = [];
  for (const row of rows) {
    const label = prefix === '' ? row.label : mode === 'url' ? (row.label.startsWith('/') ? `${prefix}${row.label}` : `${prefix}/${row.label}`) : mode === 'leaf' ? row.label : `${prefix} - ${row.label}`;
    if (row.children && row.children.length > 0) {
      out.push(...flattenRows(row.children, mode, label));
      continue;
    }
    row.label = label;
    row.values = { ...row.values, label };
    row.subtableId = null;
    out.push(row);
  }
  return out;
}

/** Matomo's `label` filter: exact labels, `>` walking into subtables (`folder>/page`). */
function selectLabels(rows: OutputRow[], labels: readonly string[], childrenOf: (row: OutputRow) => OutputRow[]): OutputRow[] {
  const picked: OutputRow[] = [];
  for (const label of labels) {
    const path = label.split('>').map((part) => part.trim());
    let level: OutputRow[] = rows;
    let found: OutputRow | undefined;
    for (const part of path) {
      found = level.find((row) => row.label === part);
      if (!found) break;
      level = childrenOf(found);
    }
    if (found && !picked.includes(found)) picked.push(found);
  }
  return picked;
}
