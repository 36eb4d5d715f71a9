import { PluraError } from '../core/errors.js';
import { recordAudit } from '../audit/audit.service.js';
import { identityDbFor, type ActContext, type Scope } from '../access/context.js';
import { authorize, requireUser, scopeContext } from '../access/users.service.js';
import type { Platform } from '../platform/platform.js';
import type { TenantStore } from '../storage/tenant-stores.js';
import type { Tenant } from '../tenancy/tenant.js';

/**
 * Attributes drive row-level filters. A tenant's attributes (set by the platform,
 * `plura tenant:update --attribute k=v`) are inherited by every user of the tenant;
 * a user may carry overrides (the tenant store's `user_attributes`). `@tenant.slug`
 * is built in: always present, never set nor overridden.
 */

export const TENANT_SLUG_ATTRIBUTE = '@tenant.slug';
/** The names tenants.service accepts for tenant attributes; overrides follow the same rule. */
export const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_ATTRIBUTE_VALUE = 500;
export const MAX_USER_ATTRIBUTES = 50;

export type AttributeSource = 'builtin' | 'tenant' | 'user' | 'token';

export interface EffectiveAttribute {
  readonly value: string;
  /** Where the value comes from: built in, the tenant, the user's override, or an embed token. */
  readonly source: AttributeSource;
}

export type EffectiveAttributes = ReadonlyMap<string, EffectiveAttribute>;

/**
 * Checks attribute overrides (from REST or an embed token): names as tenant
 * attributes have them, string values, never a built-in `@` name.
 */
export function validateAttributeOverrides(input: Readonly<Record<string, unknown>>, where: string): Record<string, string> {
  const entries = Object.entries(input);
  if (entries.length > MAX_USER_ATTRIBUTES) throw new PluraError('invalid_input', `${where} may hold at most ${MAX_USER_ATTRIBUTES} attributes.`);
  const result: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (name === TENANT_SLUG_ATTRIBUTE) throw new PluraError('invalid_input', `${where}: "${TENANT_SLUG_ATTRIBUTE}" is built in (the tenant's slug); it cannot be set or overridden.`);
    if (name.startsWith('@')) throw new PluraError('invalid_input', `${where}: attribute names starting with @ are reserved ("${name.slice(0, 64)}").`);
    if (!ATTRIBUTE_NAME.test(name)) throw new PluraError('invalid_input', `${where}: attribute name "${name.slice(0, 64)}" must be 1 to 64 letters, digits, "_", "." or "-".`);
    if (typeof value !== 'string') throw new PluraError('invalid_input', `${where}: the value of attribute "${name}" must be a string.`);
    if (value.length > MAX_ATTRIBUTE_VALUE) throw new PluraError('invalid_input', `${where}: the value of attribute "${name}" is longer than ${MAX_ATTRIBUTE_VALUE} characters.`);
    result[name] = value;
  }
  return result;
}

function parseOverrides(json: string | undefined): Record<string, string> {
  if (!json) return {};
  try {
    const value: unknown = JSON.parse(json);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    return {};
  }
}

/** A user's own overrides, as stored. */
export async function userAttributeOverrides(store: TenantStore, userId: number): Promise<Record<string, string>> {
  const row = await store.db.selectFrom('user_attributes').select('attributes').where('user_id', '=', userId).executeTakeFirst();
  return parseOverrides(row?.attributes);
}

/**
 * The tenant as the registry has it now: attribute changes apply at once, not when
 * the host cache next reloads.
 */
async function currentTenant(platform: Platform, tenant: Tenant): Promise<Tenant> {
  return (await platform.registry.findTenant(tenant.slug)) ?? tenant;
}

/**
 * Effective attributes: the tenant's, then the user's overrides, then `extra` (an
 * embed token's), and `@tenant.slug` always. `userId` null: no user (an embed
 * viewer without a user, or anonymous).
 */
export async function effectiveAttributes(platform: Platform, scope: Extract<Scope, { kind: 'tenant' }>, userId: number | null, extra: Readonly<Record<string, string>> = {}): Promise<EffectiveAttributes> {
  const tenant = await currentTenant(platform, scope.tenant);
  const result = new Map<string, EffectiveAttribute>();
  for (const [name, value] of Object.entries(tenant.attributes)) if (!name.startsWith('@')) result.set(name, { value, source: 'tenant' });
  if (userId !== null) for (const [name, value] of Object.entries(await userAttributeOverrides(scope.store, userId))) if (!name.startsWith('@')) result.set(name, { value, source: 'user' });
  for (const [name, value] of Object.entries(extra)) if (!name.startsWith('@')) result.set(name, { value, source: 'token' });
  result.set(TENANT_SLUG_ATTRIBUTE, { value: tenant.slug, source: 'builtin' });
  return result;
}

/** Just the values (`/api/v1/me`). */
export async function effectiveAttributeValues(ctx: ActContext, userId: number): Promise<Record<string, string>> {
  if (ctx.scope.kind !== 'tenant') return {};
  const attributes = await effectiveAttributes(ctx.platform, ctx.scope, userId);
  return Object.fromEntries([...attributes].map(([name, attribute]) => [name, attribute.value]));
}

export interface UserAttributesView {
  readonly login: string;
  /** Effective values, each with where it comes from; `overrides` are the user's own. */
  readonly attributes: Readonly<Record<string, EffectiveAttribute>>;
  readonly overrides: Readonly<Record<string, string>>;
}

function tenantScopeOf(ctx: ActContext): Extract<Scope, { kind: 'tenant' }> {
  if (ctx.scope.kind !== 'tenant') throw new PluraError('invalid_input', 'Attributes belong to tenant users: call this on a tenant host (or act in a tenant).');
  return ctx.scope;
}

async function present(ctx: ActContext, scope: Extract<Scope, { kind: 'tenant' }>, login: string, userId: number): Promise<UserAttributesView> {
  const attributes = await effectiveAttributes(ctx.platform, scope, userId);
  return { login, attributes: Object.fromEntries(attributes), overrides: await userAttributeOverrides(scope.store, userId) };
}

/** A user's effective attributes: the user itself, or whoever manages the tenant's users. */
export async function getUserAttributes(ctx: ActContext, login: string): Promise<UserAttributesView> {
  const scope = tenantScopeOf(ctx);
  const user = await requireUser(identityDbFor(ctx.platform, scope), login);
  const actor = ctx.actor;
  const self = actor.kind === 'tenant_user' && actor.tenant === scope.tenant.slug && actor.userId === user.id;
  if (!self) authorize(ctx, 'manage_tenant', scopeContext(scope), `see the attributes of ${login}`);
  return present(ctx, scope, user.login, user.id);
}

/**
 * Replaces a user's overrides (super users of the tenant only: an attribute can
 * widen what a data policy lets its holder see, so users never set their own).
 */
export async function setUserAttributes(ctx: ActContext, login: string, input: Readonly<Record<string, unknown>>): Promise<UserAttributesView> {
  const scope = tenantScopeOf(ctx);
  authorize(ctx, 'manage_tenant', scopeContext(scope), `change the attributes of ${login}`);
  const overrides = validateAttributeOverrides(input, 'The attributes');
  const user = await requireUser(identityDbFor(ctx.platform, scope), login);
  const before = await userAttributeOverrides(scope.store, user.id);
  const db = scope.store.db;
  if (Object.keys(overrides).length === 0) await db.deleteFrom('user_attributes').where('user_id', '=', user.id).execute();
  else {
    const attributes = JSON.stringify(overrides);
    await db.insertInto('user_attributes').values({ user_id: user.id, attributes }).onConflict((oc) => oc.column('user_id').doUpdateSet({ attributes })).execute();
  }
  await recordAudit(ctx, 'user.attributes_changed', { before: { login: user.login, attributes: before }, after: { login: user.login, attributes: overrides } });
  return present(ctx, scope, user.login, user.id);
}
