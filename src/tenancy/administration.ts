/**
 * Tenant administration as the REST edge needs it: platform admins list, create and
 * change tenants; a tenant's super users change the branding and defaults of their
 * own tenant and its logo. Every decision goes through the policy module; every
 * change leaves an audit entry in the tenant's log and the platform's.
 */
import { createHash } from 'node:crypto';
import { scopeContext, authorize } from '../access/users.service.js';
import type { ActContext } from '../access/context.js';
import type { Actor } from '../access/policy.js';
import { recordAudit, recordPlatformAudit, type AuditDetails } from '../audit/audit.service.js';
import { PluraError } from '../core/errors.js';
import type { Platform } from '../platform/platform.js';
import type { TenantStore } from '../storage/tenant-stores.js';
import { describeStorage, presentTenantForAdmin, TENANT_LOGO_PATH, tenantLogoUrl, type Tenant, type TenantAdminView } from './tenant.js';
import type { LogoExtension, UpdateTenantInput } from './tenants.service.js';

/** Platform-level acts: platform admins only (manage_platform), wherever they act from. */
function requirePlatformAdmin(ctx: ActContext, what: string): void {
  authorize(ctx, 'manage_platform', { kind: 'platform' }, what);
}

/**
 * The tenant a tenant-level act applies to: its super users (manage_tenant), or a
 * platform admin acting in it. On the platform host without a named tenant there is
 * none, and the caller is told how to name one.
 */
export function requireOwnTenant(ctx: ActContext, what: string): { tenant: Tenant; store: TenantStore } {
  authorize(ctx, 'manage_tenant', scopeContext(ctx.scope), what);
  if (ctx.scope.kind !== 'tenant') {
    throw new PluraError('invalid_input', `To ${what}, call this on the tenant's host, or name the tenant with X-Plura-Tenant (or tenant=) on the platform host.`);
  }
  return ctx.scope;
}

/**
 * Writes a tenant change to the tenant's own log and to the platform's, once each
 * (recordAudit already copies a platform user's acts to the platform's log).
 */
export async function auditTenantChange(platform: Platform, tenant: Tenant, actor: Actor, ip: string | null, action: string, details: AuditDetails): Promise<void> {
  await platform.withStore(tenant, (store) => recordAudit({ platform, scope: { kind: 'tenant', tenant, store }, actor, ip }, action, details));
  if (actor.kind !== 'platform_user') await recordPlatformAudit(platform, actor, action, tenant.slug, details, ip);
}

/** What changed between two views of a tenant, field by field (storage and timestamps left out). */
function tenantDiff(before: TenantAdminView, after: TenantAdminView): { before: Record<string, unknown>; after: Record<string, unknown> } | null {
  const changed: { before: Record<string, unknown>; after: Record<string, unknown> } = { before: {}, after: {} };
  for (const key of ['name', 'hosts', 'attributes', 'limits', 'branding', 'language', 'timezone'] as const) {
    if (JSON.stringify(before[key]) === JSON.stringify(after[key])) continue;
    changed.before[key] = before[key];
    changed.after[key] = after[key];
  }
  return Object.keys(changed.after).length > 0 ? changed : null;
}

export async function listTenantsForAdmin(ctx: ActContext): Promise<TenantAdminView[]> {
  requirePlatformAdmin(ctx, 'list tenants');
  return (await ctx.platform.tenants.list()).map(presentTenantForAdmin);
}

export async function getTenantForAdmin(ctx: ActContext, slugOrHost: string): Promise<TenantAdminView> {
  requirePlatformAdmin(ctx, 'see a tenant');
  return presentTenantForAdmin(await ctx.platform.tenants.get(slugOrHost));
}

export interface CreateTenantRequest {
  readonly slug: string;
  readonly hosts: readonly string[];
  readonly name?: string | undefined;
  readonly storage?: string | undefined;
}

/** Creates a tenant (its store, folders and registry row), audited as `plura tenant:create` is. */
export async function createTenantAsAdmin(ctx: ActContext, input: CreateTenantRequest): Promise<TenantAdminView> {
  requirePlatformAdmin(ctx, 'create tenants');
  const tenant = await ctx.platform.tenants.create({
    slug: input.slug,
    hosts: input.hosts,
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.storage !== undefined ? { storage: input.storage } : {}),
  });
  await recordPlatformAudit(ctx.platform, ctx.actor, 'tenant.created', tenant.slug, { after: { hosts: tenant.hosts, name: tenant.name, storage: describeStorage(tenant.storage) } }, ctx.ip);
  return presentTenantForAdmin(tenant);
}

export type AdminTenantUpdate = Omit<UpdateTenantInput, 'logoPath' | 'logo'>;

/** Changes a tenant (hosts, name, attributes, limits, branding, defaults); audited with what changed. */
export async function updateTenantAsAdmin(ctx: ActContext, slugOrHost: string, input: AdminTenantUpdate): Promise<TenantAdminView> {
  requirePlatformAdmin(ctx, 'change tenants');
  return applyTenantUpdate(ctx.platform, ctx.actor, ctx.ip, slugOrHost, input);
}

async function applyTenantUpdate(platform: Platform, actor: Actor, ip: string | null, slugOrHost: string, input: UpdateTenantInput): Promise<TenantAdminView> {
  // Read afresh: the request's tenant may come from the host map, a poll behind the registry.
  const tenant = await platform.tenants.get(slugOrHost);
  const before = presentTenantForAdmin(tenant);
  const updated = await platform.tenants.update(tenant.slug, input);
  const after = presentTenantForAdmin(updated);
  const diff = tenantDiff(before, after);
  if (diff) await auditTenantChange(platform, updated, actor, ip, 'tenant.updated', diff);
  return after;
}

/** The own tenant as its super users edit it: raw values (null: the platform's default). */
export interface OwnTenantView {
  readonly slug: string;
  readonly name: string;
  readonly hosts: string[];
  readonly branding: { readonly productName: string | null; readonly primaryColor: string | null; readonly logoUrl: string | null };
  readonly language: string | null;
  readonly timezone: string | null;
}

function presentOwnTenant(tenant: Tenant): OwnTenantView {
  return {
    slug: tenant.slug,
    name: tenant.name,
    hosts: [...tenant.hosts],
    branding: {
      productName: tenant.branding.productName,
      primaryColor: tenant.branding.primaryColor,
      logoUrl: tenantLogoUrl(tenant),
    },
    language: tenant.language,
    timezone: tenant.timezone,
  };
}

export interface OwnTenantUpdate {
  readonly productName?: string | null | undefined;
  readonly primaryColor?: string | null | undefined;
  readonly language?: string | null | undefined;
  readonly timezone?: string | null | undefined;
}

/** The tenant's own branding and defaults as stored (unset is null), for its super users' settings screen. */
export function getOwnTenant(ctx: ActContext): OwnTenantView {
  const { tenant } = requireOwnTenant(ctx, "see the tenant's branding");
  return presentOwnTenant(tenant);
}

/** Changes branding and defaults of the caller's own tenant (super users, or a platform admin acting in it). */
export async function updateOwnTenant(ctx: ActContext, input: OwnTenantUpdate): Promise<OwnTenantView> {
  const { tenant } = requireOwnTenant(ctx, "change the tenant's branding");
  // Only these fields: a super user never reaches hosts, limits or attributes through here.
  const update: UpdateTenantInput = {
    ...(input.productName !== undefined ? { productName: input.productName } : {}),
    ...(input.primaryColor !== undefined ? { primaryColor: input.primaryColor } : {}),
    ...(input.language !== undefined ? { language: input.language } : {}),
    ...(input.timezone !== undefined ? { timezone: input.timezone } : {}),
  };
  await applyTenantUpdate(ctx.platform, ctx.actor, ctx.ip, tenant.slug, update);
  return presentOwnTenant(await ctx.platform.tenants.get(tenant.slug));
}

/** Logo types a tenant may upload, with the bytes each file format starts with. */
const logoFormats: Readonly<Record<string, { extension: LogoExtension; label: string; matches: (bytes: Uint8Array) => boolean }>> = {
  'image/png': { extension: '.png', label: 'PNG', matches: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  'image/jpeg': { extension: '.jpg', label: 'JPEG', matches: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  'image/gif': { extension: '.gif', label: 'GIF', matches: (b) => ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a' },
  'image/webp': { extension: '.webp', label: 'WebP', matches: (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP' },
};

/** The media types PUT /api/v1/tenant/logo takes. */
export const LOGO_MEDIA_TYPES: readonly string[] = Object.keys(logoFormats);
export const LOGO_MAX_BYTES = 512 * 1024;

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, index) => bytes[index] === byte);
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return bytes.length >= to ? String.fromCharCode(...bytes.subarray(from, to)) : '';
}

/** The media type of a Content-Type header, without parameters, in lower case. */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export interface StoredLogo {
  readonly logoUrl: string;
  readonly contentType: string;
  readonly bytes: number;
}

/**
 * Stores an uploaded logo for the caller's own tenant. The declared type must be one
 * of the raster types and the bytes must be that format: SVG (which can carry
 * scripts) and anything else is refused.
 */
export async function setOwnTenantLogo(ctx: ActContext, contentType: string | undefined, body: unknown): Promise<StoredLogo> {
  const { tenant: scoped } = requireOwnTenant(ctx, "change the tenant's logo");
  const mediaType = mediaTypeOf(contentType);
  if (mediaType === 'image/svg+xml') {
    throw new PluraError('unsupported_media_type', 'SVG logos are refused because an SVG image can carry scripts; upload a PNG, JPEG, GIF or WebP image.');
  }
  const format = logoFormats[mediaType];
  if (!format) {
    throw new PluraError('unsupported_media_type', `A logo is sent as the raw image with Content-Type ${LOGO_MEDIA_TYPES.join(', ')}${mediaType ? `, not ${mediaType}` : ''}.`);
  }
  if (!(body instanceof Uint8Array) || body.length === 0) throw new PluraError('invalid_input', 'The logo is empty: send the image bytes as the request body.');
  if (!format.matches(body)) throw new PluraError('invalid_input', `The body is not a ${format.label} image, as its Content-Type ${mediaType} says.`);
  const before = (await ctx.platform.tenants.get(scoped.slug)).branding.logoFile;
  const updated = await ctx.platform.tenants.update(scoped.slug, { logo: { bytes: body, extension: format.extension } });
  const sha256 = createHash('sha256').update(body).digest('hex');
  await auditTenantChange(ctx.platform, updated, ctx.actor, ctx.ip, 'tenant.logo_changed', {
    before: { logo: before },
    after: { logo: updated.branding.logoFile, contentType: mediaType, bytes: body.length, sha256 },
  });
  return { logoUrl: TENANT_LOGO_PATH, contentType: mediaType, bytes: body.length };
}

/** Removes the own tenant's logo (the default one shows again); nothing to remove is not an error. */
export async function removeOwnTenantLogo(ctx: ActContext): Promise<void> {
  const { tenant } = requireOwnTenant(ctx, "remove the tenant's logo");
  const current = await ctx.platform.tenants.get(tenant.slug);
  if (!current.branding.logoFile) return;
  const updated = await ctx.platform.tenants.update(tenant.slug, { logoPath: null });
  await auditTenantChange(ctx.platform, updated, ctx.actor, ctx.ip, 'tenant.logo_removed', { before: { logo: current.branding.logoFile }, after: { logo: null } });
}
