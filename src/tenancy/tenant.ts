import type { TenantStorage } from '../storage/tenant-stores.js';

export type TenantStatus = 'active' | 'deactivated';

export interface TenantLimits {
  readonly maxUsers: number | null;
  readonly maxSites: number | null;
}

export interface TenantBranding {
  readonly productName: string | null;
  /** File name inside the tenant's files/ folder. */
  readonly logoFile: string | null;
  /** `#rrggbb`. */
  readonly primaryColor: string | null;
}

/** A customer of the platform, as the registry knows it. */
export interface Tenant {
  readonly slug: string;
  readonly name: string;
  /** Normalized hostnames; the first is the primary one. */
  readonly hosts: readonly string[];
  readonly status: TenantStatus;
  readonly storage: TenantStorage;
  readonly attributes: Readonly<Record<string, string>>;
  readonly limits: TenantLimits;
  readonly branding: TenantBranding;
  readonly language: string | null;
  readonly timezone: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What a login page may show of a tenant (or of the platform): nothing secret, nothing about storage. */
export interface TenantPublicFace {
  readonly slug: string;
  readonly name: string;
  /** True on the platform host (no tenant), false on a tenant's hosts. */
  readonly platform: boolean;
  readonly branding: {
    readonly productName: string;
    readonly logoUrl: string | null;
    readonly primaryColor: string | null;
  };
  readonly language: string;
}

/** Where a tenant's logo is served: its own hosts, or the platform host for a platform admin acting in it. */
export const TENANT_LOGO_PATH = '/api/v1/tenant/logo';

/** The logo's URL on the tenant's hosts, versioned by the tenant's last change so a new logo shows at once. */
export function tenantLogoUrl(tenant: Tenant): string | null {
  return tenant.branding.logoFile ? `${TENANT_LOGO_PATH}?v=${encodeURIComponent(tenant.updatedAt)}` : null;
}

export function presentTenantPublicFace(tenant: Tenant, defaultLanguage: string): TenantPublicFace {
  return {
    slug: tenant.slug,
    name: tenant.name,
    platform: false,
    branding: {
      productName: tenant.branding.productName ?? 'Plura',
      logoUrl: tenantLogoUrl(tenant),
      primaryColor: tenant.branding.primaryColor,
    },
    language: tenant.language ?? defaultLanguage,
  };
}

/** The platform host's face: the same shape, so a login page needs no second code path. */
export function presentPlatformPublicFace(defaultLanguage: string): TenantPublicFace {
  return {
    slug: '',
    name: 'Plura platform',
    platform: true,
    branding: { productName: 'Plura', logoUrl: null, primaryColor: null },
    language: defaultLanguage,
  };
}

/** A tenant as platform admins see it: everything but secrets (the storage is described, never its password). */
export interface TenantAdminView {
  readonly slug: string;
  readonly name: string;
  readonly hosts: string[];
  readonly status: TenantStatus;
  readonly attributes: Readonly<Record<string, string>>;
  readonly limits: TenantLimits;
  readonly branding: {
    readonly productName: string | null;
    readonly primaryColor: string | null;
    /** On the platform host, for a platform admin (the tenant's hosts serve it at TENANT_LOGO_PATH). */
    readonly logoUrl: string | null;
  };
  readonly language: string | null;
  readonly timezone: string | null;
  readonly storage: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function presentTenantForAdmin(tenant: Tenant): TenantAdminView {
  return {
    slug: tenant.slug,
    name: tenant.name,
    hosts: [...tenant.hosts],
    status: tenant.status,
    attributes: { ...tenant.attributes },
    limits: { maxUsers: tenant.limits.maxUsers, maxSites: tenant.limits.maxSites },
    branding: {
      productName: tenant.branding.productName,
      primaryColor: tenant.branding.primaryColor,
      logoUrl: tenant.branding.logoFile ? `${TENANT_LOGO_PATH}?tenant=${encodeURIComponent(tenant.slug)}` : null,
    },
    language: tenant.language,
    timezone: tenant.timezone,
    storage: describeStorage(tenant.storage),
    createdAt: tenant.createdAt,
    updatedAt: tenant.updatedAt,
  };
}

/** Describes where a tenant's data lives, for operators (never includes a password). */
export function describeStorage(storage: TenantStorage): string {
  return storage.kind === 'sqlite' ? 'sqlite' : `${storage.url} (schema ${storage.schema})`;
}
