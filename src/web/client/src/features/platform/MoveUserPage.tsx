import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { Button, Card, ErrorNotice, PageHeader, SelectField, SuccessNotice, TextField } from '../../ui/components';
import { ConfirmDialog } from './Confirm';
import { platformApi, useTenants, type UserAssignment } from './api';

type Direction = 'to-tenant' | 'to-platform';

function list(items: readonly string[]): string {
  return items.length === 0 ? 'none' : items.join(', ');
}

function Outcome({ result }: { result: UserAssignment }) {
  return (
    <SuccessNotice>
      <p>
        {result.login} moved from {result.from ?? 'the platform'} to {result.to ?? 'the platform'}
        {result.active ? '' : ' (it stays deactivated, as an administrator had left it)'}.
      </p>
      <ul>
        <li>Group memberships left behind: {list(result.droppedGroups)}</li>
        <li>Rights left behind: {list(result.droppedRights)}</li>
        <li>
          Sessions ended: {result.endedSessions}; tokens ended: {result.endedTokens}
        </li>
      </ul>
    </SuccessNotice>
  );
}

/** /platform/users: move one user between the platform and a tenant (all or nothing). */
export function MoveUserPage() {
  const tenants = useTenants();
  const [direction, setDirection] = useState<Direction>('to-tenant');
  const [login, setLogin] = useState('');
  const [tenant, setTenant] = useState('');
  const [confirming, setConfirming] = useState(false);
  const move = useMutation({
    mutationFn: () => platformApi.assign(login.trim(), direction === 'to-tenant' ? { tenant } : { tenant: null, from: tenant }),
    onSuccess: () => {
      setConfirming(false);
      setLogin('');
    },
  });
  const ready = login.trim() !== '' && tenant !== '';
  const submit = (event: FormEvent) => {
    event.preventDefault();
    move.reset();
    if (ready) setConfirming(true);
  };
  const active = (tenants.data ?? []).filter((t) => t.status === 'active');

  return (
    <>
      <PageHeader title="Move a user" />
      <Card>
        <p className="muted">
          The login, email, names, password and two-factor authentication move with the user. Group memberships, platform-admin or super-user rights, site roles, SSO links,
          sessions and tokens stay behind.
        </p>
        <form onSubmit={submit} className="stack">
          <SelectField
            label="Direction"
            value={direction}
            onChange={(event) => setDirection(event.target.value === 'to-platform' ? 'to-platform' : 'to-tenant')}
            options={[
              { value: 'to-tenant', label: 'From the platform to a tenant' },
              { value: 'to-platform', label: 'From a tenant to the platform' },
            ]}
          />
          <TextField label="Login" required autoComplete="off" spellCheck={false} value={login} onChange={(event) => setLogin(event.target.value)} />
          <SelectField
            label={direction === 'to-tenant' ? 'To tenant' : 'From tenant'}
            value={tenant}
            onChange={(event) => setTenant(event.target.value)}
            options={[{ value: '', label: tenants.isLoading ? 'Loading tenants…' : 'Choose a tenant…' }, ...active.map((t) => ({ value: t.slug, label: `${t.name} (${t.slug})` }))]}
          />
          <ErrorNotice error={tenants.error} />
          <Button type="submit" variant="primary" disabled={!ready}>
            Move user…
          </Button>
        </form>
        {move.data && <Outcome result={move.data} />}
      </Card>
      <ConfirmDialog
        open={confirming}
        title={`Move ${login.trim()}?`}
        confirmLabel="Move user"
        danger
        busy={move.isPending}
        error={move.error}
        onConfirm={() => move.mutate()}
        onClose={() => setConfirming(false)}
      >
        <p>
          {direction === 'to-tenant' ? `${login.trim()} becomes a user of ${tenant}` : `${login.trim()} leaves ${tenant} and becomes a platform user`}. Its sessions and tokens end,
          and its groups and rights stay behind. Refused if the login or email is taken on the other side, the tenant’s user limit is reached, it is the last platform admin or
          super user, or it still has personal dashboards.
        </p>
      </ConfirmDialog>
    </>
  );
}
