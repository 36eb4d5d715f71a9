import { useEffect, useId, useRef, useState, type ButtonHTMLAttributes, type FormHTMLAttributes, type InputHTMLAttributes, type ReactNode, type Ref, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';
import { messageOf } from '../api/http';

type Variant = 'primary' | 'secondary' | 'danger' | 'link';

export function Button({ variant = 'secondary', busy = false, children, className, ...rest }: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant; busy?: boolean }) {
  return (
    <button type="button" {...rest} className={`btn btn-${variant}${className ? ` ${className}` : ''}`} disabled={busy || rest.disabled} aria-busy={busy || undefined}>
      {children}
    </button>
  );
}

interface FieldProps {
  readonly label: string;
  readonly hint?: ReactNode;
  readonly error?: string | null;
}

/** A labelled input; the label is always tied to the control (screen readers, clicking the label). */
export function TextField({ label, hint, error, ...input }: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-invalid={error ? true : undefined} aria-describedby={hint || error ? `${id}-hint` : undefined} {...input} />
      {(hint || error) && (
        <small id={`${id}-hint`} className={error ? 'field-error' : 'field-hint'}>
          {error ?? hint}
        </small>
      )}
    </div>
  );
}

export function TextArea({ label, hint, error, ...input }: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} aria-invalid={error ? true : undefined} aria-describedby={hint || error ? `${id}-hint` : undefined} {...input} />
      {(hint || error) && (
        <small id={`${id}-hint`} className={error ? 'field-error' : 'field-hint'}>
          {error ?? hint}
        </small>
      )}
    </div>
  );
}

export function SelectField({ label, hint, error, options, ...select }: FieldProps & SelectHTMLAttributes<HTMLSelectElement> & { options: readonly { value: string; label: string }[] }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} aria-describedby={hint || error ? `${id}-hint` : undefined} {...select}>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      {(hint || error) && (
        <small id={`${id}-hint`} className={error ? 'field-error' : 'field-hint'}>
          {error ?? hint}
        </small>
      )}
    </div>
  );
}

export function CheckboxField({ label, hint, ...input }: { label: string; hint?: ReactNode } & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <div className="field field-check">
      <input id={id} type="checkbox" {...input} />
      <label htmlFor={id}>{label}</label>
      {hint && <small className="field-hint">{hint}</small>}
    </div>
  );
}

/** Shown only after a moment, so fast answers do not flicker a spinner. */
export function Loading({ label = 'Loading…', delayMs = 150 }: { label?: string; delayMs?: number }) {
  const [shown, setShown] = useState(delayMs === 0);
  useEffect(() => {
    const timer = window.setTimeout(() => setShown(true), delayMs);
    return () => window.clearTimeout(timer);
  }, [delayMs]);
  return (
    <div className="loading" role="status" aria-live="polite" aria-busy="true">
      {shown && (
        <>
          <span className="spinner" aria-hidden="true" />
          {label}
        </>
      )}
    </div>
  );
}

export function ErrorNotice({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <div className="notice notice-error" role="alert">
      {title && <strong>{title}: </strong>}
      {messageOf(error)}
    </div>
  );
}

export function SuccessNotice({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <div className="notice notice-success" role="status">
      {children}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

export function PageHeader({ title, actions, children }: { title: string; actions?: ReactNode; children?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {children}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </header>
  );
}

export function Card({ title, children, actions }: { title?: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="card" aria-label={title}>
      {(title || actions) && (
        <div className="card-head">
          {title && <h2>{title}</h2>}
          {actions}
        </div>
      )}
      {children}
    </section>
  );
}

/** A modal dialog on the native <dialog>: focus is trapped, Escape closes it. */
export function Dialog({ open, title, onClose, children }: { open: boolean; title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onClose={onClose} onCancel={onClose}>
      {open && (
        <>
          <div className="dialog-head">
            <h2 id={titleId}>{title}</h2>
            <button type="button" className="btn btn-link" aria-label="Close" onClick={onClose}>
              ✕
            </button>
          </div>
          {children}
        </>
      )}
    </dialog>
  );
}

/** The form of a dialog: its fields, then the server's refusal, then Cancel and the submit button. */
export function DialogForm({
  error,
  submitLabel,
  busy,
  submitDisabled,
  onCancel,
  actionsClassName,
  children,
  ...form
}: FormHTMLAttributes<HTMLFormElement> & {
  ref?: Ref<HTMLFormElement>;
  error: unknown;
  submitLabel: ReactNode;
  busy: boolean;
  submitDisabled?: boolean;
  onCancel: () => void;
  actionsClassName: string;
}) {
  return (
    <form {...form}>
      {children}
      <ErrorNotice error={error} />
      <div className={actionsClassName}>
        <Button onClick={onCancel}>Cancel</Button>
        <Button type="submit" variant="primary" busy={busy} disabled={submitDisabled}>
          {submitLabel}
        </Button>
      </div>
    </form>
  );
}

/** Copies text to the clipboard, saying so (tracking code, tokens). */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <Button
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => {
          setCopied(true);
          window.setTimeout(() => setCopied(false), 2000);
        });
      }}
    >
      {copied ? 'Copied' : label}
    </Button>
  );
}

export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '—';
  const date = new Date(value.includes('T') || value.endsWith('Z') ? value : `${value.replace(' ', 'T')}Z`);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}
