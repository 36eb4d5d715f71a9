import { useEffect, useId, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError } from '../../api/http';
import { useSession } from '../../api/session';
import { Button, Card, ErrorNotice, Loading, PageHeader, SuccessNotice, TextField, formatDateTime } from '../../ui/components';
import { ConfirmDialog, ConfirmRemoval } from './Confirm';
import { keys, platformApi, refreshTenants, TENANT_SLUG_ATTRIBUTE, type ActivationAnswer, type DeactivationAnswer, type TenantAdmin, type UpdateTenantInput } from './api';
import { parseHosts, StatusBadge } from './TenantsPage';

const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const COLOUR = /^#[0-9a-fA-F]{6}$/;
const LANGUAGE = /^[a-z]{2,3}(-[a-zA-Z0-9]{2,8})?$/;

/** Every PATCH of this page: saves, refreshes the tenant everywhere, says so. */
function useUpdate(slug: string, done?: (tenant: TenantAdmin) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: UpdateTenantInput) => platformApi.updateTenant(slug, input),
    onSuccess: async (tenant) => {
      queryClient.setQueryData(keys.tenant(slug), tenant);
      done?.(tenant);
      await refreshTenants(queryClient);
    },
  });
}

function Saved({ show, children = 'Saved.' }: { show: boolean; children?: ReactNode }) {
  return show ? <SuccessNotice>{children}</SuccessNotice> : null;
}

function GeneralCard({ tenant }: { tenant: TenantAdmin }) {
  const [name, setName] = useState(tenant.name);
  const update = useUpdate(tenant.slug);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    update.mutate({ name: name.trim() });
  };
  return (
    <Card title="General">
      <form onSubmit={submit} className="inline-form platform-form-top">
        <TextField label="Name" required maxLength={200} value={name} onChange={(event) => setName(event.target.value)} />
        <Button type="submit" variant="primary" busy={update.isPending} disabled={name.trim() === '' || name.trim() === tenant.name}>
          Save name
        </Button>
      </form>
      <ErrorNotice error={update.error} />
      <Saved show={update.isSuccess && !update.isPending}>Name saved.</Saved>
      <dl className="platform-facts">
        <dt>Slug</dt>
        <dd>
          <code>{tenant.slug}</code> (never changes)
        </dd>
        <dt>Storage</dt>
        <dd>
          <code>{tenant.storage}</code>
        </dd>
        <dt>Created</dt>
        <dd>{formatDateTime(tenant.createdAt)}</dd>
        <dt>Last changed</dt>
        <dd>{formatDateTime(tenant.updatedAt)}</dd>
      </dl>
    </Card>
  );
}

function HostsCard({ tenant }: { tenant: TenantAdmin }) {
  const [adding, setAdding] = useState('');
  const [removing, setRemoving] = useState<string | null>(null);
  const add = useUpdate(tenant.slug, () => setAdding(''));
  const remove = useUpdate(tenant.slug, () => setRemoving(null));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const hosts = parseHosts(adding);
    if (hosts.length > 0) add.mutate({ addHosts: hosts });
  };
  return (
    <Card title="Hosts">
      <p className="muted">Users sign in and trackers send hits at these host names. Point their DNS at this server.</p>
      <ul className="platform-list" aria-label={`Hosts of ${tenant.name}`}>
        {tenant.hosts.map((host) => (
          <li key={host}>
            <code>{host}</code>
            <Button
              variant="danger"
              aria-label={`Remove host ${host}`}
              disabled={tenant.hosts.length <= 1}
              title={tenant.hosts.length <= 1 ? 'A tenant keeps at least one host.' : undefined}
              onClick={() => setRemoving(host)}
            >
              Remove
            </Button>
          </li>
        ))}
      </ul>
      <form onSubmit={submit} className="inline-form">
        <TextField label="Add a host" placeholder="analytics.example.com" spellCheck={false} autoComplete="off" value={adding} onChange={(event) => setAdding(event.target.value)} />
        <Button type="submit" busy={add.isPending} disabled={parseHosts(adding).length === 0}>
          Add host
        </Button>
      </form>
      <ErrorNotice error={add.error} />
      <ConfirmRemoval
        removing={removing}
        setRemoving={setRemoving}
        remove={remove}
        title="Remove this host?"
        confirmLabel="Remove host"
        onConfirm={(host) => remove.mutate({ removeHosts: [host] })}
      >
        <p>
          <code>{removing}</code> stops answering for {tenant.name} at once: its users can no longer sign in there and trackers sending to it are refused.
        </p>
      </ConfirmRemoval>
    </Card>
  );
}

function AttributesCard({ tenant }: { tenant: TenantAdmin }) {
  const [editing, setEditing] = useState<string | null>(null);
  const [editValue, setEditValue] = useState('');
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [removing, setRemoving] = useState<string | null>(null);
  const [keyError, setKeyError] = useState<string | null>(null);
  const editId = useId();
  const tableRef = useRef<HTMLTableElement>(null);
  // After editing in place, the focus goes back to the row's Edit button (keyboard users keep their place).
  const refocus = useRef<string | null>(null);
  const stopEditing = () => {
    refocus.current = editing;
    setEditing(null);
  };
  useEffect(() => {
    const name = refocus.current;
    if (name === null || editing !== null) return;
    refocus.current = null;
    tableRef.current?.querySelector<HTMLElement>(`[data-edit="${CSS.escape(name)}"]`)?.focus();
  });
  const save = useUpdate(tenant.slug, stopEditing);
  const add = useUpdate(tenant.slug, () => {
    setKey('');
    setValue('');
  });
  const remove = useUpdate(tenant.slug, () => setRemoving(null));
  const entries = useMemo(() => Object.entries(tenant.attributes).sort(([a], [b]) => a.localeCompare(b)), [tenant.attributes]);

  const submitAdd = (event: FormEvent) => {
    event.preventDefault();
    const name = key.trim();
    if (!ATTRIBUTE_NAME.test(name)) {
      setKeyError('1 to 64 letters, digits, "_", "." or "-"; names starting with @ are built in.');
      return;
    }
    setKeyError(null);
    add.mutate({ attributes: { [name]: value } });
  };
  const submitEdit = (event: FormEvent, name: string) => {
    event.preventDefault();
    save.mutate({ attributes: { [name]: editValue } });
  };

  return (
    <Card title="Attributes">
      <p className="muted">
        Its users inherit these (a super user may override them per user). Data policies of tenant groups fill them in, e.g. <code>{'{{region}}'}</code>.
      </p>
      <div className="table-scroll">
        <table ref={tableRef} className="platform-attributes">
          <caption className="visually-hidden">Attributes of {tenant.name}</caption>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Value</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <td>
                <code>{TENANT_SLUG_ATTRIBUTE}</code>
              </td>
              <td>{tenant.slug}</td>
              <td className="row-actions">
                <span className="badge">built in</span>
              </td>
            </tr>
            {entries.map(([name, current]) =>
              editing === name ? (
                <tr key={name}>
                  <td>
                    <code>{name}</code>
                  </td>
                  <td colSpan={2}>
                    <form className="platform-row-form" onSubmit={(event) => submitEdit(event, name)}>
                      <label htmlFor={editId} className="visually-hidden">
                        Value of {name}
                      </label>
                      <input
                        id={editId}
                        autoFocus
                        maxLength={1000}
                        value={editValue}
                        onChange={(event) => setEditValue(event.target.value)}
                        onKeyDown={(event) => {
                          if (event.key === 'Escape') {
                            event.preventDefault();
                            stopEditing();
                          }
                        }}
                      />
                      <Button type="submit" variant="primary" busy={save.isPending}>
                        Save
                      </Button>
                      <Button onClick={stopEditing}>Cancel</Button>
                    </form>
                  </td>
                </tr>
              ) : (
                <tr key={name}>
                  <td>
                    <code>{name}</code>
                  </td>
                  <td className="platform-value">{current === '' ? <span className="muted">(empty)</span> : current}</td>
                  <td className="row-actions">
                    <Button
                      variant="link"
                      aria-label={`Edit ${name}`}
                      data-edit={name}
                      onClick={() => {
                        save.reset();
                        setEditing(name);
                        setEditValue(current);
                      }}
                    >
                      Edit
                    </Button>
                    <Button variant="link" className="platform-danger-link" aria-label={`Remove ${name}`} onClick={() => setRemoving(name)}>
                      Remove
                    </Button>
                  </td>
                </tr>
              ),
            )}
          </tbody>
        </table>
      </div>
      {entries.length === 0 && <p className="muted">No attributes of its own yet.</p>}
      <ErrorNotice error={save.error} />
      <form onSubmit={submitAdd} className="inline-form" aria-label="Add an attribute">
        <TextField label="Key" placeholder="region" maxLength={64} spellCheck={false} autoComplete="off" value={key} error={keyError} onChange={(event) => setKey(event.target.value)} />
        <TextField label="Value" placeholder="eu" maxLength={1000} autoComplete="off" value={value} onChange={(event) => setValue(event.target.value)} />
        <Button type="submit" busy={add.isPending} disabled={key.trim() === ''}>
          {key.trim() in tenant.attributes ? 'Replace attribute' : 'Add attribute'}
        </Button>
      </form>
      <ErrorNotice error={add.error} />
      <ConfirmRemoval
        removing={removing}
        setRemoving={setRemoving}
        remove={remove}
        title="Remove this attribute?"
        confirmLabel="Remove attribute"
        onConfirm={(key) => remove.mutate({ removeAttributes: [key] })}
      >
        <p>
          Users of {tenant.name} no longer inherit <code>{removing}</code>. Members of groups whose data policy uses it, and who do not override it, then see no data.
        </p>
      </ConfirmRemoval>
    </Card>
  );
}

/** "" is unlimited; otherwise a whole number ≥ 0. */
function parseLimit(text: string): number | null | 'invalid' {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  return /^\d{1,9}$/.test(trimmed) ? Number(trimmed) : 'invalid';
}

function LimitsCard({ tenant }: { tenant: TenantAdmin }) {
  const [users, setUsers] = useState(tenant.limits.maxUsers === null ? '' : String(tenant.limits.maxUsers));
  const [sites, setSites] = useState(tenant.limits.maxSites === null ? '' : String(tenant.limits.maxSites));
  const update = useUpdate(tenant.slug);
  const maxUsers = parseLimit(users);
  const maxSites = parseLimit(sites);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (maxUsers === 'invalid' || maxSites === 'invalid') return;
    update.mutate({ maxUsers, maxSites });
  };
  return (
    <Card title="Limits">
      <form onSubmit={submit}>
        <div className="platform-pair">
          <TextField
            label="Maximum users"
            inputMode="numeric"
            placeholder="unlimited"
            value={users}
            error={maxUsers === 'invalid' ? 'A whole number, or empty for unlimited.' : null}
            hint="Empty: unlimited."
            onChange={(event) => setUsers(event.target.value)}
          />
          <TextField
            label="Maximum sites"
            inputMode="numeric"
            placeholder="unlimited"
            value={sites}
            error={maxSites === 'invalid' ? 'A whole number, or empty for unlimited.' : null}
            hint="Empty: unlimited."
            onChange={(event) => setSites(event.target.value)}
          />
        </div>
        <Button type="submit" variant="primary" busy={update.isPending} disabled={maxUsers === 'invalid' || maxSites === 'invalid'}>
          Save limits
        </Button>
      </form>
      <ErrorNotice error={update.error} />
      <Saved show={update.isSuccess && !update.isPending}>Limits saved.</Saved>
    </Card>
  );
}

const timeZones: readonly string[] = (() => {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return ['UTC'];
  }
})();

function BrandingCard({ tenant }: { tenant: TenantAdmin }) {
  const [productName, setProductName] = useState(tenant.branding.productName ?? '');
  const [colour, setColour] = useState(tenant.branding.primaryColor ?? '');
  const [language, setLanguage] = useState(tenant.language ?? '');
  const [timezone, setTimezone] = useState(tenant.timezone ?? '');
  const update = useUpdate(tenant.slug);
  const zonesId = useId();
  const colourError = colour.trim() !== '' && !COLOUR.test(colour.trim()) ? 'A colour such as #1a73e8.' : null;
  const languageError = language.trim() !== '' && !LANGUAGE.test(language.trim()) ? 'A language code such as en or pt-BR.' : null;
  const orNull = (text: string) => (text.trim() === '' ? null : text.trim());
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (colourError || languageError) return;
    update.mutate({ productName: orNull(productName), primaryColor: orNull(colour), language: orNull(language), timezone: orNull(timezone) });
  };
  return (
    <Card title="Branding and defaults">
      <p className="muted">Empty fields use the platform’s defaults.</p>
      <form onSubmit={submit}>
        <TextField label="Product name" maxLength={100} placeholder="the platform’s product name" value={productName} onChange={(event) => setProductName(event.target.value)} />
        <div className="platform-colour">
          <TextField
            label="Primary colour"
            placeholder="#3450a1"
            maxLength={7}
            spellCheck={false}
            value={colour}
            error={colourError}
            onChange={(event) => setColour(event.target.value)}
          />
          <input
            type="color"
            aria-label="Pick the primary colour"
            value={COLOUR.test(colour.trim()) ? colour.trim().toLowerCase() : '#3450a1'}
            onChange={(event) => setColour(event.target.value)}
          />
        </div>
        <div className="platform-pair">
          <TextField label="Language" placeholder="en" maxLength={20} spellCheck={false} value={language} error={languageError} onChange={(event) => setLanguage(event.target.value)} />
          <TextField label="Time zone" placeholder="UTC" list={zonesId} spellCheck={false} value={timezone} onChange={(event) => setTimezone(event.target.value)} />
          <datalist id={zonesId}>
            {timeZones.map((zone) => (
              <option key={zone} value={zone} />
            ))}
          </datalist>
        </div>
        <Button type="submit" variant="primary" busy={update.isPending} disabled={Boolean(colourError || languageError)}>
          Save branding
        </Button>
      </form>
      <ErrorNotice error={update.error} />
      <Saved show={update.isSuccess && !update.isPending}>Branding saved.</Saved>
    </Card>
  );
}

function names(list: readonly string[]): string {
  if (list.length === 0) return 'none';
  return list.length > 10 ? `${list.slice(0, 10).join(', ')} and ${list.length - 10} more` : list.join(', ');
}

/** Deactivate or activate, each behind a confirmation that says exactly what happens. */
function LifecycleActions({ tenant, onOutcome }: { tenant: TenantAdmin; onOutcome: (text: string) => void }) {
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const deactivated = tenant.status === 'deactivated';
  const change = useMutation<DeactivationAnswer | ActivationAnswer>({
    mutationFn: () => (deactivated ? platformApi.activate(tenant.slug) : platformApi.deactivate(tenant.slug)),
    onSuccess: async (answer) => {
      setConfirming(false);
      if ('usersDeactivated' in answer) {
        onOutcome(`${tenant.name} is deactivated. Users deactivated: ${names(answer.usersDeactivated)}.`);
      } else {
        onOutcome(`${tenant.name} is active again. Users reactivated: ${names(answer.usersReactivated)}. Still deactivated (by an administrator): ${names(answer.stillDeactivated)}.`);
      }
      await refreshTenants(queryClient);
    },
  });
  return (
    <>
      <Button
        variant={deactivated ? 'primary' : 'danger'}
        onClick={() => {
          change.reset();
          setConfirming(true);
        }}
      >
        {deactivated ? 'Activate tenant' : 'Deactivate tenant'}
      </Button>
      <ConfirmDialog
        open={confirming}
        title={deactivated ? `Activate ${tenant.name}?` : `Deactivate ${tenant.name}?`}
        confirmLabel={deactivated ? 'Activate tenant' : 'Deactivate tenant'}
        danger={!deactivated}
        busy={change.isPending}
        error={change.error}
        {...(deactivated ? {} : { typeToConfirm: tenant.slug })}
        onConfirm={() => change.mutate()}
        onClose={() => setConfirming(false)}
      >
        {deactivated ? (
          <ul>
            <li>Its hosts answer again: sign-in, reports, the API and tracking.</li>
            <li>Exactly the users the deactivation touched are active again, with their old API tokens.</li>
            <li>Users an administrator had deactivated stay deactivated.</li>
          </ul>
        ) : (
          <>
            <p>Nothing is deleted, and activating restores exactly the previous state. Until then:</p>
            <ul>
              <li>
                Its hosts ({tenant.hosts.join(', ')}) answer 403 to every request, <strong>tracking included</strong>: hits sent meanwhile are lost.
              </li>
              <li>Every user of the tenant is deactivated: their sessions end and their API tokens are refused.</li>
              <li>On activation, exactly those users come back; users an administrator had deactivated before stay deactivated.</li>
            </ul>
          </>
        )}
      </ConfirmDialog>
    </>
  );
}

/** /platform/tenants/:slug: hosts, attributes, limits, branding, lifecycle, and acting inside it. */
export function TenantPage() {
  const { slug = '' } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  const { actIn } = useSession();
  const [outcome, setOutcome] = useState<string | null>(null);
  const tenant = useQuery({ queryKey: keys.tenant(slug), queryFn: () => platformApi.tenant(slug) });
  // "Created" is said once: the history entry forgets it, so a reload does not repeat it.
  const [created] = useState(() => (location.state as { created?: boolean } | null)?.created === true);
  useEffect(() => {
    if (created) void navigate(location.pathname, { replace: true, state: null });
  }, [created, location.pathname, navigate]);

  if (tenant.isLoading) return <Loading label="Loading the tenant…" />;
  if (tenant.error || !tenant.data) {
    const missing = tenant.error instanceof ApiError && tenant.error.status === 404;
    return (
      <>
        <PageHeader title={missing ? 'No such tenant' : 'Tenant'} />
        <ErrorNotice error={tenant.error ?? new Error('No answer.')} />
        <Link to="/platform/tenants">All tenants</Link>
      </>
    );
  }
  const t = tenant.data;
  // Forms start from the saved values of this tenant (keyed, so another tenant starts them afresh).
  const version = t.slug;
  return (
    <>
      <nav aria-label="Breadcrumb" className="platform-breadcrumb">
        <Link to="/platform/tenants">Tenants</Link> <span aria-hidden="true">›</span> <span aria-current="page">{t.name}</span>
      </nav>
      <PageHeader
        title={t.name}
        actions={
          <>
            <Button
              disabled={t.status !== 'active'}
              title={t.status !== 'active' ? 'Activate the tenant first.' : undefined}
              onClick={() => {
                actIn(t.slug);
                void navigate('/reports');
              }}
            >
              Open as super user
            </Button>
            <LifecycleActions tenant={t} onOutcome={setOutcome} />
          </>
        }
      >
        <p className="platform-subtitle">
          <code>{t.slug}</code> <StatusBadge status={t.status} />
        </p>
      </PageHeader>
      {created && !outcome && <SuccessNotice>Tenant created. Its hosts answer now.</SuccessNotice>}
      {outcome && <SuccessNotice>{outcome}</SuccessNotice>}
      {t.status === 'deactivated' && (
        <div className="notice notice-error" role="note">
          This tenant is deactivated: its hosts answer 403 and its users are deactivated until it is activated.
        </div>
      )}
      <div className="grid-2">
        <GeneralCard key={`general-${version}`} tenant={t} />
        <HostsCard tenant={t} />
      </div>
      <AttributesCard tenant={t} />
      <div className="grid-2">
        <LimitsCard key={`limits-${version}`} tenant={t} />
        <BrandingCard key={`branding-${version}`} tenant={t} />
      </div>
    </>
  );
}
