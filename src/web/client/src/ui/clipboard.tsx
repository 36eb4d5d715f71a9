import { useState, type MouseEvent } from 'react';
import { Button } from './components';

/**
 * Copies text to the clipboard. The Clipboard API exists only in secure contexts
 * (https, localhost); on a plain-http host the text is copied through a hidden,
 * selected textarea placed next to `near` (inside an open modal dialog, since the
 * rest of the page is inert then).
 */
export async function copyText(text: string, near?: Element | null): Promise<boolean> {
  if (window.isSecureContext && navigator.clipboard) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Refused (permissions): try the old way.
    }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.top = '0';
  area.style.left = '0';
  area.style.opacity = '0';
  (near?.parentElement ?? document.body).appendChild(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

/** A copy button that works on plain-http hosts too, and says when copying failed. */
export function CopyTextButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = (event: MouseEvent<HTMLButtonElement>) => {
    const button = event.currentTarget;
    void copyText(text, button).then((ok) => {
      setState(ok ? 'copied' : 'failed');
      window.setTimeout(() => setState('idle'), 2500);
    });
  };
  return (
    <>
      <Button onClick={copy}>{state === 'copied' ? 'Copied' : label}</Button>
      {state === 'failed' && (
        <span className="field-error" role="status">
          Copying failed: select the text and copy it.
        </span>
      )}
    </>
  );
}
