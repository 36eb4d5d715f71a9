/** Shapes of the server's answers the interface reads (see README "HTTP"). */

export interface TenantFace {
  readonly slug: string;
  readonly name: string;
  readonly branding: { readonly productName: string; readonly logoUrl: string | null; readonly primaryColor: string | null };
  readonly language: string;
  /** True on the platform host. */
  readonly platform?: boolean;
}

export interface UserView {
  readonly login: string;
  readonly email: string;
  readonly alias: string | null;
  readonly superuser_access: boolean;
  readonly uses_2fa: boolean;
  readonly require_mfa: boolean;
  readonly date_registered: string;
  readonly last_seen: string | null;
  readonly password_changed_at: string | null;
  readonly active: boolean;
  readonly first_name: string | null;
  readonly last_name: string | null;
}

export type Role = 'noaccess' | 'view' | 'write' | 'admin';

export interface SiteGrant {
  readonly site: number;
  readonly role: Role;
  readonly capabilities: readonly string[];
}

export type Me =
  | {
      readonly kind: 'tenant_user';
      readonly user: UserView | null;
      readonly tenant: string;
      readonly attributes: Readonly<Record<string, string>>;
      readonly superuser: boolean;
      readonly sites: readonly SiteGrant[];
      readonly csrfToken: string | null;
    }
  | {
      readonly kind: 'platform_user';
      readonly user: UserView | null;
      /** The tenant a platform admin acts in (X-Plura-Tenant), else null. */
      readonly tenant: string | null;
      readonly platformAdmin: boolean;
      readonly csrfToken: string | null;
    };

export type SignInStatus = 'signed_in' | 'mfa_required' | 'mfa_enrollment_required';

export interface SignInAnswer {
  readonly status: SignInStatus;
  readonly login: string;
  readonly csrfToken: string;
  readonly expiresAt: string;
}

export interface Provider {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly method: 'GET' | 'POST';
}

export interface ProvidersAnswer {
  readonly password: boolean;
  readonly forceSso: boolean;
  readonly providers: readonly Provider[];
}

/** A site as SitesManager.getSitesWithAtLeastViewAccess answers it (Matomo's shape). */
export interface MatomoSite {
  readonly idsite: number | string;
  readonly name: string;
  readonly main_url: string;
  readonly timezone: string;
  readonly currency: string;
  readonly ecommerce?: number | string;
}
