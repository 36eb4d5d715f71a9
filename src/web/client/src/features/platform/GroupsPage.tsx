import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Dialog, DialogForm, Empty, ErrorNotice, Loading, PageHeader, SelectField, TextArea, TextField } from '../../ui/components';
import { DataTable } from '../../ui/DataTable';
import { ConfirmDialog, useInitialFocus } from './Confirm';
import { keys, platformApi, useGroups, type GroupKind, type GroupView } from './api';

export const kindLabel: Record<GroupKind, string> = { internal: 'Internal', tenant: 'Tenant' };

export function KindBadge({ group }: { group: GroupView }) {
  return (
    <span className="platform-badges">
      <span className={`badge ${group.kind === 'tenant' ? 'platform-badge-tenant' : 'platform-badge-internal'}`}>{kindLabel[group.kind]}</span>
      {group.special && <span className="badge">built in</span>}
    </span>
  );
}

function CreateGroupDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [kind, setKind] = useState<GroupKind>('tenant');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const formRef = useInitialFocus<HTMLFormElement>(open);
  const create = useMutation({
    mutationFn: () => platformApi.createGroup({ kind, name: name.trim(), description: description.trim() }),
    onSuccess: async (group) => {
      await queryClient.invalidateQueries({ queryKey: keys.groups });
      close();
      void navigate(`/platform/groups/${group.id}`);
    },
  });
  const close = () => {
    setKind('tenant');
    setName('');
    setDescription('');
    create.reset();
    onClose();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() !== '') create.mutate();
  };
  return (
    <Dialog open={open} title="Create a group" onClose={close}>
      <DialogForm
        ref={formRef}
        onSubmit={submit}
        error={create.error}
        busy={create.isPending}
        submitDisabled={name.trim() === ''}
        submitLabel="Create group"
        onCancel={close}
        actionsClassName="platform-actions"
      >
        <SelectField
          label="Kind"
          value={kind}
          onChange={(event) => setKind(event.target.value === 'internal' ? 'internal' : 'tenant')}
          options={[
            { value: 'tenant', label: 'Tenant group: users of any tenant' },
            { value: 'internal', label: 'Internal group: platform users' },
          ]}
          hint={
            kind === 'tenant'
              ? 'Defined once, used in every tenant; each tenant’s super users add their own users. May carry a data policy.'
              : 'Holds platform users only; a tenant user never joins it.'
          }
        />
        <TextField label="Name" required data-autofocus maxLength={100} value={name} onChange={(event) => setName(event.target.value)} />
        <TextArea label="Description (optional)" maxLength={500} rows={2} value={description} onChange={(event) => setDescription(event.target.value)} />
      </DialogForm>
    </Dialog>
  );
}

/** /platform/groups: internal and tenant groups; the two built-in ones cannot be deleted. */
export function GroupsPage() {
  const groups = useGroups();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<GroupView | null>(null);
  const remove = useMutation({
    mutationFn: (id: number) => platformApi.deleteGroup(id),
    onSuccess: async () => {
      setDeleting(null);
      await queryClient.invalidateQueries({ queryKey: keys.groups });
    },
  });

  return (
    <>
      <PageHeader
        title="Groups"
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            Create group
          </Button>
        }
      >
        <p className="muted">Internal groups hold platform users; tenant groups hold users of every tenant. A member gets the most permissive grant of all its groups.</p>
      </PageHeader>
      {groups.isLoading && <Loading label="Loading groups…" />}
      <ErrorNotice error={groups.error} title="The groups could not be loaded" />
      {groups.data &&
        (groups.data.length === 0 ? (
          <Empty title="No groups yet" />
        ) : (
          <DataTable<GroupView>
            caption="Groups"
            rows={groups.data}
            rowKey={(g) => String(g.id)}
            onRowClick={(g) => void navigate(`/platform/groups/${g.id}`)}
            columns={[
              {
                key: 'name',
                label: 'Group',
                render: (g) => (
                  <Link to={`/platform/groups/${g.id}`} onClick={(event) => event.stopPropagation()}>
                    {g.name}
                  </Link>
                ),
              },
              { key: 'kind', label: 'Kind', value: (g) => `${kindLabel[g.kind]}${g.special ? ' built in' : ''}`, render: (g) => <KindBadge group={g} /> },
              { key: 'description', label: 'Description', render: (g) => g.description || <span className="muted">—</span> },
            ]}
            rowActions={(g) =>
              g.special ? (
                <span className="muted platform-note">always exists</span>
              ) : (
                <Button
                  variant="danger"
                  aria-label={`Delete group ${g.name}`}
                  onClick={(event) => {
                    event.stopPropagation();
                    remove.reset();
                    setDeleting(g);
                  }}
                >
                  Delete
                </Button>
              )
            }
          />
        ))}
      <CreateGroupDialog open={creating} onClose={() => setCreating(false)} />
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete the group "${deleting?.name ?? ''}"?`}
        confirmLabel="Delete group"
        danger
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => deleting && remove.mutate(deleting.id)}
        onClose={() => setDeleting(null)}
      >
        <p>
          Its members lose what the group granted them (collection permissions, the right to subscribe){deleting?.kind === 'tenant' ? ', and its data policy (if any) stops restricting what they see' : ''}. SSO
          role mappings naming it grant nothing any more. This cannot be undone.
        </p>
      </ConfirmDialog>
    </>
  );
}
