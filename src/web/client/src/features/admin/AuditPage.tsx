import { Fragment, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, query } from '../../api/http';
import { Button, ErrorNotice, Loading, PageHeader, SelectField, TextField, formatDateTime } from '../../ui/components';
import { RequireSuperuser } from './AdminLayout';
import { useAdminSites, withActingTenant } from './common';

interface AuditEntry {
  readonly id: number;
  readonly createdAt: string;
  readonly actor: string;
  readonly actorKind: string;
  readonly tenant: string | null;
  readonly siteId: number | null;
  readonly ip: string | null;
  readonly action: string;
  readonly before: unknown;
  readonly after: unknown;
}

interface Verification {
  readonly ok: boolean;
  readonly checked: number;
  readonly problem?: string;
  readonly entryId?: number;
}

const PAGE = 50;
const filterKeys = ['user', 'from', 'to', 'action', 'site', 'pattern'] as const;
type Filters = Record<(typeof filterKeys)[number], string>;

function filtersOf(params: URLSearchParams): Filters {
  return Object.fromEntries(filterKeys.map((key) => [key, params.get(key) ?? ''])) as Filters;
}

function ChainBadge() {
  const verify = useQuery({ queryKey: ['admin', 'audit-verify'], queryFn: () => api.get<Verification>('/api/v1/audit/verify') });
  if (verify.isLoading) return <span className="badge">checking the chain…</span>;
  if (verify.error) return <span className="badge badge-danger">chain not checked: {verify.error.message}</span>;
  if (!verify.data) return null;
  return verify.data.ok ? (
    <span className="badge badge-ok" title="Every entry's SHA-256 hash follows from the one before: none was changed or removed.">
      ✓ hash chain intact ({verify.data.checked} entries)
    </span>
  ) : (
    <span className="badge badge-danger" role="alert">
      ✗ hash chain broken: {verify.data.problem}
    </span>
  );
}

/** Whom or what an entry is about, read from its after (or before) values. */
function subjectOf(entry: AuditEntry): string {
  for (const side of [entry.after, entry.before]) {
    if (side && typeof side === 'object' && !Array.isArray(side)) {
      const values = side as Record<string, unknown>;
      for (const key of ['login', 'name', 'ip', 'slug']) {
        const value = values[key];
        if (typeof value === 'string' && value !== '') return value;
      }
    }
  }
  return '';
}

function Json({ label, value }: { label: string; value: unknown }) {
  if (value === null || value === undefined) return null;
  return (
    <div className="admin-json">
      <strong>{label}</strong>
      <pre>{JSON.stringify(value, null, 2)}</pre>
    </div>
  );
}

/** /admin/audit: the tenant's audit log, filtered, paged, exported; its hash chain checked. */
function AuditPageScreen() {
  const [params, setParams] = useSearchParams();
  const applied = filtersOf(params);
  const offset = Number(params.get('offset') ?? '0') || 0;
  const [form, setForm] = useState<Filters>(applied);
  const [open, setOpen] = useState<ReadonlySet<number>>(new Set());
  const sites = useAdminSites();
  const siteName = (id: number | null) => (id === null ? '' : (sites.sites.find((s) => s.idsite === id)?.name ?? `#${id}`));

  const filterQuery = { user: applied.user, from: applied.from, to: applied.to, action: applied.action, site: applied.site, pattern: applied.pattern };
  const entries = useQuery({
    queryKey: ['admin', 'audit', filterQuery, offset],
    queryFn: () => api.get<{ entries: AuditEntry[]; total: number }>(`/api/v1/audit${query({ ...filterQuery, limit: PAGE, offset })}`),
    placeholderData: keepPreviousData,
  });

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const key of filterKeys) if (form[key].trim() !== '') next.set(key, form[key].trim());
    setParams(next);
    setOpen(new Set());
  };
  const clear = () => {
    setForm({ user: '', from: '', to: '', action: '', site: '', pattern: '' });
    setParams(new URLSearchParams());
  };
  const page = (to: number) => {
    const next = new URLSearchParams(params);
    if (to > 0) next.set('offset', String(to));
    else next.delete('offset');
    setParams(next);
    setOpen(new Set());
  };
  const toggle = (id: number) =>
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const exportUrl = (format: 'csv' | 'json') => withActingTenant(`/api/v1/audit${query({ ...filterQuery, format, limit: -1 })}`);
  const set = (key: keyof Filters) => (value: string) => setForm((f) => ({ ...f, [key]: value }));
  const total = entries.data?.total ?? 0;

  return (
    <div className="page">
      <PageHeader
        title="Audit log"
        actions={
          <>
            <a className="btn" href={exportUrl('csv')} download>
              Export CSV
            </a>
            <a className="btn" href={exportUrl('json')} download="audit-log.json">
              Export JSON
            </a>
          </>
        }
      >
        <p className="muted">
          Who did what, when and from where: sign-ins, users, roles, tokens, sites, settings. <ChainBadge />
        </p>
      </PageHeader>
      <form className="toolbar admin-filters" onSubmit={apply} aria-label="Filter the audit log">
        <TextField label="User" value={form.user} onChange={(e) => set('user')(e.target.value)} placeholder="login" />
        <TextField label="Action" value={form.action} onChange={(e) => set('action')(e.target.value)} placeholder="user.* or access.role_changed" />
        <TextField label="From" type="date" value={form.from} onChange={(e) => set('from')(e.target.value)} />
        <TextField label="To" type="date" value={form.to} onChange={(e) => set('to')(e.target.value)} />
        <SelectField label="Site" value={form.site} onChange={(e) => set('site')(e.target.value)} options={[{ value: '', label: 'Any site' }, ...sites.sites.map((s) => ({ value: String(s.idsite), label: s.name }))]} />
        <TextField label="Containing" value={form.pattern} onChange={(e) => set('pattern')(e.target.value)} placeholder="any text" />
        <div className="admin-filter-buttons">
          <Button type="submit" variant="primary">
            Apply filters
          </Button>
          <Button onClick={clear}>Clear</Button>
        </div>
      </form>
      {entries.isLoading && <Loading />}
      <ErrorNotice error={entries.error} />
      {entries.data && (
        <>
          <p className="muted" aria-live="polite">
            {total === 0 ? 'No entry matches.' : `Entries ${offset + 1}–${Math.min(offset + PAGE, total)} of ${total}, newest first.`}
          </p>
          <div className="table-scroll">
            <table className="admin-audit">
              <caption className="visually-hidden">Audit log entries</caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">About</th>
                  <th scope="col">Site</th>
                  <th scope="col">IP</th>
                  <th scope="col">Changes</th>
                </tr>
              </thead>
              <tbody>
                {entries.data.entries.map((entry) => {
                  const expanded = open.has(entry.id);
                  const hasDetails = entry.before != null || entry.after != null;
                  return (
                    <Fragment key={entry.id}>
                      <tr>
                        <td className="admin-nowrap" data-label="Time">
                          {formatDateTime(entry.createdAt)}
                        </td>
                        <td data-label="Actor">
                          {entry.actor}
                          {entry.actorKind !== 'tenant_user' && <span className="muted admin-small"> ({entry.actorKind.replace('_', ' ')})</span>}
                        </td>
                        <td data-label="Action">
                          <code>{entry.action}</code>
                        </td>
                        <td data-label="About">{subjectOf(entry)}</td>
                        <td data-label="Site">{siteName(entry.siteId)}</td>
                        <td data-label="IP">{entry.ip ?? ''}</td>
                        <td>
                          {hasDetails && (
                            <Button variant="link" aria-expanded={expanded} aria-controls={`audit-${entry.id}`} onClick={() => toggle(entry.id)}>
                              {expanded ? 'Hide' : 'Show'}
                              <span className="visually-hidden"> changes of entry {entry.id}</span>
                            </Button>
                          )}
                        </td>
                      </tr>
                      {expanded && (
                        <tr id={`audit-${entry.id}`} className="admin-audit-details">
                          <td colSpan={7}>
                            <div className="admin-json-pair">
                              <Json label="Before" value={entry.before} />
                              <Json label="After" value={entry.after} />
                            </div>
                          </td>
                        </tr>
                      )}
                    </Fragment>
                  );
                })}
              </tbody>
            </table>
          </div>
          {total > PAGE && (
            <nav className="admin-pager" aria-label="Audit log pages">
              <Button disabled={offset === 0} onClick={() => page(Math.max(0, offset - PAGE))}>
                Newer
              </Button>
              <Button disabled={offset + PAGE >= total} onClick={() => page(offset + PAGE)}>
                Older
              </Button>
            </nav>
          )}
        </>
      )}
    </div>
  );
}

/** Only super users reach the screen (and its requests); anyone else is told so. */
export function AuditPage() {
  return (
    <RequireSuperuser>
      <AuditPageScreen />
    </RequireSuperuser>
  );
}
