import { PluraError } from '../core/errors.js';
import type { IdentityDb } from '../access/identity.store.js';
import { identityStore } from '../access/identity.store.js';
import { isSiteRole, roleAtLeast, type SiteRole } from '../access/policy.js';

/**
 * Role mapping: identity-provider groups to Plura rights. One entry per group,
 * `Group = right[,right...]`, where a right is `superuser`, `site:<id>:view|write|admin`
 * or `group:<group name>`. Entries come from the `[SSO] role_mapping[]` setting.
 */
export type MappedRight =
  | { readonly kind: 'superuser' }
  | { readonly kind: 'site'; readonly siteId: number; readonly role: SiteRole }
  | { readonly kind: 'group'; readonly name: string };

export type RoleMapping = ReadonlyMap<string, readonly MappedRight[]>;

/** What a user's groups grant through the mapping, merged (the most permissive wins). */
export interface MappedRights {
  readonly superuser: boolean;
  readonly sites: ReadonlyMap<number, SiteRole>;
  readonly groups: ReadonlySet<string>;
}

function parseRight(text: string, group: string): MappedRight {
  const right = text.trim();
  if (right === 'superuser') return { kind: 'superuser' };
  const site = /^site:(\d{1,9}):(\w+)$/.exec(right);
  if (site) {
    const role = site[2] ?? '';
    if (!isSiteRole(role)) throw new PluraError('config_invalid', `Role mapping of group "${group}": "${role}" is not view, write or admin.`);
    return { kind: 'site', siteId: Number(site[1]), role };
  }
  const member = /^group:(.+)$/.exec(right);
  if (member?.[1] && member[1].trim() !== '') return { kind: 'group', name: member[1].trim() };
  throw new PluraError(
    'config_invalid',
    `Role mapping of group "${group}": "${right}" is not superuser, site:<id>:view|write|admin or group:<name>.`,
  );
}

/**
 * Parses mapping entries. A setting list written on one line is split at commas,
 * so a piece without `=` continues the rights of the entry before it
 * (`A = site:1:write,site:2:write` survives either way of writing it).
 */
export function parseRoleMapping(entries: readonly string[]): RoleMapping {
  const mapping = new Map<string, MappedRight[]>();
  let current: MappedRight[] | null = null;
  let currentGroup = '';
  for (const entry of entries) {
    for (const piece of entry.split(',')) {
      if (piece.trim() === '') continue;
      const equals = piece.indexOf('=');
      if (equals >= 0) {
        currentGroup = piece.slice(0, equals).trim();
        if (currentGroup === '') throw new PluraError('config_invalid', `Role mapping entry "${entry}" names no group before "=".`);
        current = mapping.get(currentGroup) ?? [];
        mapping.set(currentGroup, current);
        const rest = piece.slice(equals + 1);
        if (rest.trim() !== '') current.push(parseRight(rest, currentGroup));
      } else {
        if (current === null) throw new PluraError('config_invalid', `Role mapping entry "${entry}" must start with "<group> =".`);
        current.push(parseRight(piece, currentGroup));
      }
    }
  }
  return mapping;
}

/** The rights a set of groups grants; groups the mapping does not name grant nothing. */
export function mappedRightsFor(mapping: RoleMapping, groups: Iterable<string>): MappedRights {
  let superuser = false;
  const sites = new Map<number, SiteRole>();
  const memberOf = new Set<string>();
  for (const group of groups) {
    for (const right of mapping.get(group) ?? []) {
      if (right.kind === 'superuser') superuser = true;
      else if (right.kind === 'group') memberOf.add(right.name);
      else {
        const held = sites.get(right.siteId);
        if (held === undefined || !roleAtLeast(held, right.role)) sites.set(right.siteId, right.role);
      }
    }
  }
  return { superuser, sites, groups: memberOf };
}

/** What a refresh changed, for the audit log. */
export interface RightsChange {
  readonly granted: readonly string[];
  readonly revoked: readonly string[];
  /** `group:` names the registry does not know (nothing granted; audited so an admin sees the typo). */
  readonly unknownGroups: readonly string[];
}

const SUPERUSER_ROW = 0;

function maxRole(a: SiteRole | null, b: SiteRole): SiteRole {
  return a !== null && roleAtLeast(a, b) ? a : b;
}

/**
 * Brings a user's mapped rights in line with `rights`, inside the caller's
 * transaction. Each right the mapping grants is recorded with the role the user held
 * before, so when a group stops granting it, exactly that earlier (hand-granted)
 * role comes back: rights given by hand are never taken by the mapping. A hand
 * change of a mapped right makes it a hand right (see users.service).
 */
export async function applyMappedRights(
  db: IdentityDb,
  userId: number,
  rights: MappedRights,
  options: {
    readonly existingSites: ((siteIds: readonly number[]) => Promise<ReadonlySet<number>>) | null;
    /** Ids of the named groups of the scope's kind (tenant groups, or internal groups for platform users). */
    readonly resolveGroups: (names: readonly string[]) => Promise<ReadonlyMap<string, number>>;
  },
): Promise<RightsChange> {
  const granted: string[] = [];
  const revoked: string[] = [];
  const unknownGroups: string[] = [];
  const user = await identityStore.findUserById(db, userId);
  if (!user) throw new PluraError('unknown_user', `User ${userId} does not exist.`);
  const provenance = new Map((await db.selectFrom('sso_mapped_grant').selectAll().where('user_id', '=', userId).execute()).map((row) => [row.site_id, row]));

  // Super user (platform admin in the registry).
  const superRow = provenance.get(SUPERUSER_ROW);
  if (rights.superuser && !superRow && user.superuser !== 1) {
    await db.updateTable('user').set({ superuser: 1 }).where('id', '=', userId).execute();
    await db.insertInto('sso_mapped_grant').values({ user_id: userId, site_id: SUPERUSER_ROW, role: 'superuser', previous_role: null }).execute();
    granted.push('superuser');
  } else if (!rights.superuser && superRow) {
    await db.updateTable('user').set({ superuser: superRow.previous_role === 'superuser' ? 1 : 0 }).where('id', '=', userId).execute();
    await db.deleteFrom('sso_mapped_grant').where('user_id', '=', userId).where('site_id', '=', SUPERUSER_ROW).execute();
    revoked.push('superuser');
  }

  // Site roles: only inside a tenant (existingSites given), and only on sites that exist.
  let desiredSites: ReadonlyMap<number, SiteRole> = new Map();
  if (options.existingSites && rights.sites.size > 0) {
    const ids = await options.existingSites([...rights.sites.keys()]);
    desiredSites = new Map([...rights.sites].filter(([siteId]) => ids.has(siteId)));
  }
  const grants = await identityStore.grantsOf(db, userId);
  for (const [siteId, role] of desiredSites) {
    const mapped = provenance.get(siteId);
    const current = grants.get(siteId)?.role ?? null;
    if (mapped) {
      const previous = mapped.previous_role !== null && isSiteRole(mapped.previous_role) ? mapped.previous_role : null;
      const target = maxRole(previous, role);
      if (current !== target) await identityStore.setRole(db, userId, [siteId], target);
      if (mapped.role !== role) {
        await db.updateTable('sso_mapped_grant').set({ role }).where('user_id', '=', userId).where('site_id', '=', siteId).execute();
        granted.push(`site:${siteId}:${role}`);
      }
    } else if (current === null || !roleAtLeast(current, role)) {
      await identityStore.setRole(db, userId, [siteId], role);
      await db.insertInto('sso_mapped_grant').values({ user_id: userId, site_id: siteId, role, previous_role: current }).execute();
      granted.push(`site:${siteId}:${role}`);
    }
  }
  for (const [siteId, mapped] of provenance) {
    if (siteId === SUPERUSER_ROW || desiredSites.has(siteId)) continue;
    const previous = mapped.previous_role !== null && isSiteRole(mapped.previous_role) ? mapped.previous_role : 'noaccess';
    await identityStore.setRole(db, userId, [siteId], previous);
    await db.deleteFrom('sso_mapped_grant').where('user_id', '=', userId).where('site_id', '=', siteId).execute();
    revoked.push(`site:${siteId}:${mapped.role}`);
  }

  // Group membership granted by the mapping (groups the registry knows); memberships given by hand stay.
  const wanted = await options.resolveGroups([...rights.groups]);
  for (const name of rights.groups) if (!wanted.has(name)) unknownGroups.push(name);
  const wantedIds = new Set(wanted.values());
  const memberships = await db.selectFrom('group_member').selectAll().where('user_id', '=', userId).execute();
  const held = new Map(memberships.map((row) => [row.group_id, row.source]));
  for (const [name, groupId] of wanted) {
    if (held.has(groupId)) continue;
    await db.insertInto('group_member').values({ group_id: groupId, user_id: userId, source: 'sso' }).execute();
    granted.push(`group:${name}`);
  }
  for (const [groupId, source] of held) {
    if (source !== 'sso' || wantedIds.has(groupId)) continue;
    await db.deleteFrom('group_member').where('user_id', '=', userId).where('group_id', '=', groupId).execute();
    revoked.push(`group:#${groupId}`);
  }
  return { granted, revoked, unknownGroups };
}

/** Called when rights are changed by hand: they are hand rights from then on. */
export async function forgetMappedGrants(db: IdentityDb, userId: number, which: readonly number[] | 'all'): Promise<void> {
  let query = db.deleteFrom('sso_mapped_grant').where('user_id', '=', userId);
  if (which !== 'all') {
    if (which.length === 0) return;
    query = query.where('site_id', 'in', [...which]);
  }
  await query.execute();
}
