import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/http';
import { Button, Card, CheckboxField, CopyButton, ErrorNotice, Loading, TextField, formatDateTime } from '../../ui/components';
import { DataTable } from '../../ui/DataTable';

interface TokenInfo {
  readonly id: number;
  readonly description: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly expiresAt: string | null;
  readonly postOnly: boolean;
}

/** A user's API tokens: description, expiry, POST-only; a new token is shown once. Used on the account page and in user administration. */
export function TokensPanel({ login }: { login: string }) {
  const queryClient = useQueryClient();
  const path = `/api/v1/users/${encodeURIComponent(login)}/tokens`;
  const tokens = useQuery({ queryKey: ['tokens', login], queryFn: () => api.get<{ tokens: TokenInfo[] }>(path) });
  const [description, setDescription] = useState('');
  const [expires, setExpires] = useState('');
  const [postOnly, setPostOnly] = useState(true);
  const [created, setCreated] = useState<string | null>(null);

  const create = useMutation({
    mutationFn: () => api.post<{ token: string }>(path, { description, expiresAt: expires ? new Date(`${expires}T23:59:59`).toISOString() : null, postOnly }),
    onSuccess: (answer) => {
      setCreated(answer.token);
      setDescription('');
      setExpires('');
      void queryClient.invalidateQueries({ queryKey: ['tokens', login] });
    },
  });
  const remove = useMutation({
    mutationFn: (id: number) => api.del(`${path}/${id}`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['tokens', login] }),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setCreated(null);
    create.mutate();
  };

  return (
    <Card title="API tokens">
      <p className="muted">
        A token acts with its user’s rights at each call (<code>token_auth</code> on the Matomo API, or <code>Authorization: Bearer</code> on REST).
      </p>
      {tokens.isLoading && <Loading />}
      <ErrorNotice error={tokens.error ?? remove.error} />
      {tokens.data && (
        <DataTable
          caption={`Tokens of ${login}`}
          searchable={false}
          rows={tokens.data.tokens}
          rowKey={(t) => String(t.id)}
          empty="No tokens yet."
          columns={[
            { key: 'description', label: 'Description' },
            { key: 'createdAt', label: 'Created', render: (t) => formatDateTime(t.createdAt) },
            { key: 'lastUsedAt', label: 'Last used', render: (t) => formatDateTime(t.lastUsedAt) },
            { key: 'expiresAt', label: 'Expires', render: (t) => (t.expiresAt ? formatDateTime(t.expiresAt) : 'never') },
            { key: 'postOnly', label: 'POST only', render: (t) => (t.postOnly ? 'yes' : 'no') },
          ]}
          rowActions={(t) => (
            <Button variant="danger" onClick={() => window.confirm(`Delete the token "${t.description}"? Scripts using it stop working.`) && remove.mutate(t.id)}>
              Delete
            </Button>
          )}
        />
      )}
      <form className="inline-form" onSubmit={submit} aria-label="Create a token">
        <TextField label="Description" required maxLength={100} value={description} onChange={(e) => setDescription(e.target.value)} />
        <TextField label="Expires on (optional)" type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
        <CheckboxField label="POST only" checked={postOnly} onChange={(e) => setPostOnly(e.target.checked)} hint="refused in URLs, where logs could keep it" />
        <Button type="submit" variant="primary" busy={create.isPending}>
          Create token
        </Button>
      </form>
      <ErrorNotice error={create.error} />
      {created && (
        <div className="notice notice-success" role="status">
          <p>Copy the new token now; it is not shown again.</p>
          <code className="token" aria-label="New token">
            {created}
          </code>{' '}
          <CopyButton text={created} />
        </div>
      )}
    </Card>
  );
}
