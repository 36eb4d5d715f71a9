import { useState, type ReactNode } from 'react';
import { Brand } from '../../layout/Shell';
import { signInMessage } from './messages';

/** The frame of every signed-out page: the tenant's branding, then what the page says, then its form. */
export function AuthCard({ notice, error, children }: { notice?: string | null; error?: string | null; children: ReactNode }) {
  return (
    <main className="center-page login-page">
      <div className="card login-card">
        <div className="login-brand">
          <Brand />
        </div>
        {notice && (
          <p className="notice notice-info" role="status">
            {notice}
          </p>
        )}
        {error && (
          <p className="notice notice-error" role="alert">
            {error}
          </p>
        )}
        {children}
      </div>
    </main>
  );
}

/** One sign-in step at a time: busy while it runs, its failure in words a person understands. */
export function useAuthStep(): { busy: boolean; error: string | null; setError: (error: string | null) => void; run: (work: () => Promise<void>, onError?: (caught: unknown) => boolean) => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = (work: () => Promise<void>, onError?: (caught: unknown) => boolean) => {
    setBusy(true);
    setError(null);
    void (async () => {
      try {
        await work();
      } catch (caught) {
        // A step may handle a failure itself (an expired password opens its own form).
        if (!onError?.(caught)) setError(signInMessage(caught));
      } finally {
        setBusy(false);
      }
    })();
  };
  return { busy, error, setError, run };
}
