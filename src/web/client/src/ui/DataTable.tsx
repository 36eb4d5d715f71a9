import { useId, useMemo, useState, type ReactNode } from 'react';

export interface Column<Row> {
  readonly key: string;
  readonly label: string;
  /** Cell content; default: the row's value at `key`. */
  readonly render?: (row: Row) => ReactNode;
  /** Value to sort and search by; default: the row's value at `key`. */
  readonly value?: (row: Row) => string | number | null | undefined;
  readonly numeric?: boolean;
  readonly sortable?: boolean;
}

type Sort = { key: string; descending: boolean } | null;

function valueAt<Row>(row: Row, column: Column<Row>): string | number | null | undefined {
  if (column.value) return column.value(row);
  const raw = (row as Record<string, unknown>)[column.key];
  if (typeof raw === 'number' || typeof raw === 'string') return raw;
  return raw === null || raw === undefined ? raw : String(raw);
}

/** A numeric sort key for values such as "45%", "1,234" or "00:03:10". */
function sortKey(value: string | number | null | undefined): string | number {
  if (typeof value === 'number') return value;
  if (value === null || value === undefined) return -Infinity;
  const time = /^(\d+):(\d{2}):(\d{2})$/.exec(value);
  if (time) return Number(time[1]) * 3600 + Number(time[2]) * 60 + Number(time[3]);
  const number = Number(value.replace(/[%,\s$€£]/g, ''));
  return value.trim() !== '' && Number.isFinite(number) ? number : value.toLowerCase();
}

/**
 * A sortable, searchable table. Sorting is by the header buttons (keyboard reachable,
 * aria-sort announced); the search box filters rows on every searchable column.
 */
export function DataTable<Row>({
  caption,
  columns,
  rows,
  rowKey,
  searchable = true,
  initialSort = null,
  empty,
  pageSize = 100,
  onRowClick,
  rowActions,
}: {
  caption: string;
  columns: readonly Column<Row>[];
  rows: readonly Row[];
  rowKey: (row: Row, index: number) => string;
  searchable?: boolean;
  initialSort?: Sort;
  empty?: ReactNode;
  pageSize?: number;
  onRowClick?: (row: Row) => void;
  rowActions?: (row: Row) => ReactNode;
}) {
  const [sort, setSort] = useState<Sort>(initialSort);
  const [search, setSearch] = useState('');
  const [limit, setLimit] = useState(pageSize);
  const searchId = useId();

  const visible = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const filtered = needle
      ? rows.filter((row) => columns.some((column) => String(valueAt(row, column) ?? '').toLowerCase().includes(needle)))
      : [...rows];
    if (sort) {
      const column = columns.find((c) => c.key === sort.key);
      if (column) {
        filtered.sort((a, b) => {
          const x = sortKey(valueAt(a, column));
          const y = sortKey(valueAt(b, column));
          const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
          return sort.descending ? -order : order;
        });
      }
    }
    return filtered;
  }, [rows, columns, search, sort]);

  const toggle = (key: string) =>
    setSort((current) => (current?.key === key ? { key, descending: !current.descending } : { key, descending: columns.find((c) => c.key === key)?.numeric ?? false }));

  return (
    <div className="data-table">
      {searchable && rows.length > 0 && (
        <div className="table-tools">
          <label htmlFor={searchId} className="visually-hidden">
            Search {caption}
          </label>
          <input id={searchId} type="search" placeholder="Search…" value={search} onChange={(event) => setSearch(event.target.value)} />
          <span className="muted">
            {visible.length} of {rows.length}
          </span>
        </div>
      )}
      <div className="table-scroll">
        <table>
          <caption className="visually-hidden">{caption}</caption>
          <thead>
            <tr>
              {columns.map((column) => {
                const active = sort?.key === column.key;
                return (
                  <th key={column.key} scope="col" className={column.numeric ? 'num' : undefined} aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : undefined}>
                    {column.sortable === false ? (
                      column.label
                    ) : (
                      <button type="button" className="sort" onClick={() => toggle(column.key)}>
                        {column.label}
                        <span aria-hidden="true">{active ? (sort.descending ? ' ▼' : ' ▲') : ''}</span>
                      </button>
                    )}
                  </th>
                );
              })}
              {rowActions && (
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {visible.slice(0, limit).map((row, index) => (
              <tr key={rowKey(row, index)} className={onRowClick ? 'clickable' : undefined} onClick={onRowClick ? () => onRowClick(row) : undefined}>
                {columns.map((column) => (
                  <td key={column.key} className={column.numeric ? 'num' : undefined}>
                    {column.render ? column.render(row) : String(valueAt(row, column) ?? '')}
                  </td>
                ))}
                {rowActions && <td className="row-actions">{rowActions(row)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {visible.length === 0 && <div className="table-empty">{rows.length === 0 ? (empty ?? 'No data.') : 'No row matches the search.'}</div>}
      {visible.length > limit && (
        <button type="button" className="btn btn-link" onClick={() => setLimit((n) => n + pageSize)}>
          Show more ({visible.length - limit} left)
        </button>
      )}
    </div>
  );
}
