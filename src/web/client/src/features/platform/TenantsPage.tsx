import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Dialog, DialogForm, Empty, ErrorNotice, Loading, PageHeader, TextArea, TextField, formatDateTime } from '../../ui/components';
import { DataTable } from '../../ui/DataTable';
import { useInitialFocus } from './Confirm';
import { platformApi, refreshTenants, useTenants, type TenantAdmin, type TenantStatus } from './api';

const SLUG = /^[a-z0-9][a-z0-9_-]{0,39}$/;

export function StatusBadge({ status }: { status: TenantStatus }) {
  return <span className={`badge ${status === 'active' ? 'badge-ok' : 'badge-danger'}`}>{status === 'active' ? 'Active' : 'Deactivated'}</span>;
}

/** One host a line (commas and spaces separate too); empty lines dropped, duplicates once. */
export function parseHosts(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((host) => host.trim().toLowerCase()).filter((host) => host !== ''))];
}

function limitText(value: number | null): string {
  return value === null ? 'unlimited' : String(value);
}

function CreateTenantDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');
  const [hosts, setHosts] = useState('');
  const [touched, setTouched] = useState(false);
  const formRef = useInitialFocus<HTMLFormElement>(open);

  const create = useMutation({
    mutationFn: () => platformApi.createTenant({ slug: slug.trim(), hosts: parseHosts(hosts), ...(name.trim() ? { name: name.trim() } : {}) }),
    onSuccess: async (tenant) => {
      await refreshTenants(queryClient);
      close();
      void navigate(`/platform/tenants/${encodeURIComponent(tenant.slug)}`, { state: { created: true } });
    },
  });

  const close = () => {
    setSlug('');
    setName('');
    setHosts('');
    setTouched(false);
    create.reset();
    onClose();
  };

  const slugError = touched && !SLUG.test(slug.trim()) ? 'Lower-case letters, digits, "-" and "_", at most 40, starting with a letter or digit. It never changes.' : null;
  const hostsError = touched && parseHosts(hosts).length === 0 ? 'At least one host name.' : null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (!SLUG.test(slug.trim()) || parseHosts(hosts).length === 0) return;
    create.mutate();
  };

  return (
    <Dialog open={open} title="Create a tenant" onClose={close}>
      <DialogForm ref={formRef} onSubmit={submit} noValidate error={create.error} busy={create.isPending} submitLabel="Create tenant" onCancel={close} actionsClassName="platform-actions">
        <TextField
          label="Slug"
          required
          data-autofocus
          maxLength={40}
          autoComplete="off"
          spellCheck={false}
          value={slug}
          error={slugError}
          hint="The tenant's permanent identifier, e.g. acme."
          onChange={(event) => setSlug(event.target.value.toLowerCase())}
        />
        <TextField label="Name (optional)" maxLength={200} value={name} hint="Shown to its users; defaults to the slug." onChange={(event) => setName(event.target.value)} />
        <TextArea
          label="Hosts, one per line"
          required
          rows={3}
          spellCheck={false}
          value={hosts}
          error={hostsError}
          hint="The host names its users and trackers reach it at, e.g. analytics.acme.com."
          onChange={(event) => setHosts(event.target.value)}
        />
      </DialogForm>
    </Dialog>
  );
}

/** /platform/tenants: every tenant with its hosts and status; create one. */
export function TenantsPage() {
  const tenants = useTenants();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);

  const active = tenants.data?.filter((t) => t.status === 'active').length ?? 0;
  return (
    <>
      <PageHeader
        title="Tenants"
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            Create tenant
          </Button>
        }
      >
        {tenants.data && (
          <p className="muted">
            {tenants.data.length} {tenants.data.length === 1 ? 'tenant' : 'tenants'}, {active} active
          </p>
        )}
      </PageHeader>
      {tenants.isLoading && <Loading label="Loading tenants…" />}
      <ErrorNotice error={tenants.error} title="The tenants could not be loaded" />
      {tenants.data &&
        (tenants.data.length === 0 ? (
          <Empty title="No tenants yet">
            <p>A tenant is one customer: its own hosts, users, sites and data.</p>
            <Button variant="primary" onClick={() => setCreating(true)}>
              Create the first tenant
            </Button>
          </Empty>
        ) : (
          <div className="platform-tenants-table">
            <DataTable<TenantAdmin>
              caption="Tenants"
              rows={tenants.data}
              rowKey={(t) => t.slug}
              initialSort={{ key: 'name', descending: false }}
              onRowClick={(t) => void navigate(`/platform/tenants/${encodeURIComponent(t.slug)}`)}
              columns={[
                {
                  key: 'name',
                  label: 'Tenant',
                  value: (t) => `${t.name} ${t.slug}`,
                  render: (t) => (
                    <span className="platform-tenant-cell">
                      <Link to={`/platform/tenants/${encodeURIComponent(t.slug)}`} onClick={(event) => event.stopPropagation()}>
                        {t.name}
                      </Link>
                      <code className="muted">{t.slug}</code>
                    </span>
                  ),
                },
                {
                  key: 'hosts',
                  label: 'Hosts',
                  value: (t) => t.hosts.join(' '),
                  render: (t) => (
                    <span className="platform-hosts">
                      {t.hosts.map((host) => (
                        <span key={host}>{host}</span>
                      ))}
                    </span>
                  ),
                },
                { key: 'status', label: 'Status', render: (t) => <StatusBadge status={t.status} /> },
                { key: 'limits', label: 'Users / sites', sortable: false, value: (t) => `${limitText(t.limits.maxUsers)} / ${limitText(t.limits.maxSites)}` },
                { key: 'createdAt', label: 'Created', render: (t) => formatDateTime(t.createdAt) },
              ]}
            />
          </div>
        ))}
      <CreateTenantDialog open={creating} onClose={() => setCreating(false)} />
    </>
  );
}
