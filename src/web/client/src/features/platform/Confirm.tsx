import { useState, type FormEvent, type ReactNode } from 'react';
import { Button, Dialog, ErrorNotice, TextField } from '../../ui/components';

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
      <form onSubmit={submit} className="platform-confirm">
        <div className="platform-confirm-body">{children}</div>
        {typeToConfirm !== undefined && (
          <TextField label={`Type ${typeToConfirm} to confirm`} value={typed} autoComplete="off" spellCheck={false} onChange={(event) => setTyped(event.target.value)} />
        )}
        <ErrorNotice error={error} />
        <div className="platform-actions">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant={danger ? 'danger' : 'primary'} busy={busy} disabled={!ready}>
            {confirmLabel}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
