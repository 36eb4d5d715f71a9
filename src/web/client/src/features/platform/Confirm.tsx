import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Button, Dialog, ErrorNotice, TextField } from '../../ui/components';

/**
 * Focus for a modal form: the element marked `data-autofocus` once the dialog is open.
 * The native dialog moves focus to its first control when shown (after the children's
 * effects, so React's autoFocus is lost); the caller's effect runs after that.
 */
export function useInitialFocus<T extends HTMLElement>(open: boolean) {
  const ref = useRef<T>(null);
  useEffect(() => {
    if (open) ref.current?.querySelector<HTMLElement>('[data-autofocus]')?.focus();
  }, [open]);
  return ref;
}

/**
 * Confirmation of a consequential act, in a modal dialog: what happens is spelled out in
 * `children`; with `typeToConfirm`, the confirm button waits until that word is typed.
 * The dialog stays open on failure and shows the server's message.
 */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  danger = false,
  busy = false,
  error,
  typeToConfirm,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: unknown;
  typeToConfirm?: string;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const [typed, setTyped] = useState('');
  const formRef = useInitialFocus<HTMLFormElement>(open);
  const ready = typeToConfirm === undefined || typed.trim() === typeToConfirm;
  const close = () => {
    setTyped('');
    onClose();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (ready) onConfirm();
  };
  return (
    <Dialog open={open} title={title} onClose={close}>
      <form ref={formRef} onSubmit={submit} className="platform-confirm">
        <div className="platform-confirm-body">{children}</div>
        {typeToConfirm !== undefined && (
          <TextField label={`Type ${typeToConfirm} to confirm`} data-autofocus value={typed} autoComplete="off" spellCheck={false} onChange={(event) => setTyped(event.target.value)} />
        )}
        <ErrorNotice error={error} />
        <div className="platform-actions">
          {/* Without a word to type, the safe choice has the focus: Enter does not confirm by accident. */}
          <Button onClick={close} {...(typeToConfirm === undefined ? { 'data-autofocus': true } : {})}>
            Cancel
          </Button>
          <Button type="submit" variant={danger ? 'danger' : 'primary'} busy={busy} disabled={!ready}>
            {confirmLabel}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

/**
 * Asks before removing one thing picked from a list (a host, an attribute, a member):
 * open while `removing` names it; closing forgets the pick and the server's refusal.
 */
export function ConfirmRemoval({
  removing,
  setRemoving,
  remove,
  title,
  confirmLabel,
  onConfirm,
  children,
}: {
  removing: string | null;
  setRemoving: (removing: null) => void;
  remove: { isPending: boolean; error: unknown; reset: () => void };
  title: string;
  confirmLabel: string;
  onConfirm: (removing: string) => void;
  children: ReactNode;
}) {
  return (
    <ConfirmDialog
      open={removing !== null}
      title={title}
      confirmLabel={confirmLabel}
      danger
      busy={remove.isPending}
      error={remove.error}
      onConfirm={() => removing && onConfirm(removing)}
      onClose={() => {
        setRemoving(null);
        remove.reset();
      }}
    >
      {children}
    </ConfirmDialog>
  );
}
