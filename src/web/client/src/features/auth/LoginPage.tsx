import { useEffect, useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { ApiError, api, setCsrfToken } from '../../api/http';
import { qrDataUrl } from '../../ui/qr';
import { useSession } from '../../api/session';
import type { ProvidersAnswer, SignInAnswer } from '../../api/types';
import { AuthCard, useAuthStep } from './AuthCard';
import { Button, CheckboxField, CopyButton, Loading, TextField } from '../../ui/components';

type Step =
  | { kind: 'password' }
  | { kind: 'totp' }
  | { kind: 'enroll'; secret: string; uri: string; recoveryCodes: readonly string[]; qr: string }
  | { kind: 'expired-password'; login: string };

function safeNext(next: string | null): string {
  // Only paths on this host: never an open redirect.
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function LoginPage() {
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [remember, setRemember] = useState(false);
  const [code, setCode] = useState('');
  const { busy, error, setError, run: runStep } = useAuthStep();
  const [notice, setNotice] = useState<string | null>(params.get('expired') ? 'Your session has expired. Sign in again.' : null);
  const [ldap, setLdap] = useState(false);
  const [showPasswordForm, setShowPasswordForm] = useState(false);
  const providers = useQuery({ queryKey: ['auth-providers'], queryFn: () => api.get<ProvidersAnswer>('/auth/providers', { quiet: true }) });

  useEffect(() => {
    const ssoError = params.get('error');
    if (ssoError) setError(ssoError);
  }, [params]);

  const finish = async () => {
    await session.refresh();
    void navigate(next, { replace: true });
  };

  const run = (work: () => Promise<void>) =>
    runStep(work, (caught) => {
      if (!(caught instanceof ApiError && caught.code === 'password_expired')) return false;
      setStep({ kind: 'expired-password', login });
      setNotice('Your password has expired. Choose a new one to continue.');
      return true;
    });

  const afterFirstStep = async (answer: SignInAnswer) => {
    setCsrfToken(answer.csrfToken);
    setPassword('');
    if (answer.status === 'signed_in') return finish();
    if (answer.status === 'mfa_required') {
      setNotice(null);
      return setStep({ kind: 'totp' });
    }
    const enrollment = await api.post<{ secret: string; uri: string; recoveryCodes: string[] }>('/auth/mfa/enroll', {}, { quiet: true });
    const qr = await qrDataUrl(enrollment.uri);
    setNotice('Your organisation requires two-factor authentication. Set it up to continue.');
    setStep({ kind: 'enroll', ...enrollment, qr });
  };

  const submitPassword = (event: FormEvent) => {
    event.preventDefault();
    run(async () => {
      const url = ldap ? '/auth/ldap/login' : '/auth/login';
      const answer = await api.post<SignInAnswer>(url, { login, password, remember }, { quiet: true });
      await afterFirstStep(answer);
    });
  };

  const submitCode = (event: FormEvent) => {
    event.preventDefault();
    run(async () => {
      if (step.kind === 'enroll') await api.post('/auth/mfa/enroll/confirm', { code: code.trim() }, { quiet: true });
      else await api.post('/auth/mfa', { code: code.trim() }, { quiet: true });
      setCode('');
      await finish();
    });
  };

  const [newPassword, setNewPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const submitNewPassword = (event: FormEvent) => {
    event.preventDefault();
    if (step.kind !== 'expired-password') return;
    if (newPassword !== repeat) {
      setError('The two new passwords differ.');
      return;
    }
    run(async () => {
      await api.post('/auth/password', { login: step.login, oldPassword: password, newPassword }, { quiet: true });
      const answer = await api.post<SignInAnswer>('/auth/login', { login: step.login, password: newPassword, remember }, { quiet: true });
      setNewPassword('');
      setRepeat('');
      await afterFirstStep(answer);
    });
  };

  const cancel = () => {
    void api.post('/auth/logout', {}, { quiet: true }).catch(() => undefined);
    setStep({ kind: 'password' });
    setCode('');
    setNotice(null);
    setError(null);
  };

  // Already signed in (a bookmark of /login): straight on. After all hooks, so their order never changes.
  if (session.me && step.kind === 'password') return <Navigate to={next} replace />;

  const answer = providers.data;
  const passwordOffered = !answer || answer.password || showPasswordForm;
  const ssoLinks = (answer?.providers ?? []).filter((p) => p.method === 'GET');
  const ldapProvider = answer?.providers.find((p) => p.id === 'ldap');

  return (
    <AuthCard notice={notice} error={error}>
        {step.kind === 'password' && (
          <>
            <h1>Sign in</h1>
            {providers.isLoading && <Loading />}
            {passwordOffered && (
              <form onSubmit={submitPassword} aria-label="Sign in with password">
                <TextField label="Login or email" name="login" autoComplete="username" required value={login} onChange={(e) => setLogin(e.target.value)} autoFocus />
                <TextField label="Password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
                <CheckboxField label="Remember me" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
                {ldapProvider && (
                  <CheckboxField label={`Use ${ldapProvider.name} (directory account)`} checked={ldap} onChange={(e) => setLdap(e.target.checked)} />
                )}
                <Button type="submit" variant="primary" busy={busy} className="wide">
                  Sign in
                </Button>
              </form>
            )}
            {!passwordOffered && ldapProvider && (
              <form onSubmit={submitPassword} aria-label={`Sign in with ${ldapProvider.name}`}>
                <TextField label="Directory login" name="login" autoComplete="username" required value={login} onChange={(e) => { setLdap(true); setLogin(e.target.value); }} />
                <TextField label="Password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
                <Button type="submit" variant="primary" busy={busy} className="wide">
                  Sign in with {ldapProvider.name}
                </Button>
              </form>
            )}
            {ssoLinks.length > 0 && (
              <div className="sso-list" aria-label="Single sign-on">
                <p className="muted">{passwordOffered ? 'Or sign in with' : 'Sign in with'}</p>
                {ssoLinks.map((provider) => (
                  <a key={provider.id} className="btn btn-secondary wide" href={`${provider.url}?return_to=${encodeURIComponent(next)}`}>
                    {provider.name}
                  </a>
                ))}
              </div>
            )}
            {answer?.forceSso && !showPasswordForm && (
              <button type="button" className="btn btn-link" onClick={() => setShowPasswordForm(true)}>
                Administrator sign-in with password
              </button>
            )}
          </>
        )}

        {step.kind === 'totp' && (
          <form onSubmit={submitCode} aria-label="Two-factor authentication">
            <h1>Two-factor authentication</h1>
            <p>Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>
            <TextField label="Authentication code" name="code" autoComplete="one-time-code" inputMode="text" required value={code} onChange={(e) => setCode(e.target.value)} autoFocus />
            <Button type="submit" variant="primary" busy={busy} className="wide">
              Verify
            </Button>
            <Button variant="link" onClick={cancel}>
              Cancel
            </Button>
          </form>
        )}

        {step.kind === 'enroll' && (
          <form onSubmit={submitCode} aria-label="Set up two-factor authentication">
            <h1>Set up two-factor authentication</h1>
            <ol className="steps">
              <li>
                Scan this code with an authenticator app (or enter the key by hand).
                <div className="qr">
                  <img src={step.qr} alt="QR code for your authenticator app" width={200} height={200} />
                  <code className="secret" aria-label="Setup key">
                    {step.secret}
                  </code>
                </div>
              </li>
              <li>
                Keep these recovery codes somewhere safe. Each one works once, if you lose your device. They are shown only now.
                <ul className="recovery-codes" aria-label="Recovery codes">
                  {step.recoveryCodes.map((c) => (
                    <li key={c}>
                      <code>{c}</code>
                    </li>
                  ))}
                </ul>
                <CopyButton text={step.recoveryCodes.join('\n')} label="Copy recovery codes" />
              </li>
              <li>
                <TextField label="Code from the app" name="code" autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} />
              </li>
            </ol>
            <Button type="submit" variant="primary" busy={busy} className="wide">
              Confirm and sign in
            </Button>
            <Button variant="link" onClick={cancel}>
              Cancel
            </Button>
          </form>
        )}

        {step.kind === 'expired-password' && (
          <form onSubmit={submitNewPassword} aria-label="Choose a new password">
            <h1>Choose a new password</h1>
            <TextField label="Current password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            <TextField label="New password" type="password" autoComplete="new-password" required value={newPassword} onChange={(e) => setNewPassword(e.target.value)} />
            <TextField label="Repeat the new password" type="password" autoComplete="new-password" required value={repeat} onChange={(e) => setRepeat(e.target.value)} />
            <Button type="submit" variant="primary" busy={busy} className="wide">
              Change password and sign in
            </Button>
            <Button variant="link" onClick={cancel}>
              Cancel
            </Button>
          </form>
        )}
    </AuthCard>
  );
}
