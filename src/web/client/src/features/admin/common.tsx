/** Shapes, queries and small pieces the administration screens share. */
import { useMemo, useState, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, getActingTenant, matomo } from '../../api/http';
import { useAbilities, type Abilities } from '../../api/session';
import type { Role, UserView } from '../../api/types';
import { Button, Dialog, ErrorNotice, TextField } from '../../ui/components';

/** A site as GET /api/v1/sites answers it (Matomo's row). */
export interface AdminSite {
  readonly idsite: number;
  readonly name: string;
  readonly main_url: string;
  readonly ts_created: string;
  readonly ecommerce: number;
  readonly sitesearch: number;
  readonly timezone: string;
  readonly currency: string;
  readonly exclude_unknown_urls: number;
  readonly excluded_ips: string;
  readonly excluded_parameters: string;
  readonly excluded_user_agents: string;
  readonly excluded_referrers: string;
  readonly keep_url_fragment: number;
  readonly sensitive_data_role: string;
  readonly creator_login?: string;
  readonly currency_name: string;
}

/** A user with its role on one site, as UsersManager.getUsersPlusRole answers it. */
export interface UserPlusRole extends UserView {
  readonly role: Role | 'superuser';
  /** Implied by the role and granted on top of it. */
  readonly capabilities: readonly string[];
}

export interface InvitationOffer {
  readonly url: string;
  readonly expiresAt: string;
  readonly emailed: boolean;
  readonly emailError?: string;
}

export type SettingValue = string | number | boolean | readonly string[];

/** One setting the tenant may override (GET /api/v1/tenant/settings). */
export interface TenantSetting {
  readonly name: string;
  readonly section: string;
  readonly value: SettingValue | null;
  readonly layer: 'default' | 'common' | 'environment' | 'tenant';
  readonly default: SettingValue | null;
  readonly type: 'int' | 'string' | 'bool' | 'list';
  readonly description: string;
  readonly secret: boolean;
  readonly set?: boolean;
}

export const roleLabels: Readonly<Record<Role, string>> = { noaccess: 'No access', view: 'View', write: 'Write', admin: 'Admin' };
export const roles: readonly Role[] = ['noaccess', 'view', 'write', 'admin'];

/** Capabilities by role, as README "Who may do what" and the policy module state them. */
export const impliedByRole: Readonly<Record<Exclude<Role, 'noaccess'>, readonly string[]>> = {
  view: ['view_reports'],
  write: ['view_reports', 'create_reports', 'manage_goals', 'export_raw_data'],
  admin: ['view_reports', 'create_reports', 'manage_goals', 'manage_custom_dimensions', 'configure_site', 'manage_site_users', 'export_raw_data'],
};
export const grantableOnRole: Readonly<Record<Exclude<Role, 'noaccess'>, readonly string[]>> = {
  view: ['create_reports', 'manage_goals'],
  write: ['manage_custom_dimensions'],
  admin: [],
};
export const capabilityLabels: Readonly<Record<string, string>> = {
  view_reports: 'View reports',
  create_reports: 'Create reports',
  manage_goals: 'Manage goals',
  manage_custom_dimensions: 'Manage custom dimensions',
  configure_site: 'Configure the site',
  manage_site_users: 'Manage site users',
  export_raw_data: 'Export raw data',
};
/** Capabilities an administrator may add one by one (on some role). */
export const grantableCapabilities: readonly string[] = ['create_reports', 'manage_goals', 'manage_custom_dimensions'];

export function isSiteAdminOnly(abilities: Abilities): boolean {
  return !abilities.superuser && abilities.adminSites !== 'all' && abilities.adminSites.length > 0;
}

/** Sites the caller administers: every site for super users, the admin ones for site admins. */
export function useAdminSites() {
  const abilities = useAbilities();
  const query = useQuery({ queryKey: ['admin', 'sites'], queryFn: () => api.get<{ sites: AdminSite[] }>('/api/v1/sites') });
  const sites = useMemo(() => {
    const all = query.data?.sites ?? [];
    const admin = abilities.adminSites;
    return admin === 'all' ? all : all.filter((site) => admin.includes(site.idsite));
  }, [query.data, abilities.adminSites]);
  return { ...query, sites };
}

/** Every user's role on each site the caller administers (one getUsersPlusRole call per site). */
export function useRolesBySite(siteIds: readonly number[]) {
  return useQuery({
    queryKey: ['admin', 'roles-by-site', siteIds],
    enabled: siteIds.length > 0,
    queryFn: async () => {
      const answers = await Promise.all(siteIds.map((id) => matomo<UserPlusRole[]>('UsersManager.getUsersPlusRole', { idSite: id })));
      const bySite = new Map<number, ReadonlyMap<string, UserPlusRole>>();
      siteIds.forEach((id, index) => bySite.set(id, new Map((answers[index] ?? []).map((row) => [row.login, row]))));
      return bySite;
    },
  });
}

/** Adds the acting tenant (platform admins) to links the browser follows itself (downloads). */
export function withActingTenant(url: string): string {
  const tenant = getActingTenant();
  if (!tenant) return url;
  return `${url}${url.includes('?') ? '&' : '?'}tenant=${encodeURIComponent(tenant)}`;
}

/** Asks before a destructive act; the button that confirms names the act. */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onClose,
  busy,
  error,
  danger = true,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onClose: () => void;
  busy?: boolean;
  error?: unknown;
  danger?: boolean;
}) {
  return (
    <Dialog open={open} title={title} onClose={onClose}>
      <div className="admin-confirm">{children}</div>
      <ErrorNotice error={error} />
      <div className="admin-dialog-actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button variant={danger ? 'danger' : 'primary'} busy={busy ?? false} onClick={onConfirm}>
          {confirmLabel}
        </Button>
      </div>
    </Dialog>
  );
}

/** A dialog asking for the caller's own password before a sensitive change. */
export function PasswordConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onClose,
  busy,
  error,
  passwordNeeded = true,
}: {
  open: boolean;
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  onConfirm: (password: string) => void;
  onClose: () => void;
  busy?: boolean;
  error?: unknown;
  /** Platform admins acting in a tenant are not asked (the server does not ask them either). */
  passwordNeeded?: boolean;
}) {
  const [password, setPassword] = useState('');
  const close = () => {
    setPassword('');
    onClose();
  };
  return (
    <Dialog open={open} title={title} onClose={close}>
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault();
          onConfirm(password);
        }}
      >
        {children}
        {passwordNeeded && (
          <TextField label="Your password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} hint="Confirm it is you before this change." />
        )}
        <ErrorNotice error={error} />
        <div className="admin-dialog-actions">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy ?? false}>
            {confirmLabel}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

/** Time zones the browser knows, UTC first. */
export function timeZones(): string[] {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return ['UTC', ...zones.filter((zone) => zone !== 'UTC')];
}

export function currencies(): string[] {
  return typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('currency') : ['USD', 'EUR', 'GBP'];
}
