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

/** What a login page may show of a tenant: nothing secret, nothing about storage. */
export interface TenantPublicFace {
  readonly slug: string;
  readonly name: string;
  readonly branding: {
    readonly productName: string;
    readonly logoUrl: string | null;
    readonly primaryColor: string | null;
  };
  readonly language: string;
}

export function presentTenantPublicFace(tenant: Tenant, defaultLanguage: string): TenantPublicFace {
  return {
    slug: tenant.slug,
    name: tenant.name,
    branding: {
      productName: tenant.branding.productName ?? 'Plura',
      logoUrl: tenant.branding.logoFile ? '/api/v1/tenant/logo' : null,
      primaryColor: tenant.branding.primaryColor,
    },
    language: tenant.language ?? defaultLanguage,
  };
}

/** Describes where a tenant's data lives, for operators (never includes a password). */
export function describeStorage(storage: TenantStorage): string {
  return storage.kind === 'sqlite' ? 'sqlite' : `${storage.url} (schema ${storage.schema})`;
}
