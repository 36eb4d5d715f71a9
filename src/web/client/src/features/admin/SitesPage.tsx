import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, matomo } from '../../api/http';
import { useAbilities } from '../../api/session';
import { Button, CheckboxField, Dialog, ErrorNotice, Loading, PageHeader, SelectField, SuccessNotice, TextArea, TextField, formatDateTime } from '../../ui/components';
import { CopyTextButton } from '../../ui/clipboard';
import { DataTable } from '../../ui/DataTable';
import { ConfirmDialog, currencies, timeZones, useAdminSites, type AdminSite } from './common';

/** Matomo stores exclusion lists comma-separated; the form shows one entry per line. */
const toLines = (value: string) =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .join('\n');
const toCommas = (value: string) =>
  value
    .split(/[\n,]/)
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .join(',');

interface SiteDraft {
  name: string;
  urls: string;
  timezone: string;
  currency: string;
  ecommerce: boolean;
  siteSearch: boolean;
  excludedIps: string;
  excludedParameters: string;
  excludedUserAgents: string;
  excludedReferrers: string;
  excludeUnknownUrls: boolean;
  keepUrlFragments: string;
  sensitiveDataRole: string;
}

function draftOf(site: AdminSite | null, urls: readonly string[]): SiteDraft {
  return {
    name: site?.name ?? '',
    urls: urls.join('\n'),
    timezone: site?.timezone ?? 'UTC',
    currency: site?.currency ?? 'USD',
    ecommerce: site ? site.ecommerce === 1 : false,
    siteSearch: site ? site.sitesearch === 1 : true,
    excludedIps: toLines(site?.excluded_ips ?? ''),
    excludedParameters: toLines(site?.excluded_parameters ?? ''),
    excludedUserAgents: toLines(site?.excluded_user_agents ?? ''),
    excludedReferrers: toLines(site?.excluded_referrers ?? ''),
    excludeUnknownUrls: site ? site.exclude_unknown_urls === 1 : false,
    keepUrlFragments: String(site?.keep_url_fragment ?? 0),
    sensitiveDataRole: site?.sensitive_data_role ?? 'admin',
  };
}

function bodyOf(draft: SiteDraft) {
  return {
    name: draft.name.trim(),
    urls: draft.urls
      .split('\n')
      .map((u) => u.trim())
      .filter((u) => u !== ''),
    timezone: draft.timezone,
    currency: draft.currency,
    ecommerce: draft.ecommerce,
    siteSearch: draft.siteSearch,
    excludedIps: toCommas(draft.excludedIps),
    excludedParameters: toCommas(draft.excludedParameters),
    excludedUserAgents: toCommas(draft.excludedUserAgents),
    excludedReferrers: toCommas(draft.excludedReferrers),
    excludeUnknownUrls: draft.excludeUnknownUrls,
    keepUrlFragments: Number(draft.keepUrlFragments),
    sensitiveDataRole: draft.sensitiveDataRole,
  };
}

function SiteForm({ site, urls, onDone }: { site: AdminSite | null; urls: readonly string[]; onDone: (message: string, added?: AdminSite) => void }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<SiteDraft>(() => draftOf(site, urls));
  // Exclusions already set are shown open, so they are seen before they are changed.
  const [exclusionsOpen] = useState(() => Boolean(site && (site.excluded_ips || site.excluded_parameters || site.excluded_user_agents || site.excluded_referrers || site.exclude_unknown_urls === 1)));
  const set = <K extends keyof SiteDraft>(key: K, value: SiteDraft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const save = useMutation({
    mutationFn: () => (site ? api.patch<AdminSite>(`/api/v1/sites/${site.idsite}`, bodyOf(draft)) : api.post<AdminSite>('/api/v1/sites', bodyOf(draft))),
    onSuccess: async (saved) => {
      await queryClient.invalidateQueries({ queryKey: ['admin'] });
      if (site) onDone(`The site ${saved.name} was saved.`);
      else onDone(`The site ${saved.name} was added (id ${saved.idsite}). Put its tracking code on its pages.`, saved);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const zones = timeZones();
  return (
    <form onSubmit={submit} aria-label={site ? `Edit ${site.name}` : 'Add a site'} className="admin-site-form">
      <TextField label="Name" required maxLength={200} value={draft.name} onChange={(e) => set('name', e.target.value)} />
      <TextArea label="URLs" required rows={3} value={draft.urls} onChange={(e) => set('urls', e.target.value)} hint="One per line; the first is the main URL." />
      <div className="admin-row">
        <SelectField label="Time zone" value={draft.timezone} onChange={(e) => set('timezone', e.target.value)} options={(zones.includes(draft.timezone) ? zones : [draft.timezone, ...zones]).map((z) => ({ value: z, label: z }))} />
        <SelectField label="Currency" value={draft.currency} onChange={(e) => set('currency', e.target.value)} options={currencies().map((c) => ({ value: c, label: c }))} />
      </div>
      <CheckboxField label="Ecommerce site" checked={draft.ecommerce} onChange={(e) => set('ecommerce', e.target.checked)} />
      <CheckboxField label="Track site search" checked={draft.siteSearch} onChange={(e) => set('siteSearch', e.target.checked)} />
      <details className="admin-details" open={exclusionsOpen || undefined}>
        <summary>Exclusions and privacy</summary>
        <TextArea label="Excluded IPs" rows={3} value={draft.excludedIps} onChange={(e) => set('excludedIps', e.target.value)} hint="One IP or range per line (1.2.3.4, 1.2.3.0/24, 1.2.3.*)." />
        <TextArea label="Excluded URL parameters" rows={2} value={draft.excludedParameters} onChange={(e) => set('excludedParameters', e.target.value)} hint="One per line; removed from tracked URLs." />
        <TextArea label="Excluded user agents" rows={2} value={draft.excludedUserAgents} onChange={(e) => set('excludedUserAgents', e.target.value)} hint="One per line; visits whose user agent contains one are ignored." />
        <TextArea label="Excluded referrers" rows={2} value={draft.excludedReferrers} onChange={(e) => set('excludedReferrers', e.target.value)} hint="One per line." />
        <CheckboxField label="Only track visits on the URLs above" checked={draft.excludeUnknownUrls} onChange={(e) => set('excludeUnknownUrls', e.target.checked)} />
        <SelectField
          label="URL fragments (#...)"
          value={draft.keepUrlFragments}
          onChange={(e) => set('keepUrlFragments', e.target.value)}
          options={[
            { value: '0', label: 'Default of the tenant' },
            { value: '1', label: 'Keep' },
            { value: '2', label: 'Remove' },
          ]}
        />
        <SelectField
          label="Who sees sensitive data (IPs, user ids)"
          value={draft.sensitiveDataRole}
          onChange={(e) => set('sensitiveDataRole', e.target.value)}
          options={[
            { value: 'admin', label: 'Admins of the site (and super users)' },
            { value: 'write', label: 'Write and admin users' },
            { value: 'none', label: 'Super users only' },
          ]}
        />
      </details>
      <ErrorNotice error={save.error} />
      <div className="admin-dialog-actions">
        <Button type="submit" variant="primary" busy={save.isPending}>
          {site ? 'Save site' : 'Add site'}
        </Button>
      </div>
    </form>
  );
}

/** The edit form, once the site's URLs are read (the list shows only the main one). */
function EditSite({ site, onDone }: { site: AdminSite; onDone: (message: string, added?: AdminSite) => void }) {
  const urls = useQuery({ queryKey: ['admin', 'site-urls', site.idsite], queryFn: () => matomo<string[]>('SitesManager.getSiteUrlsFromId', { idSite: site.idsite }) });
  if (urls.isLoading) return <Loading />;
  return <SiteForm site={site} urls={urls.data && urls.data.length > 0 ? urls.data : [site.main_url]} onDone={onDone} />;
}

function TrackingCode({ site }: { site: AdminSite }) {
  const code = useQuery({ queryKey: ['admin', 'tracking-code', site.idsite], queryFn: () => api.get<{ code: string }>(`/api/v1/sites/${site.idsite}/tracking-code`) });
  return (
    <div className="stack admin-tracking">
      <p>
        Put this code just before <code>&lt;/head&gt;</code> on every page of {site.name} (site id {site.idsite}).
      </p>
      {code.isLoading && <Loading />}
      <ErrorNotice error={code.error} />
      {code.data && (
        <>
          <pre aria-label={`Tracking code of ${site.name}`} tabIndex={0}>
            {code.data.code}
          </pre>
          <CopyTextButton text={code.data.code} label="Copy tracking code" />
        </>
      )}
    </div>
  );
}

type Open = { kind: 'add' } | { kind: 'edit'; site: AdminSite } | { kind: 'code'; site: AdminSite } | { kind: 'delete'; site: AdminSite } | null;

/** /admin/sites: the sites the caller administers; super users add and delete them. */
export function SitesPage() {
  const abilities = useAbilities();
  const queryClient = useQueryClient();
  const sites = useAdminSites();
  const [open, setOpen] = useState<Open>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const remove = useMutation({
    mutationFn: (site: AdminSite) => api.del(`/api/v1/sites/${site.idsite}`),
    onSuccess: async (_, site) => {
      // The list is re-read first, so the message never stands beside the deleted row.
      await queryClient.invalidateQueries({ queryKey: ['admin'] });
      setOpen(null);
      setNotice(`The site ${site.name} and its data were deleted.`);
    },
  });
  const done = (message: string, added?: AdminSite) => {
    // A new site's next step is its tracking code.
    setOpen(added ? { kind: 'code', site: added } : null);
    setNotice(message);
  };
  // A dialog closed by the program also fires its close event: only close what is still open.
  const closeIf = (kind: 'add' | 'edit' | 'code' | 'delete') => () => {
    setOpen((current) => (current?.kind === kind ? null : current));
    remove.reset();
  };

  return (
    <div className="page">
      <PageHeader
        title="Sites"
        actions={
          abilities.superuser && (
            <Button variant="primary" onClick={() => setOpen({ kind: 'add' })}>
              Add a site
            </Button>
          )
        }
      >
        <p className="muted">{abilities.superuser ? 'Every website and app this tenant tracks.' : 'The sites you administer.'}</p>
      </PageHeader>
      <SuccessNotice>{notice}</SuccessNotice>
      {sites.isLoading && <Loading />}
      <ErrorNotice error={sites.error} />
      {sites.data && (
        <DataTable
          caption="Sites"
          rows={sites.sites}
          rowKey={(s) => String(s.idsite)}
          initialSort={{ key: 'name', descending: false }}
          empty="No sites yet."
          columns={[
            {
              key: 'name',
              label: 'Name',
              render: (s) => (
                <>
                  {s.name} <span className="muted admin-small">id {s.idsite}</span>
                </>
              ),
            },
            { key: 'main_url', label: 'URL', render: (s) => <span className="admin-url">{s.main_url}</span> },
            { key: 'timezone', label: 'Time zone' },
            { key: 'currency', label: 'Currency' },
            { key: 'ecommerce', label: 'Ecommerce', value: (s) => (s.ecommerce === 1 ? 'yes' : 'no') },
            { key: 'ts_created', label: 'Created', render: (s) => formatDateTime(s.ts_created) },
          ]}
          rowActions={(s) => (
            <span className="admin-row-actions">
              <Button aria-label={`Edit ${s.name}`} onClick={() => setOpen({ kind: 'edit', site: s })}>
                Edit
              </Button>
              <Button aria-label={`Tracking code of ${s.name}`} onClick={() => setOpen({ kind: 'code', site: s })}>
                Tracking code
              </Button>
              {abilities.superuser && (
                <Button variant="danger" aria-label={`Delete ${s.name}`} onClick={() => setOpen({ kind: 'delete', site: s })}>
                  Delete
                </Button>
              )}
            </span>
          )}
        />
      )}
      <Dialog open={open?.kind === 'add'} title="Add a site" onClose={closeIf('add')}>
        {open?.kind === 'add' && <SiteForm site={null} urls={[]} onDone={done} />}
      </Dialog>
      <Dialog open={open?.kind === 'edit'} title={open?.kind === 'edit' ? `Edit ${open.site.name}` : 'Edit'} onClose={closeIf('edit')}>
        {open?.kind === 'edit' && <EditSite site={open.site} onDone={done} />}
      </Dialog>
      <Dialog open={open?.kind === 'code'} title={open?.kind === 'code' ? `Tracking code of ${open.site.name}` : 'Tracking code'} onClose={closeIf('code')}>
        {open?.kind === 'code' && <TrackingCode site={open.site} />}
      </Dialog>
      <ConfirmDialog
        open={open?.kind === 'delete'}
        title={open?.kind === 'delete' ? `Delete ${open.site.name}` : 'Delete'}
        confirmLabel="Delete site and its data"
        onConfirm={() => open?.kind === 'delete' && remove.mutate(open.site)}
        onClose={closeIf('delete')}
        busy={remove.isPending}
        error={remove.error}
      >
        <p>The site, its tracked data, reports, goals and everyone’s roles on it are deleted. This cannot be undone.</p>
      </ConfirmDialog>
    </div>
  );
}
