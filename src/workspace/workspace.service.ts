import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { PluraError } from '../core/errors.js';
import { recordAudit, recordPlatformAudit } from '../audit/audit.service.js';
import { identityDbFor, type ActContext } from '../access/context.js';
import { actorLabel, collectionAccess, collectionShownUnderStrategy, levelAtLeast, type CollectionFacts, type CollectionKind, type CollectionLevel } from '../access/policy.js';
import { parseSegment } from '../reports/segments.js';
import type { CollectionTable, WorkspaceItemTable } from './workspace.tables.js';
import { INTERNAL_ROOT, SHARED_ROOT, TENANT_ROOT } from './workspace.migrations.js';

/** The tables a collection's database holds: the registry and every tenant store have them. */
export interface CollectionStoreTables {
  collection: CollectionTable;
  workspace_item: WorkspaceItemTable;
}
export type CollectionStore = Kysely<CollectionStoreTables>;
export type CollectionRow = Selectable<CollectionTable>;
export type ItemRow = Selectable<WorkspaceItemTable>;

/** A collection found for an actor: its row, the database it lives in, and what the actor may do. */
export interface LocatedCollection {
  readonly row: CollectionRow;
  readonly db: CollectionStore;
  readonly where: 'registry' | 'tenant';
  readonly level: CollectionLevel;
  readonly reason: string;
}

export const isCollectionKind = (value: string): value is CollectionKind => ['shared', 'internal', 'tenant', 'personal'].includes(value);

// ---------------------------------------------------------------------------
// Definitions of saved reports and dashboards, validated at the edge and again on import.

export const visualizations = ['table', 'line', 'bar', 'pie', 'number'] as const;
export const SavedReportDefinition = Type.Object(
  {
    method: Type.String({ pattern: '^[A-Za-z0-9_]+\\.[A-Za-z0-9_]+$', maxLength: 100 }),
    params: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_\\[\\]]{1,64}$' }), Type.String({ maxLength: 1000 }), { maxProperties: 40 }),
    segment: Type.Optional(Type.String({ maxLength: 4000 })),
    visualization: Type.Union(visualizations.map((v) => Type.Literal(v))),
  },
  { additionalProperties: false },
);
export type SavedReportDefinition = Static<typeof SavedReportDefinition>;

export const MAX_WIDGETS = 50;
export const DashboardDefinition = Type.Object(
  {
    widgets: Type.Array(
      Type.Object(
        {
          id: Type.String({ minLength: 1, maxLength: 64 }),
          title: Type.Optional(Type.String({ maxLength: 200 })),
          /** A saved report by id, or an inline one. */
          item: Type.Optional(Type.String({ maxLength: 64 })),
          report: Type.Optional(SavedReportDefinition),
          x: Type.Integer({ minimum: 0, maximum: 100 }),
          y: Type.Integer({ minimum: 0, maximum: 1000 }),
          w: Type.Integer({ minimum: 1, maximum: 12 }),
          h: Type.Integer({ minimum: 1, maximum: 50 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: MAX_WIDGETS },
    ),
  },
  { additionalProperties: false },
);
export type DashboardDefinition = Static<typeof DashboardDefinition>;

export type ItemKind = 'dashboard' | 'saved_report';
const MAX_DEFINITION_BYTES = 64 * 1024;

/** Checks a definition of either kind; returns it normalised, or throws invalid_input naming the problem. */
export function validateDefinition(kind: ItemKind, definition: unknown): SavedReportDefinition | DashboardDefinition {
  const text = JSON.stringify(definition ?? null);
  if (text.length > MAX_DEFINITION_BYTES) throw new PluraError('payload_too_large', `A ${kind} definition may hold at most ${MAX_DEFINITION_BYTES / 1024} KB.`);
  const schema = kind === 'dashboard' ? DashboardDefinition : SavedReportDefinition;
  if (!Value.Check(schema, definition)) {
    const first = Value.Errors(schema, definition).First();
    throw new PluraError('invalid_input', `The ${kind} definition is not valid${first ? ` at ${first.path || '/'}: ${first.message}` : ''}.`);
  }
  const checkReport = (report: SavedReportDefinition, where: string): void => {
    if (report.segment) {
      try {
        parseSegment(report.segment);
      } catch (error) {
        throw new PluraError('invalid_input', `${where}: the segment is not valid: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  if (kind === 'saved_report') checkReport(definition as SavedReportDefinition, 'The saved report');
  else {
    const ids = new Set<string>();
    for (const widget of (definition as DashboardDefinition).widgets) {
      if (ids.has(widget.id)) throw new PluraError('invalid_input', `Two widgets have the id "${widget.id}".`);
      ids.add(widget.id);
      if ((widget.item === undefined) === (widget.report === undefined)) throw new PluraError('invalid_input', `Widget "${widget.id}" needs exactly one of "item" (a saved report id) or "report" (an inline one).`);
      if (widget.report) checkReport(widget.report, `Widget "${widget.id}"`);
    }
  }
  return definition as SavedReportDefinition | DashboardDefinition;
}

// ---------------------------------------------------------------------------
// Where collections live, and what the actor may do with them.

export function registryStore(ctx: Pick<ActContext, 'platform'>): CollectionStore {
  return ctx.platform.registry.db as unknown as CollectionStore;
}

export function tenantStore(ctx: Pick<ActContext, 'scope'>): CollectionStore | null {
  return ctx.scope.kind === 'tenant' ? (ctx.scope.store.db as unknown as CollectionStore) : null;
}

/** The actor's groups (id → name), the special group of its kind included. */
export async function actorGroups(ctx: ActContext): Promise<Map<number, string>> {
  const actor = ctx.actor;
  if (actor.kind !== 'tenant_user' && actor.kind !== 'platform_user') return new Map();
  const kind = actor.kind === 'tenant_user' ? 'tenant' : 'internal';
  const membershipDb = actor.kind === 'tenant_user' ? identityDbFor(ctx.platform, ctx.scope) : identityDbFor(ctx.platform, { kind: 'platform' });
  const memberOf = (await membershipDb.selectFrom('group_member').select('group_id').where('user_id', '=', actor.userId).execute()).map((row) => row.group_id);
  let query = ctx.platform.registry.db.selectFrom('user_group').select(['id', 'name']).where('kind', '=', kind);
  query = query.where((eb) => eb.or([eb('special', 'is not', null), ...(memberOf.length > 0 ? [eb('id', 'in', memberOf)] : [])]));
  return new Map((await query.execute()).map((row) => [row.id, row.name]));
}

/** The most permissive grant of `groups` on a registry collection: its own rows, else its nearest ancestor's. */
async function groupGrantOn(ctx: ActContext, row: CollectionRow, groups: ReadonlyMap<number, string>): Promise<CollectionFacts['groupGrant']> {
  if (groups.size === 0) return null;
  const registry = ctx.platform.registry.db;
  let current: CollectionRow | undefined = row;
  for (let depth = 0; current && depth < 100; depth += 1) {
    const rows = await registry.selectFrom('collection_permission').select(['group_id', 'level']).where('collection_id', '=', current.id).execute();
    if (rows.length > 0) {
      let best: CollectionFacts['groupGrant'] = null;
      for (const grant of rows) {
        const name = groups.get(grant.group_id);
        if (name === undefined || (grant.level !== 'view' && grant.level !== 'curate')) continue;
        if (!best || (grant.level === 'curate' && best.level === 'view')) best = { level: grant.level, group: name };
      }
      return best;
    }
    const parentId: string | null = current.parent_id;
    current = parentId ? await registry.selectFrom('collection').selectAll().where('id', '=', parentId).executeTakeFirst() : undefined;
  }
  return null;
}

export async function accessToCollection(ctx: ActContext, row: CollectionRow, where: 'registry' | 'tenant', groups?: ReadonlyMap<number, string>): Promise<{ level: CollectionLevel; reason: string }> {
  const kind = isCollectionKind(row.kind) ? row.kind : 'internal';
  // A single-tenant platform hides shared and tenant collections (a registry fact, decided by the policy).
  const shown = collectionShownUnderStrategy(ctx.actor, kind, (await ctx.platform.registry.strategy()).strategy);
  if (!shown.allowed) return { level: 'none', reason: shown.reason };
  const tenant = where === 'tenant' && ctx.scope.kind === 'tenant' ? ctx.scope.tenant.slug : null;
  const needsGroups = kind === 'shared' || kind === 'internal';
  const groupGrant = needsGroups ? await groupGrantOn(ctx, row, groups ?? (await actorGroups(ctx))) : null;
  return collectionAccess(ctx.actor, { kind, tenant, ownerUserId: row.owner_user_id, groupGrant });
}

/**
 * Finds a collection the actor may at least see. A collection the actor may not see is
 * answered exactly like one that does not exist, so names of internal or other users'
 * collections never leak.
 */
export async function findCollection(ctx: ActContext, id: string): Promise<LocatedCollection | null> {
  const candidates: { db: CollectionStore; where: 'registry' | 'tenant' }[] = [];
  const tenantDb = tenantStore(ctx);
  if (tenantDb) candidates.push({ db: tenantDb, where: 'tenant' });
  candidates.push({ db: registryStore(ctx), where: 'registry' });
  for (const { db, where } of candidates) {
    const row = await db.selectFrom('collection').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) continue;
    // A tenant scope reads only the tenant's own kinds from its store, and only shared/internal/platform personal from the registry.
    if (where === 'tenant' && row.kind !== 'tenant' && row.kind !== 'personal') continue;
    const access = await accessToCollection(ctx, row, where);
    if (access.level === 'none') return null;
    return { row, db, where, ...access };
  }
  return null;
}

/** A collection the actor may use at `level`: 404 when it may not even see it, 403 when it may only look. */
export async function requireCollection(ctx: ActContext, id: string, level: 'view' | 'curate'): Promise<LocatedCollection> {
  const located = await findCollection(ctx, id);
  if (!located) throw new PluraError('not_found', `There is no collection "${id.slice(0, 64)}" here.`);
  if (!levelAtLeast(located.level, level)) throw new PluraError('forbidden', `You may ${located.level} the collection "${located.row.name}" but not ${level} it (${located.reason}).`);
  return located;
}

/** The personal collection of the signed-in user, created on first use. */
export async function personalCollection(ctx: ActContext): Promise<LocatedCollection> {
  const actor = ctx.actor;
  if (actor.kind !== 'tenant_user' && actor.kind !== 'platform_user') throw new PluraError('unauthenticated', 'Sign in to use a personal collection.');
  const inTenant = actor.kind === 'tenant_user';
  const db = inTenant ? tenantStore(ctx) : registryStore(ctx);
  if (!db) throw new PluraError('invalid_input', 'No tenant here.');
  const id = `personal-${actor.userId}`;
  let row = await db.selectFrom('collection').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) {
    const now = new Date().toISOString();
    row = await db
      .insertInto('collection')
      .values({ id, kind: 'personal', parent_id: null, name: `${actor.login}'s collection`, description: '', owner_user_id: actor.userId, archived_at: null, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('id').doNothing())
      .returningAll()
      .executeTakeFirst() ?? (await db.selectFrom('collection').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
  }
  return { row, db, where: inTenant ? 'tenant' : 'registry', level: 'curate', reason: 'the owner of a personal collection' };
}

export interface CollectionView {
  readonly id: string;
  readonly kind: CollectionKind;
  readonly parentId: string | null;
  readonly name: string;
  readonly description: string;
  readonly archived: boolean;
  readonly access: CollectionLevel;
}

function presentCollection(row: CollectionRow, level: CollectionLevel): CollectionView {
  return { id: row.id, kind: isCollectionKind(row.kind) ? row.kind : 'internal', parentId: row.parent_id, name: row.name, description: row.description, archived: row.archived_at !== null, access: level };
}

/** Every collection the actor may see (archived ones only when asked), roots first. */
export async function listCollections(ctx: ActContext, options: { archived?: boolean } = {}): Promise<CollectionView[]> {
  const actor = ctx.actor;
  if (actor.kind === 'tenant_user' || actor.kind === 'platform_user') await personalCollection(ctx);
  const groups = await actorGroups(ctx);
  const views: CollectionView[] = [];
  const consider = async (db: CollectionStore, where: 'registry' | 'tenant', kinds: readonly CollectionKind[]): Promise<void> => {
    let query = db.selectFrom('collection').selectAll().where('kind', 'in', [...kinds]).orderBy('name');
    if (!options.archived) query = query.where('archived_at', 'is', null);
    for (const row of await query.execute()) {
      const { level } = await accessToCollection(ctx, row, where, groups);
      if (level !== 'none') views.push(presentCollection(row, level));
    }
  };
  const tenantDb = tenantStore(ctx);
  if (tenantDb) await consider(tenantDb, 'tenant', ['tenant', 'personal']);
  const registryKinds: CollectionKind[] = actor.kind === 'platform_user' || actor.kind === 'system' ? ['shared', 'internal', 'personal'] : ['shared'];
  await consider(registryStore(ctx), 'registry', registryKinds);
  return views;
}

export async function createCollection(ctx: ActContext, input: { parentId: string; name: string; description?: string }): Promise<CollectionView> {
  const parent = await requireCollection(ctx, input.parentId, 'curate');
  const name = input.name.trim();
  if (name === '' || name.length > 200) throw new PluraError('invalid_input', 'A collection name has 1 to 200 characters.');
  const now = new Date().toISOString();
  const row = await parent.db
    .insertInto('collection')
    .values({ id: randomUUID(), kind: parent.row.kind, parent_id: parent.row.id, name, description: input.description?.trim() ?? '', owner_user_id: parent.row.owner_user_id, archived_at: null, created_at: now, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  await auditWorkspace(ctx, parent.where, 'collection.created', { after: { id: row.id, kind: row.kind, parent: parent.row.id, name } });
  return presentCollection(row, 'curate');
}

/** Collection changes are audited where the collection lives: the registry's log, or the tenant's. */
export async function auditWorkspace(ctx: ActContext, where: 'registry' | 'tenant', action: string, details: { before?: unknown; after?: unknown }): Promise<void> {
  if (where === 'tenant') return recordAudit(ctx, action, details);
  return recordPlatformAudit(ctx.platform, ctx.actor, action, ctx.scope.kind === 'tenant' ? ctx.scope.tenant.slug : null, details, ctx.ip);
}

// ---------------------------------------------------------------------------
// Items: dashboards and saved reports.

export interface ItemView {
  readonly id: string;
  readonly collectionId: string;
  readonly kind: ItemKind;
  readonly name: string;
  readonly description: string;
  readonly definition: unknown;
  readonly archived: boolean;
  readonly createdBy: string;
  readonly updatedAt: string;
}

export function presentItem(row: ItemRow): ItemView {
  return {
    id: row.id,
    collectionId: row.collection_id,
    kind: row.kind === 'dashboard' ? 'dashboard' : 'saved_report',
    name: row.name,
    description: row.description,
    definition: JSON.parse(row.definition) as unknown,
    archived: row.archived_at !== null,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
  };
}

export async function listItems(ctx: ActContext, collectionId: string, options: { archived?: boolean } = {}): Promise<ItemView[]> {
  const collection = await requireCollection(ctx, collectionId, 'view');
  let query = collection.db.selectFrom('workspace_item').selectAll().where('collection_id', '=', collection.row.id).orderBy('name');
  if (!options.archived) query = query.where('archived_at', 'is', null);
  return (await query.execute()).map(presentItem);
}

export interface LocatedItem {
  readonly row: ItemRow;
  readonly collection: LocatedCollection;
}

/** An item, through its collection's access: unknown and invisible items answer alike (404). */
export async function requireItem(ctx: ActContext, id: string, level: 'view' | 'curate'): Promise<LocatedItem> {
  const candidates: CollectionStore[] = [];
  const tenantDb = tenantStore(ctx);
  if (tenantDb) candidates.push(tenantDb);
  candidates.push(registryStore(ctx));
  for (const db of candidates) {
    const row = await db.selectFrom('workspace_item').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) continue;
    const collection = await findCollection(ctx, row.collection_id);
    if (!collection || collection.db !== db) continue;
    if (!levelAtLeast(collection.level, level)) throw new PluraError('forbidden', `You may ${collection.level} "${row.name}" but not ${level} it (${collection.reason}).`);
    return { row, collection };
  }
  throw new PluraError('not_found', `There is no dashboard or saved report "${id.slice(0, 64)}" here.`);
}

export async function createItem(ctx: ActContext, input: { collectionId: string; kind: ItemKind; name: string; description?: string; definition: unknown }): Promise<ItemView> {
  const collection = await requireCollection(ctx, input.collectionId, 'curate');
  const name = input.name.trim();
  if (name === '' || name.length > 200) throw new PluraError('invalid_input', 'A name has 1 to 200 characters.');
  const definition = validateDefinition(input.kind, input.definition);
  if (input.kind === 'dashboard') await requireWidgetItems(ctx, collection, definition as DashboardDefinition);
  const now = new Date().toISOString();
  const row = await collection.db
    .insertInto('workspace_item')
    .values({ id: randomUUID(), collection_id: collection.row.id, kind: input.kind, name, description: input.description?.trim() ?? '', definition: JSON.stringify(definition), archived_at: null, created_by: actorLabel(ctx.actor), created_at: now, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  await auditWorkspace(ctx, collection.where, `${input.kind}.created`, { after: { id: row.id, collection: collection.row.id, name } });
  return presentItem(row);
}

export async function updateItem(ctx: ActContext, id: string, patch: { name?: string; description?: string; definition?: unknown }): Promise<ItemView> {
  const { row, collection } = await requireItem(ctx, id, 'curate');
  const kind: ItemKind = row.kind === 'dashboard' ? 'dashboard' : 'saved_report';
  const name = patch.name?.trim();
  if (name !== undefined && (name === '' || name.length > 200)) throw new PluraError('invalid_input', 'A name has 1 to 200 characters.');
  let definition: string | undefined;
  if (patch.definition !== undefined) {
    const checked = validateDefinition(kind, patch.definition);
    if (kind === 'dashboard') await requireWidgetItems(ctx, collection, checked as DashboardDefinition);
    definition = JSON.stringify(checked);
  }
  const updated = await collection.db
    .updateTable('workspace_item')
    .set({ ...(name !== undefined ? { name } : {}), ...(patch.description !== undefined ? { description: patch.description.trim() } : {}), ...(definition !== undefined ? { definition } : {}), updated_at: new Date().toISOString() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await auditWorkspace(ctx, collection.where, `${kind}.updated`, { before: { name: row.name }, after: { id, name: updated.name } });
  return presentItem(updated);
}

/** Widgets naming saved reports must name ones the curator can see, stored beside the dashboard (no cross-store references). */
async function requireWidgetItems(ctx: ActContext, collection: LocatedCollection, definition: DashboardDefinition): Promise<void> {
  for (const widget of definition.widgets) {
    if (widget.item === undefined) continue;
    const item = await requireItem(ctx, widget.item, 'view').catch(() => null);
    if (!item || item.row.kind !== 'saved_report' || item.collection.where !== collection.where) {
      throw new PluraError('invalid_input', `Widget "${widget.id}" names "${widget.item}", which is not a saved report available beside this dashboard.`);
    }
  }
}

export { INTERNAL_ROOT, SHARED_ROOT, TENANT_ROOT };

// ---------------------------------------------------------------------------
// Permissions of groups on shared and internal collections (platform admins only).

export interface PermissionView {
  readonly groupId: number;
  readonly group: string;
  readonly kind: string;
  readonly level: 'view' | 'curate';
}

function requirePlatformAdmin(ctx: ActContext, what: string): void {
  const actor = ctx.actor;
  if (actor.kind === 'system' || (actor.kind === 'platform_user' && actor.platformAdmin)) return;
  throw new PluraError(actor.kind === 'anonymous' ? 'unauthenticated' : 'forbidden', `Only platform admins ${what}.`);
}

export async function listPermissions(ctx: ActContext, collectionId: string): Promise<PermissionView[]> {
  requirePlatformAdmin(ctx, 'see collection permissions');
  const collection = await requireCollection(ctx, collectionId, 'view');
  if (collection.where !== 'registry') return [];
  const rows = await ctx.platform.registry.db
    .selectFrom('collection_permission')
    .innerJoin('user_group', 'user_group.id', 'collection_permission.group_id')
    .select(['collection_permission.group_id', 'user_group.name', 'user_group.kind', 'collection_permission.level'])
    .where('collection_permission.collection_id', '=', collection.row.id)
    .orderBy('user_group.name')
    .execute();
  return rows.map((row) => ({ groupId: row.group_id, group: row.name, kind: row.kind, level: row.level === 'curate' ? 'curate' : 'view' }));
}

/**
 * Sets what a group may do with a shared or internal collection (`none` removes the
 * grant). Tenant groups get at most View, and nothing on internal collections.
 */
export async function setPermission(ctx: ActContext, collectionId: string, groupId: number, level: CollectionLevel): Promise<PermissionView[]> {
  requirePlatformAdmin(ctx, 'change collection permissions');
  const collection = await requireCollection(ctx, collectionId, 'curate');
  if (collection.row.kind !== 'shared' && collection.row.kind !== 'internal') {
    throw new PluraError('invalid_input', `Group permissions apply to shared and internal collections, not to a ${collection.row.kind} collection.`);
  }
  const group = await ctx.platform.registry.db.selectFrom('user_group').selectAll().where('id', '=', groupId).executeTakeFirst();
  if (!group) throw new PluraError('not_found', `There is no group ${groupId}.`);
  if (group.kind === 'tenant' && collection.row.kind === 'internal' && level !== 'none') {
    throw new PluraError('invalid_input', `Tenant group "${group.name}" can never see internal collections.`);
  }
  if (group.kind === 'tenant' && level === 'curate') throw new PluraError('invalid_input', `Tenant group "${group.name}" may at most view shared collections.`);
  const registry = ctx.platform.registry.db;
  const before = await registry.selectFrom('collection_permission').select('level').where('collection_id', '=', collection.row.id).where('group_id', '=', groupId).executeTakeFirst();
  if (level === 'none') await registry.deleteFrom('collection_permission').where('collection_id', '=', collection.row.id).where('group_id', '=', groupId).execute();
  else {
    await registry
      .insertInto('collection_permission')
      .values({ collection_id: collection.row.id, group_id: groupId, level })
      .onConflict((oc) => oc.columns(['collection_id', 'group_id']).doUpdateSet({ level }))
      .execute();
  }
  await recordPlatformAudit(ctx.platform, ctx.actor, 'collection.permission_changed', null, {
    before: { collection: collection.row.id, group: group.name, level: before?.level ?? 'none' },
    after: { collection: collection.row.id, group: group.name, level },
  }, ctx.ip);
  return listPermissions(ctx, collection.row.id);
}
