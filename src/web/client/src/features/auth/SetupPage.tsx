import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { api, setCsrfToken } from '../../api/http';
import { useSession } from '../../api/session';
import type { SignInAnswer } from '../../api/types';
import { Button, TextField } from '../../ui/components';
import { AuthCard, useAuthStep } from './AuthCard';

/** `/setup?token=`: the one-time link printed at first start creates the first super user (or platform admin). */
export function SetupPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const session = useSession();
  const navigate = useNavigate();
  const [login, setLogin] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const { busy, error, setError, run } = useAuthStep();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (password !== repeat) return setError('The two passwords differ.');
    run(async () => {
      await api.post('/setup', { token, login, email, password }, { quiet: true });
      const answer = await api.post<SignInAnswer>('/auth/login', { login, password }, { quiet: true });
      setCsrfToken(answer.csrfToken);
      await session.refresh();
      void navigate(answer.status === 'signed_in' ? '/' : '/login', { replace: true });
    });
  };

  return (
    <AuthCard error={token ? error : 'This setup link is incomplete: use the link the server printed, or run plura tenant:setup-link for a new one.'}>
      <h1>{session.face.platform ? 'Create the first platform admin' : 'Create the first super user'}</h1>
      <form onSubmit={submit} aria-label="Create the first super user">
        <TextField label="Login" autoComplete="username" required value={login} onChange={(e) => setLogin(e.target.value)} autoFocus />
        <TextField label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <TextField label="Password" type="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        <TextField label="Repeat the password" type="password" autoComplete="new-password" required value={repeat} onChange={(e) => setRepeat(e.target.value)} />
        <Button type="submit" variant="primary" busy={busy} disabled={!token} className="wide">
          Create and sign in
        </Button>
      </form>
    </AuthCard>
  );
}
