import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { api, setCsrfToken } from '../../api/http';
import { useSession } from '../../api/session';
import type { SignInAnswer } from '../../api/types';
import { Button, ErrorNotice, Loading, TextField } from '../../ui/components';
import { AuthCard, useAuthStep } from './AuthCard';

interface Invitation {
  readonly login: string;
  readonly email: string;
  readonly tenantName: string;
  readonly expiresAt: string;
  readonly passwordPolicy: { readonly minLength: number; readonly requireComplexity: boolean; readonly hints: readonly string[] };
}

/** `/invitation?token=`: an invited user chooses a password and is signed in. */
export function InvitationPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const session = useSession();
  const navigate = useNavigate();
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const { busy, error, setError, run } = useAuthStep();
  const invitation = useQuery({
    queryKey: ['invitation', token],
    queryFn: () => api.get<Invitation>(`/api/v1/invitations/${encodeURIComponent(token)}`, { quiet: true }),
    enabled: token !== '',
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (password !== repeat) return setError('The two passwords differ.');
    run(async () => {
      const answer = await api.post<SignInAnswer>('/auth/invitation', { token, password }, { quiet: true });
      setCsrfToken(answer.csrfToken);
      await session.refresh();
      // MFA enrolment, when the tenant requires it, continues on the login page's flow.
      void navigate(answer.status === 'signed_in' ? '/' : '/login', { replace: true });
    });
  };

  const policy = invitation.data?.passwordPolicy;
  return (
    <AuthCard error={token ? error : 'This invitation link is incomplete. Ask for a new one.'}>
      <h1>Welcome</h1>
      {invitation.isLoading && <Loading />}
      <ErrorNotice error={invitation.error} />
      {invitation.data && (
        <form onSubmit={submit} aria-label="Choose your password">
          <p>
            You were invited to <strong>{invitation.data.tenantName}</strong> as <strong>{invitation.data.login}</strong> ({invitation.data.email}). Choose a password to
            finish.
          </p>
          <TextField
            label="Password"
            type="password"
            autoComplete="new-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            hint={policy ? policy.hints.join(' ') || `At least ${policy.minLength} characters.` : undefined}
          />
          <TextField label="Repeat the password" type="password" autoComplete="new-password" required value={repeat} onChange={(e) => setRepeat(e.target.value)} />
          <Button type="submit" variant="primary" busy={busy} className="wide">
            Set password and sign in
          </Button>
        </form>
      )}
    </AuthCard>
  );
}
