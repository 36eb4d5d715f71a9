/**
 * Organising collections and items: rename, move, copy, archive, unarchive, delete.
 * Every act goes to the server, whose refusal (a move that would widen who sees
 * something, a cycle, another store, a report a dashboard still shows) is shown as it
 * says it, in the dialog that asked.
 */
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import { Button, Dialog, ErrorNotice, SelectField, TextArea, TextField } from '../../ui/components';
import { KIND_LABEL, collectionPath, itemKindLabel, itemPath, ops, pathOf, useCollections, useWorkspaceRefresh, type CollectionView, type ItemView } from './api';

/** A small menu of actions on a disclosure button: keyboard reachable, Escape and clicks outside close it. */
export function ActionMenu({ label, children }: { label: string; children: (close: () => void) => ReactNode }) {
  const ref = useRef<HTMLDetailsElement>(null);
  const [open, setOpen] = useState(false);
  // Closing puts focus back on the menu button, so a dialog opened from the menu returns there too.
  const close = () => {
    if (ref.current) {
      ref.current.open = false;
      ref.current.querySelector('summary')?.focus();
    }
    setOpen(false);
  };
  useEffect(() => {
    if (!open) return;
    const onDown = (event: MouseEvent) => {
      if (ref.current && !ref.current.contains(event.target as Node)) {
        ref.current.open = false;
        setOpen(false);
      }
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') close();
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);
  return (
    <details ref={ref} className="ws-menu" onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary className="btn" aria-label={label}>
        <span aria-hidden="true">Actions ▾</span>
      </summary>
      <div className="ws-menu-list">
        {children(close)}
      </div>
    </details>
  );
}

async function attempt(setBusy: (busy: boolean) => void, setError: (error: unknown) => void, act: () => Promise<unknown>): Promise<boolean> {
  setBusy(true);
  setError(null);
  try {
    await act();
    return true;
  } catch (error) {
    setError(error);
    return false;
  } finally {
    setBusy(false);
  }
}

export function ConfirmDialog({ open, title, children, confirmLabel, onConfirm, onClose }: { open: boolean; title: string; children: ReactNode; confirmLabel: string; onConfirm: () => Promise<unknown>; onClose: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => setError(null), [open]);
  return (
    <Dialog open={open} title={title} onClose={onClose}>
      {children}
      <ErrorNotice error={error} />
      <div className="ws-dialog-actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="danger" busy={busy} onClick={() => void attempt(setBusy, setError, onConfirm).then((ok) => ok && onClose())}>
          {confirmLabel}
        </Button>
      </div>
    </Dialog>
  );
}

export function NameDialog({
  open,
  title,
  submitLabel,
  initialName = '',
  initialDescription = '',
  onSubmit,
  onClose,
}: {
  open: boolean;
  title: string;
  submitLabel: string;
  initialName?: string;
  initialDescription?: string;
  onSubmit: (name: string, description: string) => Promise<unknown>;
  onClose: () => void;
}) {
  const [name, setName] = useState(initialName);
  const [description, setDescription] = useState(initialDescription);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!open) return;
    setName(initialName);
    setDescription(initialDescription);
    setError(null);
  }, [open, initialName, initialDescription]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void attempt(setBusy, setError, () => onSubmit(name.trim(), description.trim())).then((ok) => ok && onClose());
  };
  return (
    <Dialog open={open} title={title} onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <TextField label="Name" value={name} onChange={(event) => setName(event.target.value)} required maxLength={200} autoFocus />
        <TextArea label="Description" value={description} onChange={(event) => setDescription(event.target.value)} maxLength={2000} rows={3} className="ws-plain" />
        <ErrorNotice error={error} />
        <div className="ws-dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy} disabled={name.trim() === ''}>
            {submitLabel}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

/** Collections as "Tenant › Marketing › Q3" for pickers. */
export function collectionOptions(collections: readonly CollectionView[], keep: (c: CollectionView) => boolean): { value: string; label: string }[] {
  return collections
    .filter(keep)
    .map((c) => ({ value: c.id, label: `${KIND_LABEL[c.kind]}: ${pathOf(collections, c.id).map((p) => p.name).join(' › ')}` }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

/** Where to move or copy something: any collection the caller curates (the server applies the rules). */
export function TargetDialog({
  open,
  title,
  verb,
  exclude,
  withName = false,
  onSubmit,
  onClose,
}: {
  open: boolean;
  title: string;
  verb: 'Move' | 'Copy';
  exclude: (c: CollectionView) => boolean;
  withName?: boolean;
  onSubmit: (targetId: string, name: string) => Promise<unknown>;
  onClose: () => void;
}) {
  const collections = useCollections(false);
  const options = collectionOptions(collections.data ?? [], (c) => c.access === 'curate' && !exclude(c));
  const [target, setTarget] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const hintId = useId();
  useEffect(() => {
    if (!open) return;
    setTarget('');
    setName('');
    setError(null);
  }, [open]);
  const chosen = target || options[0]?.value || '';
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void attempt(setBusy, setError, () => onSubmit(chosen, name.trim())).then((ok) => ok && onClose());
  };
  return (
    <Dialog open={open} title={title} onClose={onClose}>
      <form onSubmit={submit} className="stack" aria-describedby={hintId}>
        <p id={hintId} className="muted">
          {verb === 'Move'
            ? 'Moves stay inside one store and never widen who sees something: tenant content never goes into shared or internal collections.'
            : 'A copy gets new ids. Tenant and internal content is never copied into shared collections.'}
        </p>
        <ErrorNotice error={collections.error} />
        {options.length === 0 ? (
          <p>There is no other collection you curate.</p>
        ) : (
          <SelectField label={verb === 'Move' ? 'Move into' : 'Copy into'} value={chosen} options={options} onChange={(event) => setTarget(event.target.value)} />
        )}
        {withName && <TextField label="Name of the copy (optional)" value={name} onChange={(event) => setName(event.target.value)} maxLength={200} />}
        <ErrorNotice error={error} title={`${verb} refused`} />
        <div className="ws-dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy} disabled={!chosen}>
            {verb}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

/** Copy into a collection the caller curates (optionally under a new name), then open the copy. */
function CopyDialog({ open, name, onClose, copy }: { open: boolean; name: string; onClose: () => void; copy: (targetId: string, name: string | undefined) => Promise<string> }) {
  const refresh = useWorkspaceRefresh();
  const navigate = useNavigate();
  return (
    <TargetDialog
      open={open}
      title={`Copy “${name}”`}
      verb="Copy"
      withName
      exclude={() => false}
      onClose={onClose}
      onSubmit={async (target, copyName) => {
        const path = await copy(target, copyName || undefined);
        await refresh();
        void navigate(path);
      }}
    />
  );
}

/** What the curator action menus share: which dialog is open, the error of an act without a dialog, and refresh-then-notice after an act. */
function useCuratorActions<D extends string>(onNotice: (message: string) => void) {
  const [dialog, setDialog] = useState<D | null>(null);
  const [error, setError] = useState<unknown>(null);
  const refresh = useWorkspaceRefresh();
  const done = async (message: string) => {
    await refresh();
    onNotice(message);
  };
  /** An act with no dialog of its own (archive, unarchive): its refusal shows beside the menu. */
  const run = async (act: () => Promise<unknown>, message: string) => {
    setError(null);
    try {
      await act();
      await done(message);
    } catch (caught) {
      setError(caught);
    }
  };
  return { dialog, setDialog, closeDialog: () => setDialog(null), error, refresh, done, run };
}

function InlineError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <div className="ws-inline-error">
      <ErrorNotice error={error} />
    </div>
  );
}

type ItemDialog = 'rename' | 'move' | 'copy' | 'delete';

/** Actions on a dashboard or saved report, for curators; `onNotice` reports what happened. */
export function ItemActions({ item, onNotice, afterDelete }: { item: ItemView; onNotice: (message: string) => void; afterDelete?: () => void }) {
  const { dialog, setDialog, closeDialog, error, done, run } = useCuratorActions<ItemDialog>(onNotice);
  const kind = itemKindLabel(item.kind);
  const toggleArchive = () =>
    run(() => (item.archived ? ops.unarchiveItem(item.id) : ops.archiveItem(item.id)), `${kind} “${item.name}” ${item.archived ? 'unarchived' : 'archived'}.`);
  return (
    <>
      <ActionMenu label={`Actions for ${item.name}`}>
        {(close) => (
          <>
            <Link className="btn btn-link" to={`${itemPath(item)}/edit`} onClick={close}>
              Edit
            </Link>
            {(['rename', 'move', 'copy'] as const).map((what) => (
              <Button
                key={what}
                variant="link"
                onClick={() => {
                  close();
                  setDialog(what);
                }}
              >
                {what === 'rename' ? 'Rename' : what === 'move' ? 'Move…' : 'Copy…'}
              </Button>
            ))}
            <Button
              variant="link"
              onClick={() => {
                close();
                void toggleArchive();
              }}
            >
              {item.archived ? 'Unarchive' : 'Archive'}
            </Button>
            <Button
              variant="link"
              className="ws-danger-link"
              onClick={() => {
                close();
                setDialog('delete');
              }}
            >
              Delete…
            </Button>
          </>
        )}
      </ActionMenu>
      <InlineError error={error} />
      <NameDialog
        open={dialog === 'rename'}
        title={`Rename ${kind.toLowerCase()}`}
        submitLabel="Save"
        initialName={item.name}
        initialDescription={item.description}
        onClose={closeDialog}
        onSubmit={async (name, description) => {
          await ops.updateItem(item.id, { name, description });
          await done(`${kind} renamed to “${name}”.`);
        }}
      />
      <TargetDialog
        open={dialog === 'move'}
        title={`Move “${item.name}”`}
        verb="Move"
        exclude={(c) => c.id === item.collectionId}
        onClose={closeDialog}
        onSubmit={async (target) => {
          await ops.moveItem(item.id, target);
          await done(`${kind} “${item.name}” moved.`);
        }}
      />
      <CopyDialog open={dialog === 'copy'} name={item.name} onClose={closeDialog} copy={async (target, name) => itemPath(await ops.copyItem(item.id, target, name))} />
      <ConfirmDialog
        open={dialog === 'delete'}
        title={`Delete “${item.name}”?`}
        confirmLabel={`Delete ${kind.toLowerCase()}`}
        onClose={closeDialog}
        onConfirm={async () => {
          await ops.deleteItem(item.id);
          await done(`${kind} “${item.name}” deleted.`);
          afterDelete?.();
        }}
      >
        <p>This cannot be undone. {item.kind === 'saved_report' ? 'A saved report that a dashboard still shows cannot be deleted.' : 'Archiving hides it and can be undone.'}</p>
      </ConfirmDialog>
    </>
  );
}

type CollectionDialog = 'new' | 'rename' | 'move' | 'copy' | 'delete';

/** Actions on a collection for curators; roots cannot be moved, archived or deleted. */
export function CollectionActions({ collection, onNotice }: { collection: CollectionView; onNotice: (message: string) => void }) {
  const { dialog, setDialog, closeDialog, error, refresh, done, run } = useCuratorActions<CollectionDialog>(onNotice);
  const navigate = useNavigate();
  const root = collection.parentId === null;
  const toggleArchive = () =>
    run(
      () => (collection.archived ? ops.unarchiveCollection(collection.id) : ops.archiveCollection(collection.id)),
      `Collection “${collection.name}” ${collection.archived ? 'unarchived' : 'archived, with everything in it'}.`,
    );
  const entries: { key: string; label: string; run: () => void; danger?: boolean }[] = [
    { key: 'rename', label: 'Rename', run: () => setDialog('rename') },
    ...(root ? [] : [{ key: 'move', label: 'Move…', run: () => setDialog('move') }]),
    { key: 'copy', label: 'Copy…', run: () => setDialog('copy') },
    ...(root ? [] : [{ key: 'archive', label: collection.archived ? 'Unarchive' : 'Archive', run: () => void toggleArchive() }]),
    ...(root || !collection.archived ? [] : [{ key: 'delete', label: 'Delete…', run: () => setDialog('delete'), danger: true }]),
  ];
  return (
    <>
      <Button onClick={() => setDialog('new')}>New collection</Button>
      <ActionMenu label={`Actions for collection ${collection.name}`}>
        {(close) =>
          entries.map((entry) => (
            <Button
              key={entry.key}
              variant="link"
              className={entry.danger ? 'ws-danger-link' : undefined}
              onClick={() => {
                close();
                entry.run();
              }}
            >
              {entry.label}
            </Button>
          ))
        }
      </ActionMenu>
      <InlineError error={error} />
      <NameDialog
        open={dialog === 'new'}
        title={`New collection in “${collection.name}”`}
        submitLabel="Create collection"
        onClose={closeDialog}
        onSubmit={async (name, description) => {
          const created = await ops.createCollection({ parentId: collection.id, name, ...(description ? { description } : {}) });
          await refresh();
          void navigate(collectionPath(created.id));
        }}
      />
      <NameDialog
        open={dialog === 'rename'}
        title="Rename collection"
        submitLabel="Save"
        initialName={collection.name}
        initialDescription={collection.description}
        onClose={closeDialog}
        onSubmit={async (name, description) => {
          await ops.updateCollection(collection.id, { name, description });
          await done(`Collection renamed to “${name}”.`);
        }}
      />
      <TargetDialog
        open={dialog === 'move'}
        title={`Move “${collection.name}”`}
        verb="Move"
        exclude={(c) => c.id === collection.id || c.id === collection.parentId}
        onClose={closeDialog}
        onSubmit={async (target) => {
          await ops.moveCollection(collection.id, target);
          await done(`Collection “${collection.name}” moved.`);
        }}
      />
      <CopyDialog open={dialog === 'copy'} name={collection.name} onClose={closeDialog} copy={async (target, name) => collectionPath((await ops.copyCollection(collection.id, target, name)).id)} />
      <ConfirmDialog
        open={dialog === 'delete'}
        title={`Delete “${collection.name}”?`}
        confirmLabel="Delete collection"
        onClose={closeDialog}
        onConfirm={async () => {
          await ops.deleteCollection(collection.id);
          await refresh();
          void navigate(collection.parentId ? collectionPath(collection.parentId) : '/collections');
        }}
      >
        <p>The collection and everything under it are deleted for good. This cannot be undone.</p>
      </ConfirmDialog>
    </>
  );
}

/** Where a collection sits: its visible ancestors, each a link. */
export function Breadcrumbs({ collectionId, current }: { collectionId: string; current?: string }) {
  const collections = useCollections(true);
  const path = pathOf(collections.data ?? [], collectionId);
  return (
    <nav aria-label="Breadcrumb" className="ws-crumbs">
      <ol>
        <li>
          <Link to="/collections">Collections</Link>
        </li>
        {path.map((c, i) => (
          <li key={c.id}>
            {i === path.length - 1 && current === undefined ? (
              <span aria-current="page">{c.name}</span>
            ) : (
              <Link to={collectionPath(c.id)}>{c.name}</Link>
            )}
          </li>
        ))}
        {current !== undefined && (
          <li>
            <span aria-current="page">{current}</span>
          </li>
        )}
      </ol>
    </nav>
  );
}

/** Viewers copy a dashboard or saved report into a collection they curate (a shared dashboard then runs on their own data). */
export function CopyItemButton({ item }: { item: ItemView }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button onClick={() => setOpen(true)}>Copy to my collections…</Button>
      <CopyDialog open={open} name={item.name} onClose={() => setOpen(false)} copy={async (target, name) => itemPath(await ops.copyItem(item.id, target, name))} />
    </>
  );
}
