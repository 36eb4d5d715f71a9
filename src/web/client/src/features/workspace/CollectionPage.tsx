import { useState, type FormEvent } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useAbilities } from '../../api/session';
import { DataTable, type Column } from '../../ui/DataTable';
import { Button, Card, CheckboxField, Empty, ErrorNotice, Loading, PageHeader, SelectField, SuccessNotice, TextField, formatDateTime } from '../../ui/components';
import { Breadcrumbs, CollectionActions, ItemActions } from './actions';
import { KIND_LABEL, collectionPath, itemKindLabel, itemPath, ops, useCollection, useCollectionItems, useCollections, useExplain, useGroups, usePermissions, useWorkspaceRefresh, type CollectionDetail, type Group, type ItemView, type Level } from './api';

/** Why the caller (or, for super users and platform admins, another user) may see this collection. */
function Explain({ collection }: { collection: CollectionDetail }) {
  const abilities = useAbilities();
  const [open, setOpen] = useState(false);
  const [user, setUser] = useState('');
  const [asked, setAsked] = useState('');
  const explain = useExplain(collection.id, asked, open);
  const mayAskOthers = abilities.superuser || abilities.platformAdmin;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAsked(user.trim());
  };
  return (
    <Card title="Who may see this">
      <p>
        You may <strong>{collection.access}</strong> this collection: {collection.reason}.
      </p>
      <Button variant="link" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        {open ? 'Hide the explanation' : 'Explain why'}
      </Button>
      {open && (
        <div className="ws-explain">
          {mayAskOthers && (
            <form className="inline-form" onSubmit={submit}>
              <TextField label="Explain for user (login)" value={user} onChange={(event) => setUser(event.target.value)} placeholder="yourself" />
              <Button type="submit">Explain</Button>
            </form>
          )}
          {explain.isLoading && <Loading />}
          <ErrorNotice error={explain.error} />
          {explain.data && (
            <dl className="ws-facts">
              <dt>User</dt>
              <dd>{explain.data.user}</dd>
              <dt>Level</dt>
              <dd>{explain.data.level}</dd>
              <dt>Because</dt>
              <dd>{explain.data.reason}</dd>
              {explain.data.group && (
                <>
                  <dt>Granted by group</dt>
                  <dd>{explain.data.group}</dd>
                </>
              )}
              {explain.data.permissionsFrom && (
                <>
                  <dt>Permissions set on</dt>
                  <dd>{explain.data.permissionsFrom === collection.id ? 'this collection' : <Link to={collectionPath(explain.data.permissionsFrom)}>a parent collection</Link>}</dd>
                </>
              )}
              <dt>Groups of the user</dt>
              <dd>{explain.data.groups.length > 0 ? explain.data.groups.join(', ') : 'none'}</dd>
            </dl>
          )}
        </div>
      )}
    </Card>
  );
}

/** Platform admins: what each group may do with a shared or internal collection. */
function Permissions({ collection }: { collection: CollectionDetail }) {
  const permissions = usePermissions(collection.id, true);
  const groups = useGroups(true);
  const refresh = useWorkspaceRefresh();
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState<number | null>(null);
  const levelOf = (group: Group): Level => permissions.data?.find((p) => p.groupId === group.id)?.level ?? 'none';
  const set = async (group: Group, level: Level) => {
    setBusy(group.id);
    setError(null);
    setNotice('');
    try {
      await ops.setPermission(collection.id, group.id, level);
      await refresh();
      setNotice(`Group “${group.name}” may now ${level === 'none' ? 'not see it (unless a parent grants it)' : level} this collection.`);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(null);
    }
  };
  const shownGroups = (groups.data ?? []).filter((g) => collection.kind === 'shared' || g.kind === 'internal');
  const columns: Column<Group>[] = [
    { key: 'name', label: 'Group', render: (g) => (g.special ? <em>{g.name}</em> : g.name) },
    { key: 'kind', label: 'Kind', render: (g) => (g.kind === 'tenant' ? 'tenant users' : 'platform users') },
    {
      key: 'level',
      label: 'Permission',
      sortable: false,
      value: (g) => levelOf(g),
      render: (g) => (
        <div className="ws-level">
          <SelectField
            label={`Permission of ${g.name}`}
            value={levelOf(g)}
            disabled={busy === g.id}
            options={[
              { value: 'none', label: 'No access' },
              { value: 'view', label: 'View' },
              // Tenant groups get at most View on shared collections.
              ...(g.kind === 'internal' ? [{ value: 'curate', label: 'Curate' }] : []),
            ]}
            onChange={(event) => void set(g, event.target.value as Level)}
          />
        </div>
      ),
    },
  ];
  return (
    <Card title="Group permissions">
      <p className="muted">
        {collection.kind === 'shared' ? 'Internal groups may view or curate; tenant groups may at most view, and each tenant’s users see their own data.' : 'Internal collections are for platform users: only internal groups can be granted them.'}{' '}
        {permissions.data && permissions.data.length === 0 && collection.parentId !== null ? 'This collection has no permissions of its own: it follows the nearest parent that has some.' : 'Sub-collections without permissions of their own follow this one.'}
      </p>
      {(permissions.isLoading || groups.isLoading) && <Loading />}
      <ErrorNotice error={permissions.error ?? groups.error} />
      <ErrorNotice error={error} title="Not changed" />
      <SuccessNotice>{notice}</SuccessNotice>
      {permissions.data && groups.data && <DataTable caption={`Group permissions on ${collection.name}`} columns={columns} rows={shownGroups} rowKey={(g) => String(g.id)} searchable={shownGroups.length > 10} />}
    </Card>
  );
}

/** `/collections/:id`: sub-collections, dashboards and saved reports, who may see it, and (for curators) changes. */
export function CollectionPage() {
  const { id = '' } = useParams();
  // A fresh page per collection: notices and open panels belong to the one they were about.
  return <CollectionScreen key={id} id={id} />;
}

function CollectionScreen({ id }: { id: string }) {
  const abilities = useAbilities();
  const [params, setParams] = useSearchParams();
  const archived = params.get('archived') === '1';
  const collection = useCollection(id);
  const items = useCollectionItems(id, archived);
  // Children come from the list so that archived ones can be shown too.
  const all = useCollections(archived);
  const [notice, setNotice] = useState('');

  if (collection.isLoading) return <Loading label="Loading collection…" />;
  if (collection.error || !collection.data) {
    return (
      <>
        <Breadcrumbs collectionId="" />
        <ErrorNotice error={collection.error ?? new Error('Not found.')} title="This collection cannot be shown" />
      </>
    );
  }
  const c = collection.data;
  const curate = c.access === 'curate';
  const children = (all.data ?? []).filter((child) => child.parentId === c.id);
  const newItem = (kind: 'dashboard' | 'saved_report') => `/dashboards/new?${new URLSearchParams({ collection: c.id, kind }).toString()}`;

  const columns: Column<ItemView>[] = [
    {
      key: 'name',
      label: 'Name',
      render: (item) => (
        <span className="ws-item-name">
          <span className={`ws-icon ws-icon-${item.kind}`} aria-hidden="true" />
          <Link to={itemPath(item)}>{item.name}</Link>
          {item.archived && <span className="badge">archived</span>}
          {item.description && <small className="muted">{item.description}</small>}
        </span>
      ),
    },
    { key: 'kind', label: 'Kind', value: (item) => itemKindLabel(item.kind), render: (item) => itemKindLabel(item.kind) },
    { key: 'updatedAt', label: 'Changed', value: (item) => item.updatedAt, render: (item) => formatDateTime(item.updatedAt) },
    { key: 'createdBy', label: 'Created by' },
  ];

  return (
    <>
      <Breadcrumbs collectionId={c.id} />
      <PageHeader
        title={c.name}
        actions={
          curate && (
            <>
              <Link className="btn btn-primary" to={newItem('dashboard')}>
                New dashboard
              </Link>
              <Link className="btn" to={newItem('saved_report')}>
                New saved report
              </Link>
              <CollectionActions collection={c} onNotice={setNotice} />
            </>
          )
        }
      >
        <p className="muted">
          <span className="badge">{KIND_LABEL[c.kind]}</span> {c.archived && <span className="badge">archived</span>} {c.description}
        </p>
      </PageHeader>
      <SuccessNotice>{notice}</SuccessNotice>
      {!curate && (
        <div className="notice notice-info" role="status">
          You may view this collection; only its curators change it.
        </div>
      )}

      <div className="ws-collection">
        <div>
          <Card title="Collections">
            {all.isLoading && <Loading />}
            {children.length === 0 ? (
              <p className="muted">No sub-collection{archived ? '' : ' (archived ones are hidden)'}.</p>
            ) : (
              <ul className="ws-children">
                {children.map((child) => (
                  <li key={child.id}>
                    <span className="ws-folder" aria-hidden="true" />
                    <Link to={collectionPath(child.id)}>{child.name}</Link>
                    {child.archived && <span className="badge">archived</span>}
                  </li>
                ))}
              </ul>
            )}
          </Card>
          <Card
            title="Dashboards and saved reports"
            actions={
              <CheckboxField
                label="Show archived"
                checked={archived}
                onChange={(event) =>
                  setParams((current) => {
                    const next = new URLSearchParams(current);
                    if (event.target.checked) next.set('archived', '1');
                    else next.delete('archived');
                    return next;
                  })
                }
              />
            }
          >
            {items.isLoading && <Loading />}
            <ErrorNotice error={items.error} />
            {items.data &&
              (items.data.length === 0 ? (
                <Empty title="Nothing here yet.">
                  {curate && (
                    <p>
                      <Link to={newItem('dashboard')}>Create a dashboard</Link> or <Link to={newItem('saved_report')}>save a report</Link>.
                    </p>
                  )}
                </Empty>
              ) : (
                <div className="ws-items">
                  <DataTable caption={`Dashboards and saved reports in ${c.name}`} columns={columns} rows={items.data} rowKey={(item) => item.id} rowActions={curate ? (item) => <ItemActions item={item} onNotice={setNotice} /> : undefined} />
                </div>
              ))}
          </Card>
        </div>
        <div>
          <Explain collection={c} />
          {abilities.platformAdmin && (c.kind === 'shared' || c.kind === 'internal') && <Permissions collection={c} />}
        </div>
      </div>
    </>
  );
}
