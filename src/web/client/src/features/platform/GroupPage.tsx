import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Card, CheckboxField, ErrorNotice, Loading, PageHeader, SelectField, SuccessNotice, TextArea, TextField } from '../../ui/components';
import { ConfirmDialog, ConfirmRemoval } from './Confirm';
import { KindBadge } from './GroupsPage';
import { keys, platformApi, TENANT_SLUG_ATTRIBUTE, useGroups, useTenants, type GroupPolicyView, type GroupView } from './api';

function MemberList({ group, tenant }: { group: GroupView; tenant: string | null }) {
  const queryClient = useQueryClient();
  const [login, setLogin] = useState('');
  const [removing, setRemoving] = useState<string | null>(null);
  const members = useQuery({ queryKey: keys.members(group.id, tenant), queryFn: () => platformApi.members(group.id, tenant) });
  const refresh = () => queryClient.invalidateQueries({ queryKey: keys.members(group.id, tenant) });
  const add = useMutation({
    mutationFn: (who: string) => platformApi.setMember(group.id, who, tenant, true),
    onSuccess: async () => {
      setLogin('');
      await refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (who: string) => platformApi.setMember(group.id, who, tenant, false),
    onSuccess: async () => {
      setRemoving(null);
      await refresh();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (login.trim() !== '') add.mutate(login.trim());
  };
  const where = tenant ? `of ${tenant}` : 'on the platform';

  return (
    <>
      {members.isLoading && <Loading label="Loading members…" />}
      <ErrorNotice error={members.error} />
      {members.data &&
        (members.data.length === 0 ? (
          <p className="muted">No members {where} yet.</p>
        ) : (
          <ul className="platform-list" aria-label={`Members ${where}`}>
            {members.data.map((member) => (
              <li key={member.login}>
                <span>
                  {member.login}
                  {member.source !== 'manual' && member.source !== 'special' && <span className="badge platform-source">{member.source}</span>}
                </span>
                {!group.special && (
                  <Button variant="danger" aria-label={`Remove ${member.login} from ${group.name}`} onClick={() => setRemoving(member.login)}>
                    Remove
                  </Button>
                )}
              </li>
            ))}
          </ul>
        ))}
      {!group.special && (
        <form onSubmit={submit} className="inline-form" aria-label="Add a member">
          <TextField
            label={tenant ? `Login of a user of ${tenant}` : 'Login of a platform user'}
            autoComplete="off"
            spellCheck={false}
            value={login}
            onChange={(event) => setLogin(event.target.value)}
          />
          <Button type="submit" busy={add.isPending} disabled={login.trim() === ''}>
            Add member
          </Button>
        </form>
      )}
      <ErrorNotice error={add.error} />
      <ConfirmRemoval
        removing={removing}
        setRemoving={setRemoving}
        remove={remove}
        title="Remove this member?"
        confirmLabel="Remove member"
        onConfirm={(who) => remove.mutate(who)}
      >
        <p>
          {removing} loses what {group.name} grants{group.kind === 'tenant' ? ', and its data policy no longer applies to them' : ''}. Memberships from SSO come back at the next
          sign-in.
        </p>
      </ConfirmRemoval>
    </>
  );
}

function MembersCard({ group }: { group: GroupView }) {
  const tenants = useTenants();
  const [tenant, setTenant] = useState('');
  if (group.kind === 'internal') {
    return (
      <Card title="Members">
        {group.special && <p className="muted">Every platform user belongs to this group; it has no member list of its own.</p>}
        <MemberList group={group} tenant={null} />
      </Card>
    );
  }
  const active = (tenants.data ?? []).filter((t) => t.status === 'active');
  return (
    <Card title="Members">
      <p className="muted">
        {group.special
          ? 'Every tenant user belongs to this group. Pick a tenant to see its users.'
          : 'Tenant users join per tenant: each tenant’s super users manage their own users’ membership. Pick a tenant to see and change its members.'}
      </p>
      <ErrorNotice error={tenants.error} />
      {tenants.isLoading ? (
        <Loading label="Loading tenants…" />
      ) : (
        <SelectField
          label="Tenant"
          value={tenant}
          onChange={(event) => setTenant(event.target.value)}
          options={[{ value: '', label: active.length === 0 ? 'No active tenant' : 'Choose a tenant…' }, ...active.map((t) => ({ value: t.slug, label: `${t.name} (${t.slug})` }))]}
        />
      )}
      {tenant && <MemberList key={tenant} group={group} tenant={tenant} />}
    </Card>
  );
}

function PolicyEditor({ group, policy }: { group: GroupView; policy: GroupPolicyView }) {
  const queryClient = useQueryClient();
  const [template, setTemplate] = useState(policy.template ?? '');
  const [removing, setRemoving] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: () => platformApi.setPolicy(group.id, template.trim()),
    onSuccess: (answer) => {
      queryClient.setQueryData(keys.policy(group.id), answer);
      setTemplate(answer.template ?? '');
      setSaved('Data policy saved. It applies to the members’ next report.');
    },
  });
  const remove = useMutation({
    mutationFn: () => platformApi.removePolicy(group.id),
    onSuccess: async () => {
      setRemoving(false);
      setTemplate('');
      setSaved('Data policy removed.');
      await queryClient.invalidateQueries({ queryKey: keys.policy(group.id) });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(null);
    remove.reset();
    if (template.trim() !== '') save.mutate();
  };
  const current = policy;
  return (
    <>
      <form onSubmit={submit}>
        <TextArea
          label="Segment template"
          rows={3}
          spellCheck={false}
          placeholder={`pageUrl=^https://{{${TENANT_SLUG_ATTRIBUTE}}}.example.com`}
          value={template}
          onChange={(event) => {
            setTemplate(event.target.value);
            setSaved(null);
          }}
          hint={
            <>
              A segment with attributes in <code>{'{{…}}'}</code>, e.g. <code>{'countryCode==de;pageUrl=@{{region}}'}</code>. Filled in per member; a member without the attribute sees no
              data.
            </>
          }
        />
        <div className="platform-actions platform-actions-start">
          <Button type="submit" variant="primary" busy={save.isPending} disabled={template.trim() === '' || template.trim() === (current.template ?? '')}>
            Save policy
          </Button>
          {current.template !== null && (
            <Button variant="danger" onClick={() => setRemoving(true)}>
              Remove policy
            </Button>
          )}
        </div>
      </form>
      <ErrorNotice error={save.error} />
      {saved && <SuccessNotice>{saved}</SuccessNotice>}
      {current.warnings.length > 0 && (
        <div className="notice platform-warning" role="status">
          <strong>Check the attributes:</strong>
          <ul>
            {current.warnings.map((warning) => (
              <li key={warning}>{warning}</li>
            ))}
          </ul>
        </div>
      )}
      <ConfirmDialog
        open={removing}
        title="Remove the data policy?"
        confirmLabel="Remove policy"
        danger
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate()}
        onClose={() => {
          setRemoving(false);
          remove.reset();
        }}
      >
        <p>
          Members of {group.name} are no longer restricted by it: unless another of their groups has a policy, they see all data of the sites they may view, from their next report.
        </p>
      </ConfirmDialog>
    </>
  );
}

function PolicyCard({ group }: { group: GroupView }) {
  const policy = useQuery({ queryKey: keys.policy(group.id), queryFn: () => platformApi.policy(group.id), enabled: group.kind === 'tenant' });
  return (
    <Card title="Data policy">
      {group.kind === 'internal' ? (
        <p className="muted">Data policies restrict tenant users’ data, so only tenant groups carry them.</p>
      ) : (
        <>
          <p className="muted">
            A row-level filter ANDed into every report its members run: the Matomo API, dashboards, exports, embeds and emails. A request’s own segment can narrow it, never widen
            it. Several policies of one member combine as a union.
          </p>
          {policy.isLoading && <Loading label="Loading the policy…" />}
          <ErrorNotice error={policy.error} />
          {policy.data && <PolicyEditor group={group} policy={policy.data} />}
        </>
      )}
    </Card>
  );
}

function SubscriptionsCard({ group }: { group: GroupView }) {
  const queryClient = useQueryClient();
  const subscriptions = useQuery({ queryKey: keys.subscriptions(group.id), queryFn: () => platformApi.subscriptions(group.id) });
  const change = useMutation({
    mutationFn: (allowed: boolean) => platformApi.setSubscriptions(group.id, allowed),
    onSuccess: (answer) => queryClient.setQueryData(keys.subscriptions(group.id), answer),
  });
  return (
    <Card title="Email subscriptions">
      {subscriptions.isLoading && <Loading />}
      <ErrorNotice error={subscriptions.error ?? change.error} />
      {subscriptions.data && (
        <CheckboxField
          label="Members may subscribe to scheduled email reports"
          checked={change.isPending ? change.variables : subscriptions.data.canSubscribe}
          aria-busy={change.isPending || undefined}
          onChange={(event) => change.mutate(event.target.checked)}
          hint="Reports run as the subscriber, so its rights and data policies apply. Off by default for tenant groups."
        />
      )}
      {change.isSuccess && <SuccessNotice>{change.data.canSubscribe ? 'Members may now subscribe.' : 'Members may no longer subscribe.'}</SuccessNotice>}
    </Card>
  );
}

/** /platform/groups/:id: members (per tenant for tenant groups), data policy, subscription permission. */
export function GroupPage() {
  const { id = '' } = useParams();
  const groups = useGroups();
  const group = groups.data?.find((g) => String(g.id) === id);

  if (groups.isLoading) return <Loading label="Loading the group…" />;
  if (!group) {
    return (
      <>
        <PageHeader title="No such group" />
        <ErrorNotice error={groups.error ?? new Error(`There is no group ${id}.`)} />
        <Link to="/platform/groups">All groups</Link>
      </>
    );
  }
  return (
    <>
      <nav aria-label="Breadcrumb" className="platform-breadcrumb">
        <Link to="/platform/groups">Groups</Link> <span aria-hidden="true">›</span> <span aria-current="page">{group.name}</span>
      </nav>
      <PageHeader title={group.name}>
        <p className="platform-subtitle">
          <KindBadge group={group} /> {group.description && <span className="muted">{group.description}</span>}
        </p>
      </PageHeader>
      <div className="grid-2 platform-grid-top">
        <MembersCard key={`members-${group.id}`} group={group} />
        <div>
          <PolicyCard key={`policy-${group.id}`} group={group} />
          <SubscriptionsCard key={`subscriptions-${group.id}`} group={group} />
        </div>
      </div>
    </>
  );
}
