import { useMemo, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/http';
import { useAbilities } from '../../api/session';
import type { UserView } from '../../api/types';
import { Button, CheckboxField, Dialog, DialogForm, ErrorNotice, Loading, PageHeader, SelectField, TextField, formatDateTime } from '../../ui/components';
import { CopyTextButton } from '../../ui/clipboard';
import { DataTable } from '../../ui/DataTable';
import { isSiteAdminOnly, roleLabels, useAdminSites, useRolesBySite, type AdminSite, type InvitationOffer, type UserPlusRole } from './common';

type CreatedUser = UserView & { invitation?: InvitationOffer };

/** The link of a new invitation, to copy; and whether it went out by email. */
export function InvitationNotice({ offer, login }: { offer: InvitationOffer; login: string }) {
  return (
    <div className="notice notice-success admin-invitation" role="status">
      <p>
        Invitation for <strong>{login}</strong>, valid until {formatDateTime(offer.expiresAt)}.{' '}
        {offer.emailed ? 'It was emailed to the user.' : offer.emailError ? `It could not be emailed (${offer.emailError}); send the link yourself.` : 'Email is not set up here: send the link yourself.'}
      </p>
      <div className="admin-copy-row">
        <code className="token" aria-label="Invitation link">
          {offer.url}
        </code>
        <CopyTextButton text={offer.url} label="Copy link" />
      </div>
    </div>
  );
}

function CreateUserDialog({ open, onClose, sites }: { open: boolean; onClose: () => void; sites: readonly AdminSite[] }) {
  const abilities = useAbilities();
  const siteAdmin = isSiteAdminOnly(abilities);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [login, setLogin] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [invite, setInvite] = useState(false);
  const [site, setSite] = useState('');
  const [created, setCreated] = useState<CreatedUser | null>(null);

  const create = useMutation({
    mutationFn: () =>
      api.post<CreatedUser>('/api/v1/users', {
        login: login.trim(),
        email: email.trim(),
        ...(invite ? { invite: true } : { password }),
        ...(site ? { initialSiteId: Number(site) } : {}),
      }),
    onSuccess: async (user) => {
      await queryClient.invalidateQueries({ queryKey: ['admin'] });
      if (user.invitation) setCreated(user);
      else {
        close();
        void navigate(`/admin/users/${encodeURIComponent(user.login)}`, { state: { created: true } });
      }
    },
  });

  const close = () => {
    setLogin('');
    setEmail('');
    setPassword('');
    setInvite(false);
    setSite('');
    setCreated(null);
    create.reset();
    onClose();
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };

  return (
    <Dialog open={open} title="Create a user" onClose={close}>
      {created?.invitation ? (
        <div className="stack">
          <InvitationNotice offer={created.invitation} login={created.login} />
          <div className="admin-dialog-actions">
            <Button onClick={close}>Close</Button>
            <Button
              variant="primary"
              onClick={() => {
                const target = created.login;
                close();
                void navigate(`/admin/users/${encodeURIComponent(target)}`);
              }}
            >
              Set roles of {created.login}
            </Button>
          </div>
        </div>
      ) : (
        <DialogForm className="stack" onSubmit={submit} aria-label="Create a user" error={create.error} busy={create.isPending} submitLabel="Create user" onCancel={close} actionsClassName="admin-dialog-actions">
          <TextField label="Login" required autoComplete="off" minLength={2} maxLength={100} value={login} onChange={(e) => setLogin(e.target.value)} hint="2 to 100 letters, digits or _ . @ + -" />
          <TextField label="Email" type="email" required autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} />
          <CheckboxField label="Send an invitation instead of a password" checked={invite} onChange={(e) => setInvite(e.target.checked)} hint="the user chooses a password through a one-time link" />
          {!invite && <TextField label="Password" type="password" required autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />}
          <SelectField
            label={siteAdmin ? 'Give view access to' : 'Give view access to (optional)'}
            required={siteAdmin}
            value={site}
            onChange={(e) => setSite(e.target.value)}
            options={[{ value: '', label: siteAdmin ? 'Choose a site…' : 'No site yet' }, ...sites.map((s) => ({ value: String(s.idsite), label: s.name }))]}
            hint="More roles can be given on the user’s page."
          />
        </DialogForm>
      )}
    </Dialog>
  );
}

/** "Super user", or the roles by count ("2 admin · 1 view"), over the sites the caller administers. */
function roleSummary(user: UserView, bySite: ReadonlyMap<number, ReadonlyMap<string, UserPlusRole>> | undefined): string {
  if (user.superuser_access) return 'Super user';
  if (!bySite) return '…';
  const counts = new Map<string, number>();
  for (const users of bySite.values()) {
    const role = users.get(user.login)?.role;
    if (role && role !== 'noaccess' && role !== 'superuser') counts.set(role, (counts.get(role) ?? 0) + 1);
  }
  if (counts.size === 0) return 'No access';
  return (['admin', 'write', 'view'] as const)
    .filter((role) => counts.has(role))
    .map((role) => `${roleLabels[role]} on ${counts.get(role)} site${counts.get(role) === 1 ? '' : 's'}`)
    .join(' · ');
}

/** /admin/users: every user the caller may manage, with roles, second factor and activity. */
export function UsersPage() {
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const users = useQuery({ queryKey: ['admin', 'users'], queryFn: () => api.get<{ users: UserView[]; total: number }>('/api/v1/users') });
  const sites = useAdminSites();
  const siteIds = useMemo(() => sites.sites.map((s) => s.idsite), [sites.sites]);
  const roles = useRolesBySite(siteIds);

  return (
    <div className="page">
      <PageHeader
        title="Users"
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            Create a user
          </Button>
        }
      >
        <p className="muted">People who may sign in to this tenant, their roles on your sites, and their sign-in security.</p>
      </PageHeader>
      {users.isLoading && <Loading />}
      <ErrorNotice error={users.error ?? sites.error ?? roles.error} />
      {users.data && (
        <DataTable
          caption="Users"
          rows={users.data.users}
          rowKey={(u) => u.login}
          initialSort={{ key: 'login', descending: false }}
          empty="No users yet."
          onRowClick={(u) => void navigate(`/admin/users/${encodeURIComponent(u.login)}`)}
          columns={[
            {
              key: 'login',
              label: 'Login',
              render: (u) => (
                <Link to={`/admin/users/${encodeURIComponent(u.login)}`} onClick={(e) => e.stopPropagation()}>
                  {u.login}
                </Link>
              ),
            },
            { key: 'email', label: 'Email' },
            { key: 'roles', label: 'Roles', value: (u) => roleSummary(u, roles.data) },
            {
              key: 'uses_2fa',
              label: '2FA',
              value: (u) => (u.uses_2fa ? 'on' : u.require_mfa ? 'required' : 'off'),
              render: (u) => (u.uses_2fa ? <span className="badge badge-ok">on</span> : u.require_mfa ? <span className="badge">required</span> : <span className="badge">off</span>),
            },
            {
              key: 'active',
              label: 'Status',
              value: (u) => (u.active ? 'active' : 'deactivated'),
              render: (u) => (u.active ? <span className="badge badge-ok">active</span> : <span className="badge badge-danger">deactivated</span>),
            },
            { key: 'last_seen', label: 'Last seen', value: (u) => u.last_seen ?? '', render: (u) => formatDateTime(u.last_seen) },
          ]}
        />
      )}
      <CreateUserDialog open={creating} onClose={() => setCreating(false)} sites={sites.sites} />
    </div>
  );
}
