import { randomUUID } from 'node:crypto';
import { PluraError } from '../core/errors.js';
import { recordAudit, auditDbOf } from '../audit/audit.service.js';
import { appendAuditEntry } from '../audit/audit.store.js';
import { actorForUser } from '../access/actors.js';
import { identityDbFor, type ActContext } from '../access/context.js';
import type { IdentityDb } from '../access/identity.store.js';
import {
  actorLabel,
  collectionAccess,
  decideCopy,
  decideMove,
  levelAtLeast,
  widgetReferenceHolds,
  type CollectionFacts,
  type CollectionKind,
  type CollectionLevel,
  type CollectionPlacement,
  type PlacementDecision,
} from '../access/policy.js';
import { authorize, requireUser, scopeContext } from '../access/users.service.js';
import {
  accessToCollection,
  actorGroups,
  findCollection,
  isCollectionKind,
  presentItem,
  requireCollection,
  requireItem,
  validateDefinition,
  type CollectionRow,
  type CollectionStore,
  type CollectionView,
  type DashboardDefinition,
  type ItemKind,
  type ItemRow,
  type ItemView,
  type LocatedCollection,
  type LocatedItem,
} from './workspace.service.js';

/**
 * Collection operations: rename, move, copy, archive, unarchive and delete collections and
 * their items, and `explain`. Reads and checks come first, through the policy module; the
 * writes of one operation then commit together, with their audit entry, in one transaction
 * of the store the content lives in.
 */

/** A subtree larger than this is refused rather than copied or moved in one request. */
export const MAX_SUBTREE_COLLECTIONS = 2000;
const MAX_DEPTH = 100;

type Where = LocatedCollection['where'];
/** A placement without the actor's level: what the stored rows say. */
type Place = Omit<CollectionPlacement, 'level'>;

const kindOf = (row: CollectionRow): CollectionKind => (isCollectionKind(row.kind) ? row.kind : 'internal');

function tenantOf(ctx: ActContext, where: Where): string | null {
  return where === 'tenant' && ctx.scope.kind === 'tenant' ? ctx.scope.tenant.slug : null;
}

function placeOf(ctx: ActContext, row: CollectionRow, where: Where): Place {
  return { kind: kindOf(row), tenant: tenantOf(ctx, where), ownerUserId: row.owner_user_id };
}

function placementOf(ctx: ActContext, located: LocatedCollection): CollectionPlacement {
  return { ...placeOf(ctx, located.row, located.where), level: located.level };
}

function refuse(decision: PlacementDecision, what: string): never {
  throw new PluraError('forbidden', `${what} is refused: ${decision.reason}.`);
}

function presentCollection(row: CollectionRow, level: CollectionLevel): CollectionView {
  return { id: row.id, kind: kindOf(row), parentId: row.parent_id, name: row.name, description: row.description, archived: row.archived_at !== null, access: level };
}

function checkName(name: string | undefined): string | undefined {
  const trimmed = name?.trim();
  if (trimmed !== undefined && (trimmed === '' || trimmed.length > 200)) throw new PluraError('invalid_input', 'A name has 1 to 200 characters.');
  return trimmed;
}

function requireNotRoot(row: CollectionRow, what: string): void {
  if (row.parent_id === null) throw new PluraError('invalid_input', `"${row.name}" is a root collection; roots cannot be ${what}.`);
}

/** Writes one operation in a transaction of `db`, its audit entry included (the registry's log, or the tenant's). */
async function writeAudited<T>(ctx: ActContext, db: CollectionStore, where: Where, action: string, work: (trx: CollectionStore) => Promise<T>, details: (result: T) => { before?: unknown; after?: unknown }): Promise<T> {
  return db.transaction().execute(async (trx) => {
    const result = await work(trx);
    const audit = details(result);
    if (where === 'tenant') await recordAudit(ctx, action, audit, trx as unknown as IdentityDb);
    else {
      // recordPlatformAudit would write through the registry's own connection: on SQLite that waits for this very transaction.
      await appendAuditEntry(auditDbOf(trx as unknown as IdentityDb), {
        actor: actorLabel(ctx.actor),
        actorKind: ctx.actor.kind,
        tenant: ctx.scope.kind === 'tenant' ? ctx.scope.tenant.slug : null,
        ip: ctx.ip,
        action,
        before: audit.before,
        after: audit.after,
      });
    }
    return result;
  });
}

// ---------------------------------------------------------------------------
// Trees.

/** A collection and everything under it, parents before children. */
async function subtreeOf(db: CollectionStore, root: CollectionRow): Promise<CollectionRow[]> {
  const all: CollectionRow[] = [root];
  const seen = new Set([root.id]);
  let frontier = [root.id];
  for (let depth = 0; frontier.length > 0; depth += 1) {
    if (depth > MAX_DEPTH) throw new PluraError('invalid_input', `"${root.name}" is nested more than ${MAX_DEPTH} levels deep.`);
    const children = await db.selectFrom('collection').selectAll().where('parent_id', 'in', frontier).orderBy('name').execute();
    frontier = [];
    for (const child of children) {
      if (seen.has(child.id)) continue;
      seen.add(child.id);
      all.push(child);
      frontier.push(child.id);
    }
    if (all.length > MAX_SUBTREE_COLLECTIONS) throw new PluraError('invalid_input', `"${root.name}" holds more than ${MAX_SUBTREE_COLLECTIONS} collections; work on smaller parts of it.`);
  }
  return all;
}

async function itemsIn(db: CollectionStore, collectionIds: readonly string[]): Promise<ItemRow[]> {
  if (collectionIds.length === 0) return [];
  return db.selectFrom('workspace_item').selectAll().where('collection_id', 'in', [...collectionIds]).orderBy('name').execute();
}

/** Ids of `row` and its ancestors, nearest first. */
async function ancestry(db: CollectionStore, row: CollectionRow): Promise<string[]> {
  const ids = [row.id];
  let parentId = row.parent_id;
  while (parentId !== null && ids.length <= MAX_DEPTH) {
    ids.push(parentId);
    const parent = await db.selectFrom('collection').select('parent_id').where('id', '=', parentId).executeTakeFirst();
    parentId = parent?.parent_id ?? null;
  }
  return ids;
}

/** Operations on a subtree need curate on every collection in it, not only on its top. */
async function requireCurateAll(ctx: ActContext, located: LocatedCollection, tree: readonly CollectionRow[]): Promise<void> {
  if (located.where !== 'registry' || tree.length <= 1) return;
  const groups = await actorGroups(ctx);
  for (const row of tree.slice(1)) {
    const { level } = await accessToCollection(ctx, row, 'registry', groups);
    if (!levelAtLeast(level, 'curate')) throw new PluraError('forbidden', `You do not curate everything under "${located.row.name}"; ask a platform admin.`);
  }
}

/** The collections of a subtree the actor may see: a hidden collection is left out with everything under it. */
async function visiblePart(ctx: ActContext, located: LocatedCollection, tree: readonly CollectionRow[]): Promise<CollectionRow[]> {
  if (located.where !== 'registry') return [...tree];
  const groups = await actorGroups(ctx);
  const kept = new Set([located.row.id]);
  const visible = [located.row];
  for (const row of tree.slice(1)) {
    if (row.parent_id === null || !kept.has(row.parent_id)) continue;
    if ((await accessToCollection(ctx, row, 'registry', groups)).level === 'none') continue;
    kept.add(row.id);
    visible.push(row);
  }
  return visible;
}

// ---------------------------------------------------------------------------
// Dashboards naming saved reports: references must still hold after a move or delete.

function widgetsOf(row: ItemRow): DashboardDefinition['widgets'] {
  if (row.kind !== 'dashboard') return [];
  return (JSON.parse(row.definition) as DashboardDefinition).widgets;
}

/** Dashboards of `db` whose widgets name one of `reportIds`. */
async function dashboardsNaming(db: CollectionStore, reportIds: readonly string[]): Promise<ItemRow[]> {
  if (reportIds.length === 0) return [];
  const found = new Map<string, ItemRow>();
  for (const id of reportIds) {
    // Definitions are stored by JSON.stringify, so a reference reads exactly `"item":"<id>"`; the parse below confirms it.
    const rows = await db.selectFrom('workspace_item').selectAll().where('kind', '=', 'dashboard').where('definition', 'like', `%"item":"${id}"%`).execute();
    for (const row of rows) if (widgetsOf(row).some((w) => w.item === id)) found.set(row.id, row);
  }
  return [...found.values()];
}

async function dashboardLabel(ctx: ActContext, row: ItemRow): Promise<string> {
  // Name only what the actor may see: another user's personal dashboard stays anonymous.
  return (await findCollection(ctx, row.collection_id)) ? `dashboard "${row.name}"` : 'a dashboard you cannot see';
}

/**
 * After moving `moved` items to new places, every widget reference touching them must still
 * hold (everyone who sees a dashboard can see the reports it names); else the move is refused.
 */
async function checkReferencesAfterMove(ctx: ActContext, db: CollectionStore, moved: readonly ItemRow[], placeAfter: (item: ItemRow) => Promise<Place | null>): Promise<void> {
  const movedIds = new Set(moved.map((item) => item.id));
  const pairs: { dashboard: ItemRow; report: ItemRow }[] = [];
  for (const item of moved) {
    for (const widget of widgetsOf(item)) {
      if (widget.item === undefined) continue;
      const report = await db.selectFrom('workspace_item').selectAll().where('id', '=', widget.item).executeTakeFirst();
      if (report) pairs.push({ dashboard: item, report });
    }
  }
  const reports = moved.filter((item) => item.kind === 'saved_report').map((item) => item.id);
  for (const dashboard of await dashboardsNaming(db, reports)) {
    if (movedIds.has(dashboard.id)) continue;
    for (const widget of widgetsOf(dashboard)) {
      const report = moved.find((item) => item.id === widget.item);
      if (report) pairs.push({ dashboard, report });
    }
  }
  for (const { dashboard, report } of pairs) {
    const [from, to] = [await placeAfter(dashboard), await placeAfter(report)];
    if (!from || !to || widgetReferenceHolds(from, to)) continue;
    throw new PluraError('invalid_input', `The ${await dashboardLabel(ctx, dashboard)} shows the saved report "${report.name}", which its viewers could no longer see after this move; move them together or copy instead.`);
  }
}

/** Current place of a stored collection by id (rows only, for reference checks). */
function placeLookup(ctx: ActContext, db: CollectionStore, where: Where): (collectionId: string) => Promise<Place | null> {
  const cache = new Map<string, Place | null>();
  return async (collectionId) => {
    if (!cache.has(collectionId)) {
      const row = await db.selectFrom('collection').selectAll().where('id', '=', collectionId).executeTakeFirst();
      cache.set(collectionId, row ? placeOf(ctx, row, where) : null);
    }
    return cache.get(collectionId) ?? null;
  };
}

/** Deleting saved reports that dashboards outside the deleted set still show would leave them half-broken: refused. */
async function checkNoOutsideReferences(ctx: ActContext, db: CollectionStore, deleted: readonly ItemRow[]): Promise<void> {
  const deletedIds = new Set(deleted.map((item) => item.id));
  const reports = deleted.filter((item) => item.kind === 'saved_report').map((item) => item.id);
  for (const dashboard of await dashboardsNaming(db, reports)) {
    if (deletedIds.has(dashboard.id)) continue;
    const named = widgetsOf(dashboard).find((w) => w.item !== undefined && deletedIds.has(w.item));
    const report = deleted.find((item) => item.id === named?.item);
    throw new PluraError('invalid_input', `The ${await dashboardLabel(ctx, dashboard)} shows the saved report "${report?.name ?? ''}"; change that dashboard first.`);
  }
}

// ---------------------------------------------------------------------------
// Copies: new ids, widget references rewritten to the copies, or inlined when the original would not be visible beside the copy.

async function copiedDefinition(ctx: ActContext, item: ItemRow, idMap: ReadonlyMap<string, string>, target: CollectionPlacement, targetWhere: Where): Promise<string> {
  if (item.kind !== 'dashboard') return item.definition;
  const definition = JSON.parse(item.definition) as DashboardDefinition;
  const widgets: DashboardDefinition['widgets'] = [];
  for (const widget of definition.widgets) {
    if (widget.item === undefined) {
      widgets.push(widget);
      continue;
    }
    const copy = idMap.get(widget.item);
    if (copy !== undefined) {
      widgets.push({ ...widget, item: copy });
      continue;
    }
    const report = await requireItem(ctx, widget.item, 'view').catch(() => null);
    if (!report || report.row.kind !== 'saved_report') throw new PluraError('invalid_input', `Widget "${widget.id}" of "${item.name}" names a saved report you cannot see; it cannot be copied.`);
    const place = placementOf(ctx, report.collection);
    if (report.collection.where === targetWhere && widgetReferenceHolds(target, place)) {
      widgets.push(widget);
      continue;
    }
    // The original stays out of the copy's reach: carry its definition inline, if it may go there at all.
    const decision = decideCopy(place, target);
    if (!decision.allowed) refuse(decision, `Copying the saved report "${report.row.name}" shown by widget "${widget.id}"`);
    const { item: _dropped, ...rest } = widget;
    void _dropped;
    widgets.push({ ...rest, title: widget.title ?? report.row.name, report: JSON.parse(report.row.definition) as NonNullable<typeof widget.report> });
  }
  return JSON.stringify(validateDefinition('dashboard', { widgets }));
}

function copyName(name: string, requested: string | undefined, sameParent: boolean): string {
  const chosen = checkName(requested);
  if (chosen !== undefined) return chosen;
  return sameParent ? `${name} (copy)`.slice(0, 200) : name;
}

// ---------------------------------------------------------------------------
// Collections.

export async function updateCollection(ctx: ActContext, id: string, patch: { name?: string | undefined; description?: string | undefined }): Promise<CollectionView> {
  const located = await requireCollection(ctx, id, 'curate');
  const name = checkName(patch.name);
  const description = patch.description?.trim();
  if (description !== undefined && description.length > 2000) throw new PluraError('invalid_input', 'A description has at most 2000 characters.');
  const row = await writeAudited(
    ctx,
    located.db,
    located.where,
    'collection.updated',
    (trx) =>
      trx
        .updateTable('collection')
        .set({ ...(name !== undefined ? { name } : {}), ...(description !== undefined ? { description } : {}), updated_at: new Date().toISOString() })
        .where('id', '=', located.row.id)
        .returningAll()
        .executeTakeFirstOrThrow(),
    (updated) => ({ before: { id, name: located.row.name, description: located.row.description }, after: { id, name: updated.name, description: updated.description } }),
  );
  return presentCollection(row, located.level);
}

export async function moveCollection(ctx: ActContext, id: string, parentId: string): Promise<CollectionView> {
  const source = await requireCollection(ctx, id, 'view');
  requireNotRoot(source.row, 'moved');
  const target = await requireCollection(ctx, parentId, 'view');
  const decision = decideMove(placementOf(ctx, source), placementOf(ctx, target));
  if (!decision.allowed) refuse(decision, `Moving "${source.row.name}" into "${target.row.name}"`);
  if (target.row.archived_at !== null) throw new PluraError('invalid_input', `"${target.row.name}" is archived; unarchive it first.`);
  if ((await ancestry(target.db, target.row)).includes(source.row.id)) throw new PluraError('invalid_input', `"${source.row.name}" cannot be moved under itself or one of its own collections.`);
  if (source.row.parent_id === target.row.id) return presentCollection(source.row, source.level);
  const tree = await subtreeOf(source.db, source.row);
  await requireCurateAll(ctx, source, tree);
  const treeIds = new Set(tree.map((row) => row.id));
  const after = placeOf(ctx, target.row, target.where);
  const lookup = placeLookup(ctx, source.db, source.where);
  await checkReferencesAfterMove(ctx, source.db, await itemsIn(source.db, [...treeIds]), async (item) => (treeIds.has(item.collection_id) ? after : lookup(item.collection_id)));
  const reshaped = kindOf(source.row) !== after.kind || source.row.owner_user_id !== after.ownerUserId;
  const row = await writeAudited(
    ctx,
    source.db,
    source.where,
    'collection.moved',
    async (trx) => {
      const now = new Date().toISOString();
      // A tenant collection moved into a personal one becomes personal, with everything under it (and back).
      if (reshaped) await trx.updateTable('collection').set({ kind: after.kind, owner_user_id: after.ownerUserId, updated_at: now }).where('id', 'in', [...treeIds]).execute();
      return trx.updateTable('collection').set({ parent_id: target.row.id, updated_at: now }).where('id', '=', source.row.id).returningAll().executeTakeFirstOrThrow();
    },
    () => ({ before: { id, parent: source.row.parent_id, kind: source.row.kind }, after: { id, parent: target.row.id, kind: after.kind, collections: tree.length } }),
  );
  return presentCollection(row, (await accessToCollection(ctx, row, source.where)).level);
}

export async function copyCollection(ctx: ActContext, id: string, input: { parentId: string; name?: string | undefined }): Promise<CollectionView> {
  const source = await requireCollection(ctx, id, 'view');
  const target = await requireCollection(ctx, input.parentId, 'view');
  const targetPlacement = placementOf(ctx, target);
  const decision = decideCopy(placementOf(ctx, source), targetPlacement);
  if (!decision.allowed) refuse(decision, `Copying "${source.row.name}" into "${target.row.name}"`);
  if (target.row.archived_at !== null) throw new PluraError('invalid_input', `"${target.row.name}" is archived; unarchive it first.`);
  if (source.where === target.where && (await ancestry(target.db, target.row)).includes(source.row.id)) {
    throw new PluraError('invalid_input', `"${source.row.name}" cannot be copied into itself or one of its own collections.`);
  }
  // Archived parts are left behind (unless archived with the copied collection itself); hidden parts (registry permissions) too.
  const leftBehind = (stamp: string | null): boolean => stamp !== null && stamp !== source.row.archived_at;
  const tree = (await visiblePart(ctx, source, await subtreeOf(source.db, source.row))).filter((row) => row === source.row || !leftBehind(row.archived_at));
  const kept = new Set([source.row.id]);
  const collections = tree.filter((row) => {
    if (row === source.row) return true;
    if (row.parent_id === null || !kept.has(row.parent_id)) return false;
    kept.add(row.id);
    return true;
  });
  const items = (await itemsIn(source.db, collections.map((row) => row.id))).filter((item) => !leftBehind(item.archived_at));
  const collectionIds = new Map(collections.map((row) => [row.id, randomUUID()]));
  const itemIds = new Map(items.map((item) => [item.id, randomUUID()]));
  const definitions = new Map<string, string>();
  for (const item of items) definitions.set(item.id, await copiedDefinition(ctx, item, itemIds, targetPlacement, target.where));
  const now = new Date().toISOString();
  const by = actorLabel(ctx.actor);
  const newId = collectionIds.get(source.row.id) ?? randomUUID();
  const row = await writeAudited(
    ctx,
    target.db,
    target.where,
    'collection.copied',
    async (trx) => {
      for (const original of collections) {
        const isTop = original === source.row;
        await trx
          .insertInto('collection')
          .values({
            id: collectionIds.get(original.id) ?? randomUUID(),
            kind: targetPlacement.kind,
            parent_id: isTop ? target.row.id : (collectionIds.get(original.parent_id ?? '') ?? target.row.id),
            name: isTop ? copyName(original.name, input.name, original.parent_id === target.row.id && source.where === target.where) : original.name,
            description: original.description,
            owner_user_id: targetPlacement.ownerUserId,
            archived_at: null,
            created_at: now,
            updated_at: now,
          })
          .execute();
      }
      for (const item of items) {
        await trx
          .insertInto('workspace_item')
          .values({
            id: itemIds.get(item.id) ?? randomUUID(),
            collection_id: collectionIds.get(item.collection_id) ?? newId,
            kind: item.kind,
            name: item.name,
            description: item.description,
            definition: definitions.get(item.id) ?? item.definition,
            archived_at: null,
            created_by: by,
            created_at: now,
            updated_at: now,
          })
          .execute();
      }
      return trx.selectFrom('collection').selectAll().where('id', '=', newId).executeTakeFirstOrThrow();
    },
    () => ({ after: { from: id, id: newId, parent: target.row.id, collections: collections.length, items: items.length } }),
  );
  return presentCollection(row, 'curate');
}

export async function archiveCollection(ctx: ActContext, id: string): Promise<CollectionView> {
  const located = await requireCollection(ctx, id, 'curate');
  requireNotRoot(located.row, 'archived');
  if (located.row.archived_at !== null) return presentCollection(located.row, located.level);
  const tree = await subtreeOf(located.db, located.row);
  await requireCurateAll(ctx, located, tree);
  const ids = tree.map((row) => row.id);
  const stamp = new Date().toISOString();
  const row = await writeAudited(
    ctx,
    located.db,
    located.where,
    'collection.archived',
    async (trx) => {
      // One stamp for the whole act: unarchiving restores exactly what this archived, not what was archived before.
      await trx.updateTable('workspace_item').set({ archived_at: stamp }).where('collection_id', 'in', ids).where('archived_at', 'is', null).execute();
      await trx.updateTable('collection').set({ archived_at: stamp }).where('id', 'in', ids).where('archived_at', 'is', null).execute();
      return trx.selectFrom('collection').selectAll().where('id', '=', located.row.id).executeTakeFirstOrThrow();
    },
    () => ({ after: { id, collections: ids.length } }),
  );
  return presentCollection(row, located.level);
}

export async function unarchiveCollection(ctx: ActContext, id: string): Promise<CollectionView> {
  const located = await requireCollection(ctx, id, 'curate');
  const stamp = located.row.archived_at;
  if (stamp === null) return presentCollection(located.row, located.level);
  const parent = located.row.parent_id === null ? undefined : await located.db.selectFrom('collection').select(['name', 'archived_at']).where('id', '=', located.row.parent_id).executeTakeFirst();
  if (parent?.archived_at) throw new PluraError('invalid_input', `"${located.row.name}" is inside the archived collection "${parent.name}"; unarchive that one first.`);
  const tree = await subtreeOf(located.db, located.row);
  await requireCurateAll(ctx, located, tree);
  const ids = tree.map((row) => row.id);
  const row = await writeAudited(
    ctx,
    located.db,
    located.where,
    'collection.unarchived',
    async (trx) => {
      await trx.updateTable('workspace_item').set({ archived_at: null }).where('collection_id', 'in', ids).where('archived_at', '=', stamp).execute();
      await trx.updateTable('collection').set({ archived_at: null }).where('id', 'in', ids).where('archived_at', '=', stamp).execute();
      return trx.selectFrom('collection').selectAll().where('id', '=', located.row.id).executeTakeFirstOrThrow();
    },
    () => ({ after: { id } }),
  );
  return presentCollection(row, located.level);
}

/** Deletes an archived collection with everything under it. */
export async function deleteCollection(ctx: ActContext, id: string): Promise<void> {
  const located = await requireCollection(ctx, id, 'curate');
  requireNotRoot(located.row, 'deleted');
  if (located.row.archived_at === null) throw new PluraError('invalid_input', `"${located.row.name}" is not archived; archive it before deleting it.`);
  const tree = await subtreeOf(located.db, located.row);
  await requireCurateAll(ctx, located, tree);
  const ids = tree.map((row) => row.id);
  const items = await itemsIn(located.db, ids);
  await checkNoOutsideReferences(ctx, located.db, items);
  await writeAudited(
    ctx,
    located.db,
    located.where,
    'collection.deleted',
    async (trx) => {
      await trx.deleteFrom('workspace_item').where('collection_id', 'in', ids).execute();
      if (located.where === 'registry') await (trx as unknown as ActContext['platform']['registry']['db']).deleteFrom('collection_permission').where('collection_id', 'in', ids).execute();
      // One statement: the parent references are checked at its end, when the whole subtree is gone.
      await trx.deleteFrom('collection').where('id', 'in', ids).execute();
    },
    () => ({ before: { id, name: located.row.name, parent: located.row.parent_id, collections: ids.length, items: items.length } }),
  );
}

export async function listCollectionItems(ctx: ActContext, id: string, archived: boolean): Promise<ItemView[]> {
  const located = await requireCollection(ctx, id, 'view');
  let query = located.db.selectFrom('workspace_item').selectAll().where('collection_id', '=', located.row.id).orderBy('name');
  if (!archived) query = query.where('archived_at', 'is', null);
  return (await query.execute()).map(presentItem);
}

// ---------------------------------------------------------------------------
// Items.

function itemKind(row: ItemRow): ItemKind {
  return row.kind === 'dashboard' ? 'dashboard' : 'saved_report';
}

export async function moveItem(ctx: ActContext, id: string, collectionId: string): Promise<ItemView> {
  const { row, collection: source } = await requireItem(ctx, id, 'view');
  const target = await requireCollection(ctx, collectionId, 'view');
  const decision = decideMove(placementOf(ctx, source), placementOf(ctx, target));
  if (!decision.allowed) refuse(decision, `Moving "${row.name}" into "${target.row.name}"`);
  if (target.row.archived_at !== null) throw new PluraError('invalid_input', `"${target.row.name}" is archived; unarchive it first.`);
  if (row.collection_id === target.row.id) return presentItem(row);
  const after = placeOf(ctx, target.row, target.where);
  const lookup = placeLookup(ctx, source.db, source.where);
  await checkReferencesAfterMove(ctx, source.db, [row], async (item) => (item.id === row.id ? after : lookup(item.collection_id)));
  const updated = await writeAudited(
    ctx,
    source.db,
    source.where,
    `${itemKind(row)}.moved`,
    (trx) => trx.updateTable('workspace_item').set({ collection_id: target.row.id, updated_at: new Date().toISOString() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),
    () => ({ before: { id, collection: row.collection_id }, after: { id, collection: target.row.id } }),
  );
  return presentItem(updated);
}

export async function copyItem(ctx: ActContext, id: string, input: { collectionId: string; name?: string | undefined }): Promise<ItemView> {
  const { row, collection: source } = await requireItem(ctx, id, 'view');
  const target = await requireCollection(ctx, input.collectionId, 'view');
  const targetPlacement = placementOf(ctx, target);
  const decision = decideCopy(placementOf(ctx, source), targetPlacement);
  if (!decision.allowed) refuse(decision, `Copying "${row.name}" into "${target.row.name}"`);
  if (target.row.archived_at !== null) throw new PluraError('invalid_input', `"${target.row.name}" is archived; unarchive it first.`);
  const definition = await copiedDefinition(ctx, row, new Map(), targetPlacement, target.where);
  const now = new Date().toISOString();
  const copy = await writeAudited(
    ctx,
    target.db,
    target.where,
    `${itemKind(row)}.copied`,
    (trx) =>
      trx
        .insertInto('workspace_item')
        .values({
          id: randomUUID(),
          collection_id: target.row.id,
          kind: row.kind,
          name: copyName(row.name, input.name, row.collection_id === target.row.id && source.where === target.where),
          description: row.description,
          definition,
          archived_at: null,
          created_by: actorLabel(ctx.actor),
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    (created) => ({ after: { from: id, id: created.id, collection: target.row.id, name: created.name } }),
  );
  return presentItem(copy);
}

async function curatedItem(ctx: ActContext, id: string): Promise<LocatedItem> {
  return requireItem(ctx, id, 'curate');
}

export async function archiveItem(ctx: ActContext, id: string): Promise<ItemView> {
  const { row, collection } = await curatedItem(ctx, id);
  if (row.archived_at !== null) return presentItem(row);
  const updated = await writeAudited(
    ctx,
    collection.db,
    collection.where,
    `${itemKind(row)}.archived`,
    (trx) => trx.updateTable('workspace_item').set({ archived_at: new Date().toISOString() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),
    () => ({ after: { id } }),
  );
  return presentItem(updated);
}

export async function unarchiveItem(ctx: ActContext, id: string): Promise<ItemView> {
  const { row, collection } = await curatedItem(ctx, id);
  if (row.archived_at === null) return presentItem(row);
  if (collection.row.archived_at !== null) throw new PluraError('invalid_input', `"${row.name}" is inside the archived collection "${collection.row.name}"; unarchive that one first.`);
  const updated = await writeAudited(
    ctx,
    collection.db,
    collection.where,
    `${itemKind(row)}.unarchived`,
    (trx) => trx.updateTable('workspace_item').set({ archived_at: null }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),
    () => ({ after: { id } }),
  );
  return presentItem(updated);
}

export async function deleteItem(ctx: ActContext, id: string): Promise<void> {
  const { row, collection } = await curatedItem(ctx, id);
  await checkNoOutsideReferences(ctx, collection.db, [row]);
  await writeAudited(
    ctx,
    collection.db,
    collection.where,
    `${itemKind(row)}.deleted`,
    (trx) => trx.deleteFrom('workspace_item').where('id', '=', id).execute(),
    () => ({ before: { id, collection: row.collection_id, name: row.name } }),
  );
}

// ---------------------------------------------------------------------------
// Explain: what a user may do with a collection, and which group (or rule) granted it.

export interface CollectionExplanation {
  readonly user: string;
  readonly collection: { readonly id: string; readonly name: string; readonly kind: CollectionKind };
  readonly level: CollectionLevel;
  readonly reason: string;
  /** The group whose grant decided it, if a group did. */
  readonly group: string | null;
  /** The collection whose permission rows applied (itself, or the nearest ancestor that has rows). */
  readonly permissionsFrom: string | null;
  /** Every group the user is in, the special group of its kind included. */
  readonly groups: readonly string[];
}

/** The permission rows that apply to a registry collection: its own, else its nearest ancestor's. */
async function applicableGrants(ctx: ActContext, row: CollectionRow): Promise<{ from: string | null; grants: { groupId: number; level: string }[] }> {
  const registry = ctx.platform.registry.db;
  for (const collectionId of await ancestry(registry as unknown as CollectionStore, row)) {
    const grants = await registry.selectFrom('collection_permission').select(['group_id as groupId', 'level']).where('collection_id', '=', collectionId).execute();
    if (grants.length > 0) return { from: collectionId, grants };
  }
  return { from: null, grants: [] };
}

/** Anyone may ask about themselves; super users (tenant) and platform admins (platform) about any user of their scope. */
export async function explainCollection(ctx: ActContext, id: string, login: string | undefined): Promise<CollectionExplanation> {
  const located = await requireCollection(ctx, id, 'view');
  const self = ctx.actor;
  const selfLogin = self.kind === 'tenant_user' || self.kind === 'platform_user' ? self.login : null;
  let subject: ActContext = ctx;
  if (login !== undefined && login !== selfLogin) {
    authorize(ctx, ctx.scope.kind === 'tenant' ? 'manage_tenant' : 'manage_platform', scopeContext(ctx.scope), 'explain the access of other users');
    const db = identityDbFor(ctx.platform, ctx.scope);
    subject = { ...ctx, actor: await actorForUser(ctx.scope, db, await requireUser(db, login)) };
  }
  const groups = await actorGroups(subject);
  const kind = kindOf(located.row);
  let groupGrant: CollectionFacts['groupGrant'] = null;
  let permissionsFrom: string | null = null;
  if (located.where === 'registry' && (kind === 'shared' || kind === 'internal')) {
    const applicable = await applicableGrants(ctx, located.row);
    permissionsFrom = applicable.from;
    for (const grant of applicable.grants) {
      const name = groups.get(grant.groupId);
      if (name === undefined || (grant.level !== 'view' && grant.level !== 'curate')) continue;
      if (!groupGrant || (grant.level === 'curate' && groupGrant.level === 'view')) groupGrant = { level: grant.level, group: name };
    }
  }
  const access = collectionAccess(subject.actor, { kind, tenant: tenantOf(ctx, located.where), ownerUserId: located.row.owner_user_id, groupGrant });
  const decidedByGroup = groupGrant !== null && access.reason.startsWith('group ');
  return {
    user: login ?? selfLogin ?? actorLabel(self),
    collection: { id: located.row.id, name: located.row.name, kind },
    level: access.level,
    reason: access.reason,
    group: decidedByGroup ? groupGrant?.group ?? null : null,
    permissionsFrom,
    groups: [...groups.values()].sort(),
  };
}
