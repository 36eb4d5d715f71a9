import { useMemo, useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, rest } from '../../api/http';
import { useAbilities, useSession } from '../../api/session';
import type { Role, UserView } from '../../api/types';
import { Button, Card, CheckboxField, ErrorNotice, Loading, PageHeader, SelectField, SuccessNotice, TextField, formatDateTime } from '../../ui/components';
import { TokensPanel } from '../account/TokensPanel';
import { InvitationNotice } from './UsersPage';
import {
  ConfirmDialog,
  PasswordConfirmDialog,
  capabilityLabels,
  grantableCapabilities,
  grantableOnRole,
  impliedByRole,
  isSiteAdminOnly,
  roleLabels,
  roles,
  useAdminSites,
  useRolesBySite,
  type AdminSite,
  type InvitationOffer,
  type UserPlusRole,
} from './common';

const userPath = (login: string) => `/api/v1/users/${encodeURIComponent(login)}`;

function ProfileCard({ user }: { user: UserView }) {
  const queryClient = useQueryClient();
  const [email, setEmail] = useState(user.email);
  const [alias, setAlias] = useState(user.alias ?? '');
  const [requireMfa, setRequireMfa] = useState(user.require_mfa);
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const needsConfirmation = email.trim() !== user.email || password !== '';
  const save = useMutation({
    mutationFn: () =>
      api.patch<UserView>(userPath(user.login), {
        ...(email.trim() !== user.email ? { email: email.trim() } : {}),
        ...(alias !== (user.alias ?? '') ? { alias: alias === '' ? null : alias } : {}),
        ...(requireMfa !== user.require_mfa ? { requireMfa } : {}),
        ...(password !== '' ? { password } : {}),
        ...(needsConfirmation ? { passwordConfirmation: confirmation } : {}),
      }),
    onSuccess: async (updated) => {
      setPassword('');
      setConfirmation('');
      queryClient.setQueryData(['admin', 'user', user.login], updated);
      await queryClient.invalidateQueries({ queryKey: ['admin', 'users'] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <Card title="Profile">
      <form className="stack" onSubmit={submit} aria-label="Profile">
        <TextField label="Email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <TextField label="Alias" value={alias} maxLength={200} onChange={(e) => setAlias(e.target.value)} hint="A display name" />
        <CheckboxField label="Require two-factor authentication" checked={requireMfa} onChange={(e) => setRequireMfa(e.target.checked)} hint="the user sets it up at the next sign-in" />
        <TextField label="New password (optional)" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} hint="Ends the user’s other sessions." />
        {needsConfirmation && (
          <TextField
            label="Your password"
            type="password"
            autoComplete="current-password"
            required
            value={confirmation}
            onChange={(e) => setConfirmation(e.target.value)}
            hint="Changing an email or a password needs your own password."
          />
        )}
        <Button type="submit" variant="primary" busy={save.isPending}>
          Save profile
        </Button>
        <ErrorNotice error={save.error} />
        <SuccessNotice>{save.isSuccess && 'The profile was saved.'}</SuccessNotice>
      </form>
    </Card>
  );
}


/** The user's role on each site the caller administers, changed per site or all at once; capabilities on top. */
function RoleMatrix({ login, sites, bySite }: { login: string; sites: readonly AdminSite[]; bySite: ReadonlyMap<number, ReadonlyMap<string, UserPlusRole>> }) {
  const abilities = useAbilities();
  const siteAdmin = isSiteAdminOnly(abilities);
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Readonly<Record<number, Role>>>({});
  const [bulk, setBulk] = useState<Role>('view');
  const [saved, setSaved] = useState<string | null>(null);

  const savedRole = (site: number): Role => {
    const role = bySite.get(site)?.get(login)?.role;
    return role === undefined || role === 'superuser' ? 'noaccess' : role;
  };
  const roleOf = (site: number): Role => draft[site] ?? savedRole(site);
  const changed = sites.filter((s) => draft[s.idsite] !== undefined && draft[s.idsite] !== savedRole(s.idsite));

  const saveRoles = useMutation({
    mutationFn: async (which: readonly number[]) => {
      const byRole = new Map<Role, number[]>();
      for (const id of which) {
        const role = roleOf(id);
        byRole.set(role, [...(byRole.get(role) ?? []), id]);
      }
      for (const [access, ids] of byRole) await api.put(`${userPath(login)}/access`, { access, sites: ids });
      return which;
    },
    onSuccess: async (which) => {
      setDraft((current) => Object.fromEntries(Object.entries(current).filter(([id]) => !which.includes(Number(id)))));
      setSaved(`Saved the role${which.length === 1 ? '' : 's'} on ${which.length} site${which.length === 1 ? '' : 's'}.`);
      await queryClient.invalidateQueries({ queryKey: ['admin'] });
    },
    onMutate: () => setSaved(null),
  });

  // A ticked box shows ticked at once; the server's answer (re-read) replaces it.
  const [pendingCaps, setPendingCaps] = useState<Readonly<Record<string, boolean>>>({});
  const capability = useMutation({
    mutationFn: ({ site, name, add }: { site: number; name: string; add: boolean }) =>
      rest(add ? 'POST' : 'DELETE', `${userPath(login)}/capabilities`, { capabilities: [name], sites: [site] }),
    onMutate: ({ site, name, add }) => setPendingCaps((p) => ({ ...p, [`${site}|${name}`]: add })),
    onSettled: async (_answer, _error, { site, name }) => {
      await queryClient.invalidateQueries({ queryKey: ['admin', 'roles-by-site'] });
      setPendingCaps((p) => Object.fromEntries(Object.entries(p).filter(([key]) => key !== `${site}|${name}`)));
    },
  });

  const roleOptions = roles.map((role) => ({ value: role, label: roleLabels[role] }));
  const grantable = siteAdmin ? roleOptions.filter((o) => o.value !== 'admin') : roleOptions;

  return (
    <Card title="Roles on sites">
      <p className="muted">
        No access &lt; View &lt; Write &lt; Admin.{siteAdmin ? ' As a site administrator you may give view or write access on your sites.' : ''} Capabilities add single rights on top of a role.
      </p>
      <div className="toolbar">
        <SelectField label="Set every site to" value={bulk} onChange={(e) => setBulk(e.target.value as Role)} options={grantable} />
        <Button onClick={() => setDraft(Object.fromEntries(sites.filter((s) => !(siteAdmin && savedRole(s.idsite) === 'admin')).map((s) => [s.idsite, bulk])))}>Apply to all sites</Button>
      </div>
      <div className="table-scroll">
        <table className="admin-matrix">
          <caption className="visually-hidden">Roles of {login} by site</caption>
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col">Role</th>
              <th scope="col">Capabilities</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sites.map((site) => {
              const current = savedRole(site.idsite);
              const role = roleOf(site.idsite);
              const dirty = role !== current;
              const lockedAdmin = siteAdmin && current === 'admin';
              const held = bySite.get(site.idsite)?.get(login)?.capabilities ?? [];
              return (
                <tr key={site.idsite} className={dirty ? 'admin-dirty' : undefined}>
                  <th scope="row">
                    {site.name}
                    <div className="muted admin-small">{site.main_url}</div>
                  </th>
                  <td>
                    <label className="visually-hidden" htmlFor={`role-${site.idsite}`}>
                      Role on {site.name}
                    </label>
                    <select
                      id={`role-${site.idsite}`}
                      value={role}
                      disabled={lockedAdmin}
                      onChange={(e) => setDraft((d) => ({ ...d, [site.idsite]: e.target.value as Role }))}
                    >
                      {(lockedAdmin ? roleOptions : grantable).map((o) => (
                        <option key={o.value} value={o.value}>
                          {o.label}
                        </option>
                      ))}
                    </select>
                    {dirty && <span className="badge admin-badge-changed">changed</span>}
                  </td>
                  <td>
                    {current === 'noaccess' ? (
                      <span className="muted">—</span>
                    ) : (
                      <div className="admin-caps">
                        {grantableCapabilities
                          .filter((name) => impliedByRole[current].includes(name) || grantableOnRole[current].includes(name))
                          .map((name) => {
                            const implied = impliedByRole[current].includes(name);
                            return (
                              <label key={name} className="admin-cap">
                                <input
                                  type="checkbox"
                                  aria-label={`${capabilityLabels[name] ?? name} on ${site.name}`}
                                  checked={implied || (pendingCaps[`${site.idsite}|${name}`] ?? held.includes(name))}
                                  disabled={implied || dirty || capability.isPending}
                                  onChange={(e) =>
                                    capability.mutate({ site: site.idsite, name, add: e.target.checked })
                                  }
                                />
                                {capabilityLabels[name] ?? name}
                                {implied && <span className="muted"> (in role)</span>}
                              </label>
                            );
                          })}
                      </div>
                    )}
                  </td>
                  <td className="row-actions">
                    {dirty && (
                      <Button aria-label={`Save role on ${site.name}`} onClick={() => saveRoles.mutate([site.idsite])} busy={saveRoles.isPending}>
                        Save
                      </Button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <div className="admin-dialog-actions admin-left">
        <Button variant="primary" disabled={changed.length === 0} busy={saveRoles.isPending} onClick={() => saveRoles.mutate(changed.map((s) => s.idsite))}>
          Save roles
        </Button>
        {changed.length > 0 && <Button onClick={() => setDraft({})}>Undo changes</Button>}
        {changed.length > 0 && <span className="muted">{changed.length} unsaved</span>}
      </div>
      <ErrorNotice error={saveRoles.error ?? capability.error} />
      <SuccessNotice>{saved}</SuccessNotice>
    </Card>
  );
}

function AccountCard({ user }: { user: UserView }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { me, refresh } = useSession();
  const self = me?.kind === 'tenant_user' && me.user?.login === user.login;
  const { platformAdmin } = useAbilities();
  const [dialog, setDialog] = useState<'superuser' | 'active' | 'mfa' | 'delete' | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const after = async (message: string) => {
    setDialog(null);
    setNotice(message);
    await queryClient.invalidateQueries({ queryKey: ['admin'] });
    if (self) await refresh();
  };
  const superuser = useMutation({
    mutationFn: (password: string) => api.put<UserView>(`${userPath(user.login)}/superuser`, { superuser: !user.superuser_access, passwordConfirmation: password }),
    onSuccess: () => after(user.superuser_access ? 'Super user access removed.' : 'The user is now a super user.'),
  });
  const active = useMutation({
    mutationFn: () => api.put<UserView>(`${userPath(user.login)}/active`, { active: !user.active }),
    onSuccess: () => after(user.active ? 'The user was deactivated: its sessions ended and its tokens are refused.' : 'The user was reactivated.'),
  });
  const mfa = useMutation({
    mutationFn: () => api.del(`${userPath(user.login)}/mfa`),
    onSuccess: () => after('Two-factor authentication was reset.'),
  });
  const remove = useMutation({
    mutationFn: () => api.del(userPath(user.login)),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['admin'] });
      void navigate('/admin/users', { replace: true });
    },
  });
  const close = () => {
    setDialog(null);
    superuser.reset();
    active.reset();
    mfa.reset();
    remove.reset();
  };

  return (
    <Card title="Access and sign-in">
      <dl className="admin-facts">
        <dt>Super user</dt>
        <dd>{user.superuser_access ? 'yes: admin on every site and the tenant' : 'no'}</dd>
        <dt>Status</dt>
        <dd>{user.active ? 'active' : 'deactivated'}</dd>
        <dt>Two-factor authentication</dt>
        <dd>{user.uses_2fa ? 'on' : user.require_mfa ? 'required, not set up yet' : 'off'}</dd>
      </dl>
      <div className="admin-actions">
        <Button onClick={() => setDialog('superuser')}>{user.superuser_access ? 'Remove super user access' : 'Make super user'}</Button>
        <Button variant={user.active ? 'danger' : 'secondary'} onClick={() => setDialog('active')}>
          {user.active ? 'Deactivate user' : 'Reactivate user'}
        </Button>
        <Button onClick={() => setDialog('mfa')} disabled={!user.uses_2fa}>
          Reset two-factor authentication
        </Button>
        <Button variant="danger" onClick={() => setDialog('delete')} disabled={self}>
          Delete user
        </Button>
      </div>
      <SuccessNotice>{notice}</SuccessNotice>
      <PasswordConfirmDialog
        open={dialog === 'superuser'}
        title={user.superuser_access ? `Remove super user access of ${user.login}` : `Make ${user.login} a super user`}
        confirmLabel={user.superuser_access ? 'Remove super user access' : 'Make super user'}
        onConfirm={(password) => superuser.mutate(password)}
        passwordNeeded={!platformAdmin}
        onClose={close}
        busy={superuser.isPending}
        error={superuser.error}
      >
        <p>{user.superuser_access ? 'The user keeps no role on any site; give roles again afterwards.' : 'A super user may do everything in this tenant: users, sites, security, settings. Its roles on sites are replaced.'}</p>
      </PasswordConfirmDialog>
      <ConfirmDialog
        open={dialog === 'active'}
        title={user.active ? `Deactivate ${user.login}` : `Reactivate ${user.login}`}
        confirmLabel={user.active ? 'Deactivate' : 'Reactivate'}
        danger={user.active}
        onConfirm={() => active.mutate()}
        onClose={close}
        busy={active.isPending}
        error={active.error}
      >
        <p>{user.active ? 'The user can no longer sign in; its sessions end now and its tokens are refused. Its roles are kept.' : 'The user may sign in again with its roles and tokens.'}</p>
      </ConfirmDialog>
      <ConfirmDialog open={dialog === 'mfa'} title={`Reset two-factor authentication of ${user.login}`} confirmLabel="Reset" onConfirm={() => mfa.mutate()} onClose={close} busy={mfa.isPending} error={mfa.error}>
        <p>The user’s authenticator and recovery codes stop working. If two-factor authentication is required, the user sets it up again at the next sign-in.</p>
      </ConfirmDialog>
      <ConfirmDialog open={dialog === 'delete'} title={`Delete ${user.login}`} confirmLabel="Delete user" onConfirm={() => remove.mutate()} onClose={close} busy={remove.isPending} error={remove.error}>
        <p>The user, its roles and its tokens are deleted. This cannot be undone; deactivating keeps them instead.</p>
      </ConfirmDialog>
    </Card>
  );
}

function InvitationCard({ login }: { login: string }) {
  const invite = useMutation({ mutationFn: () => api.post<InvitationOffer>(`${userPath(login)}/invitation`) });
  return (
    <Card title="Invitation">
      <p className="muted">For users who have no password yet: a one-time link to choose one (a new link replaces a pending one).</p>
      <Button onClick={() => invite.mutate()} busy={invite.isPending}>
        Send a new invitation
      </Button>
      <ErrorNotice error={invite.error} />
      {invite.data && <InvitationNotice offer={invite.data} login={login} />}
    </Card>
  );
}

/** /admin/users/:login: profile, roles and capabilities per site, super user, activity, MFA, tokens. */
export function UserDetailPage() {
  const { login = '' } = useParams();
  const abilities = useAbilities();
  const location = useLocation();
  const justCreated = (location.state as { created?: boolean } | null)?.created === true;
  const sites = useAdminSites();
  const siteIds = useMemo(() => sites.sites.map((s) => s.idsite), [sites.sites]);
  const roles = useRolesBySite(siteIds);
  // Super users read the user itself; site admins see what getUsersPlusRole shows of it.
  const user = useQuery({ queryKey: ['admin', 'user', login], queryFn: () => api.get<UserView>(userPath(login)), enabled: abilities.superuser });
  const fromRoles = useMemo(() => {
    for (const users of roles.data?.values() ?? []) {
      const found = users.get(login);
      if (found) return found;
    }
    return undefined;
  }, [roles.data, login]);
  const shown: UserView | undefined = abilities.superuser ? user.data : fromRoles;
  const loading = (abilities.superuser ? user.isLoading : roles.isLoading) || sites.isLoading;

  return (
    <div className="page">
      <p className="admin-back">
        <Link to="/admin/users">← All users</Link>
      </p>
      <PageHeader title={shown?.alias ? `${shown.alias} (${login})` : login}>
        {shown && (
          <p className="muted">
            {shown.email} · registered {formatDateTime(shown.date_registered)} · last seen {formatDateTime(shown.last_seen)}
          </p>
        )}
      </PageHeader>
      {justCreated && <SuccessNotice>The user {login} was created. Give it roles on sites below.</SuccessNotice>}
      {loading && <Loading />}
      <ErrorNotice error={user.error ?? sites.error ?? roles.error} />
      {!loading && !shown && !user.error && <ErrorNotice error={new Error(`User '${login}' is not among the users you manage.`)} />}
      {shown && (
        <>
          {shown.superuser_access ? (
            <Card title="Roles on sites">
              <p>{login} is a super user: admin on every site, with every capability. Remove the super user access to give roles site by site.</p>
            </Card>
          ) : sites.sites.length > 0 && roles.data ? (
            <RoleMatrix login={login} sites={sites.sites} bySite={roles.data} />
          ) : null}
          {abilities.superuser && user.data && (
            <div className="grid-2">
              <ProfileCard key={`${user.data.email}|${user.data.alias ?? ''}|${String(user.data.require_mfa)}`} user={user.data} />
              <AccountCard user={user.data} />
            </div>
          )}
          <InvitationCard login={login} />
          {abilities.superuser && <TokensPanel login={login} />}
        </>
      )}
    </div>
  );
}
