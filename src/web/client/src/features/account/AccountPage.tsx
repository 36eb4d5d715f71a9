import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { qrDataUrl } from '../../ui/qr';
import { api } from '../../api/http';
import { useSession } from '../../api/session';
import { Button, Card, CopyButton, ErrorNotice, PageHeader, SuccessNotice, TextField, formatDateTime } from '../../ui/components';
import { TokensPanel } from './TokensPanel';

function PasswordCard({ login }: { login: string }) {
  const [oldPassword, setOld] = useState('');
  const [newPassword, setNew] = useState('');
  const [repeat, setRepeat] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const change = useMutation({
    mutationFn: () => api.post('/auth/password', { login, oldPassword, newPassword }, { quiet: true }),
    onSuccess: () => {
      setOld('');
      setNew('');
      setRepeat('');
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setMismatch(newPassword !== repeat);
    if (newPassword === repeat) change.mutate();
  };
  return (
    <Card title="Password">
      <form onSubmit={submit} aria-label="Change password" className="stack">
        <TextField label="Current password" type="password" autoComplete="current-password" required value={oldPassword} onChange={(e) => setOld(e.target.value)} />
        <TextField label="New password" type="password" autoComplete="new-password" required value={newPassword} onChange={(e) => setNew(e.target.value)} />
        <TextField label="Repeat the new password" type="password" autoComplete="new-password" required value={repeat} onChange={(e) => setRepeat(e.target.value)} error={mismatch ? 'The two new passwords differ.' : null} />
        <Button type="submit" variant="primary" busy={change.isPending}>
          Change password
        </Button>
        <ErrorNotice error={change.error} />
        <SuccessNotice>{change.isSuccess && 'Your password was changed.'}</SuccessNotice>
      </form>
    </Card>
  );
}

function MfaCard({ enabled, onChange }: { enabled: boolean; onChange: () => Promise<void> }) {
  const [enrollment, setEnrollment] = useState<{ secret: string; recoveryCodes: string[]; qr: string } | null>(null);
  const [code, setCode] = useState('');
  const begin = useMutation({
    mutationFn: async () => {
      const answer = await api.post<{ secret: string; uri: string; recoveryCodes: string[] }>('/auth/mfa/enroll');
      setEnrollment({ ...answer, qr: await qrDataUrl(answer.uri) });
    },
  });
  const confirm = useMutation({
    mutationFn: () => api.post('/auth/mfa/enroll/confirm', { code: code.trim() }),
    onSuccess: async () => {
      setEnrollment(null);
      setCode('');
      await onChange();
    },
  });
  return (
    <Card title="Two-factor authentication">
      <p>{enabled ? 'Two-factor authentication is on: sign-in asks for a code from your authenticator app.' : 'Two-factor authentication is off.'}</p>
      {!enrollment && (
        <Button onClick={() => begin.mutate()} busy={begin.isPending}>
          {enabled ? 'Set up a new device (new recovery codes)' : 'Turn on two-factor authentication'}
        </Button>
      )}
      <ErrorNotice error={begin.error} />
      {enrollment && (
        <form
          className="stack"
          aria-label="Confirm two-factor authentication"
          onSubmit={(event) => {
            event.preventDefault();
            confirm.mutate();
          }}
        >
          <div className="qr">
            <img src={enrollment.qr} alt="QR code for your authenticator app" width={200} height={200} />
            <code className="secret" aria-label="Setup key">
              {enrollment.secret}
            </code>
          </div>
          <p>Recovery codes (each works once; shown only now):</p>
          <ul className="recovery-codes" aria-label="Recovery codes">
            {enrollment.recoveryCodes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          <CopyButton text={enrollment.recoveryCodes.join('\n')} label="Copy recovery codes" />
          <TextField label="Code from the app" autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} />
          <Button type="submit" variant="primary" busy={confirm.isPending}>
            Confirm
          </Button>
          <ErrorNotice error={confirm.error} />
        </form>
      )}
    </Card>
  );
}

/** The signed-in user's own account: profile, password, second factor, tokens, sessions. */
export function AccountPage() {
  const session = useSession();
  const user = session.me?.user;
  const everywhere = useMutation({ mutationFn: () => api.post('/auth/logout-everywhere'), onSuccess: () => window.location.assign('/login') });
  if (!user) return null;
  return (
    <div className="page">
      <PageHeader title="Your account">
        <p className="muted">
          {user.login} · {user.email} · last seen {formatDateTime(user.last_seen)}
        </p>
      </PageHeader>
      <div className="grid-2">
        <PasswordCard login={user.login} />
        <MfaCard enabled={user.uses_2fa} onChange={session.refresh} />
      </div>
      <TokensPanel login={user.login} />
      <Card title="Sessions">
        <p>Signed in on another device you no longer use? End every session, including this one.</p>
        <Button variant="danger" busy={everywhere.isPending} onClick={() => everywhere.mutate()}>
          Sign out everywhere
        </Button>
        <ErrorNotice error={everywhere.error} />
      </Card>
    </div>
  );
}
