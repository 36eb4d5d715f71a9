import type { Selectable } from 'kysely';
import { PluraError } from '../core/errors.js';
import { recordAudit, recordPlatformAudit } from '../audit/audit.service.js';
import { identityDbFor, type ActContext } from '../access/context.js';
import { authorize, requireUser, scopeContext } from '../access/users.service.js';
import type { Actor } from '../access/policy.js';
import type { Platform } from '../platform/platform.js';
import type { GroupKind, UserGroupTable } from './workspace.tables.js';

export type GroupRow = Selectable<UserGroupTable>;

export interface GroupView {
  readonly id: number;
  readonly kind: GroupKind;
  readonly name: string;
  readonly description: string;
  /** True for All internal users / All tenant users: everyone of the kind, no member list. */
  readonly special: boolean;
}

export const isGroupKind = (value: string): value is GroupKind => value === 'internal' || value === 'tenant';

export function presentGroup(row: GroupRow): GroupView {
  return { id: row.id, kind: isGroupKind(row.kind) ? row.kind : 'tenant', name: row.name, description: row.description, special: row.special !== null };
}

export async function listGroups(platform: Platform, kind?: GroupKind): Promise<GroupView[]> {
  let query = platform.registry.db.selectFrom('user_group').selectAll().orderBy('kind').orderBy('name');
  if (kind) query = query.where('kind', '=', kind);
  return (await query.execute()).map(presentGroup);
}

/** Ids of the named groups of one kind; names that name no group are left out. */
export async function groupIdsByName(platform: Platform, kind: GroupKind, names: readonly string[]): Promise<Map<string, number>> {
  if (names.length === 0) return new Map();
  const rows = await platform.registry.db.selectFrom('user_group').select(['id', 'name']).where('kind', '=', kind).where('name', 'in', [...names]).where('special', 'is', null).execute();
  return new Map(rows.map((row) => [row.name, row.id]));
}

export async function createGroup(platform: Platform, actor: Actor, input: { kind: GroupKind; name: string; description?: string }): Promise<GroupView> {
  const name = input.name.trim();
  if (name === '' || name.length > 100) throw new PluraError('invalid_input', 'A group name has 1 to 100 characters.');
  const existing = await platform.registry.db.selectFrom('user_group').select('id').where('kind', '=', input.kind).where('name', '=', name).executeTakeFirst();
  if (existing) throw new PluraError('invalid_input', `There is already a ${input.kind} group named "${name}".`);
  const now = new Date().toISOString();
  const row = await platform.registry.db
    .insertInto('user_group')
    .values({ kind: input.kind, name, description: input.description?.trim() ?? '', special: null, data_policy: null, can_subscribe: input.kind === 'internal' ? 1 : 0, created_at: now, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordPlatformAudit(platform, actor, 'group.created', null, { after: presentGroup(row) });
  return presentGroup(row);
}

export async function deleteGroup(platform: Platform, actor: Actor, id: number): Promise<void> {
  const row = await platform.registry.db.selectFrom('user_group').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new PluraError('not_found', `There is no group ${id}.`);
  if (row.special !== null) throw new PluraError('forbidden', `"${row.name}" always exists; it cannot be deleted.`);
  await platform.registry.db.deleteFrom('user_group').where('id', '=', id).execute();
  // Internal members live beside the group; tenant members are ignored once their group is gone.
  if (row.kind === 'internal') await platform.registry.db.deleteFrom('group_member').where('group_id', '=', id).execute();
  await recordPlatformAudit(platform, actor, 'group.deleted', null, { before: presentGroup(row) });
}

// ---------------------------------------------------------------------------
// Membership. Internal groups hold platform users (rows in the registry); tenant groups
// hold tenant users (rows in the tenant's store). Never the other way round.

export async function requireGroup(platform: Platform, id: number): Promise<GroupRow> {
  const row = await platform.registry.db.selectFrom('user_group').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new PluraError('not_found', `There is no group ${id}.`);
  return row;
}

/**
 * Adds or removes a member by hand. `scope` says where the user lives: a tenant user
 * may join only tenant groups, a platform user only internal groups; the special
 * groups have no member list.
 */
export async function setGroupMembership(ctx: ActContext, groupId: number, login: string, member: boolean): Promise<void> {
  const group = await requireGroup(ctx.platform, groupId);
  if (group.special !== null) throw new PluraError('invalid_input', `"${group.name}" holds every user of its kind; it has no member list.`);
  const wanted: GroupKind = ctx.scope.kind === 'tenant' ? 'tenant' : 'internal';
  if (group.kind !== wanted) {
    throw new PluraError(
      'forbidden',
      wanted === 'tenant' ? `A tenant user can never join the internal group "${group.name}".` : `A platform user can never join the tenant group "${group.name}".`,
    );
  }
  authorize(ctx, ctx.scope.kind === 'tenant' ? 'manage_tenant' : 'manage_platform', scopeContext(ctx.scope), `change members of group "${group.name}"`);
  const db = identityDbFor(ctx.platform, ctx.scope);
  const user = await requireUser(db, login);
  if (member) {
    await db.insertInto('group_member').values({ group_id: groupId, user_id: user.id, source: 'manual' }).onConflict((oc) => oc.columns(['group_id', 'user_id']).doUpdateSet({ source: 'manual' })).execute();
  } else {
    await db.deleteFrom('group_member').where('group_id', '=', groupId).where('user_id', '=', user.id).execute();
  }
  await recordAudit(ctx, member ? 'group.member_added' : 'group.member_removed', { after: { group: group.name, login } });
}

/** Members of a group in the context's scope (a tenant's own users, or platform users). */
export async function listGroupMembers(ctx: ActContext, groupId: number): Promise<{ login: string; source: string }[]> {
  const group = await requireGroup(ctx.platform, groupId);
  authorize(ctx, ctx.scope.kind === 'tenant' ? 'manage_tenant' : 'manage_platform', scopeContext(ctx.scope), `see members of group "${group.name}"`);
  const wanted: GroupKind = ctx.scope.kind === 'tenant' ? 'tenant' : 'internal';
  if (group.kind !== wanted) return [];
  const db = identityDbFor(ctx.platform, ctx.scope);
  if (group.special !== null) return (await db.selectFrom('user').select('login').where('login', '!=', 'anonymous').orderBy('login').execute()).map((row) => ({ login: row.login, source: 'special' }));
  return db
    .selectFrom('group_member')
    .innerJoin('user', 'user.id', 'group_member.user_id')
    .select(['user.login as login', 'group_member.source as source'])
    .where('group_member.group_id', '=', groupId)
    .orderBy('user.login')
    .execute();
}
