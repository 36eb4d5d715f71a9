import { Link, useSearchParams } from 'react-router';
import { CheckboxField, Empty, ErrorNotice, Loading, PageHeader } from '../../ui/components';
import { KIND_HINT, KIND_LABEL, KIND_ORDER, collectionPath, useCollections, type CollectionKind, type CollectionView } from './api';

const isKind = (value: string | null): value is CollectionKind => value !== null && (KIND_ORDER as readonly string[]).includes(value);

function Tree({ nodes, all, depth }: { nodes: readonly CollectionView[]; all: readonly CollectionView[]; depth: number }) {
  return (
    <ul className={depth === 0 ? 'ws-tree' : undefined}>
      {nodes.map((node) => {
        const children = all.filter((c) => c.parentId === node.id);
        return (
          <li key={node.id}>
            <div className="ws-tree-row">
              <span className="ws-folder" aria-hidden="true" />
              <Link to={collectionPath(node.id)}>{node.name}</Link>
              {node.archived && <span className="badge">archived</span>}
              <span className={`badge ${node.access === 'curate' ? 'badge-ok' : ''}`} title="Your level on this collection">
                {node.access === 'curate' ? 'you curate' : 'view only'}
              </span>
              {node.description && <span className="muted ws-tree-desc">{node.description}</span>}
            </div>
            {children.length > 0 && <Tree nodes={children} all={all} depth={depth + 1} />}
          </li>
        );
      })}
    </ul>
  );
}

/** `/collections[?kind=shared][&archived=1]`: everything the user may see, by kind. */
export function CollectionsPage() {
  const [params, setParams] = useSearchParams();
  const archived = params.get('archived') === '1';
  const kindParam = params.get('kind');
  const kind = isKind(kindParam) ? kindParam : null;
  const collections = useCollections(archived);
  const list = collections.data ?? [];
  const byId = new Set(list.map((c) => c.id));
  const kindsPresent = KIND_ORDER.filter((k) => list.some((c) => c.kind === k));
  const kindsShown = kind ? [kind] : kindsPresent;

  const set = (key: string, value: string | null) =>
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        if (value === null) next.delete(key);
        else next.set(key, value);
        return next;
      },
      { replace: true },
    );

  return (
    <>
      <PageHeader title={kind ? `${KIND_LABEL[kind]} collections` : 'Dashboards and collections'}>
        <p className="muted">Collections hold dashboards and saved reports. Open one to see what is inside{kind === 'shared' ? ' and who may see it' : ''}.</p>
      </PageHeader>
      <div className="toolbar ws-filter">
        <nav aria-label="Kinds of collection" className="tabs">
          <Link to={{ search: archived ? '?archived=1' : '' }} className={kind === null ? 'active' : undefined} aria-current={kind === null ? 'page' : undefined}>
            All
          </Link>
          {KIND_ORDER.filter((k) => kindsPresent.includes(k) || k === kind).map((k) => {
            const search = new URLSearchParams({ kind: k, ...(archived ? { archived: '1' } : {}) }).toString();
            return (
              <Link key={k} to={{ search: `?${search}` }} className={kind === k ? 'active' : undefined} aria-current={kind === k ? 'page' : undefined}>
                {KIND_LABEL[k]}
              </Link>
            );
          })}
        </nav>
        <CheckboxField label="Show archived" checked={archived} onChange={(event) => set('archived', event.target.checked ? '1' : null)} />
      </div>
      {collections.isLoading && <Loading label="Loading collections…" />}
      <ErrorNotice error={collections.error} />
      {collections.data &&
        kindsShown.map((k) => {
          // Roots of this kind, and collections whose parent the user cannot see (granted below a hidden root).
          const roots = list.filter((c) => c.kind === k && (c.parentId === null || !byId.has(c.parentId)));
          return (
            <section key={k} className="card ws-kind" aria-labelledby={`kind-${k}`}>
              <h2 id={`kind-${k}`}>{KIND_LABEL[k]}</h2>
              <p className="muted ws-kind-hint">{KIND_HINT[k]}</p>
              {roots.length === 0 ? <Empty title={`No ${KIND_LABEL[k].toLowerCase()} collection${archived ? '' : ' here (archived ones are hidden)'}.`} /> : <Tree nodes={roots} all={list} depth={0} />}
            </section>
          );
        })}
      {collections.data && kindsShown.length === 0 && <Empty title="You see no collection yet." />}
    </>
  );
}
