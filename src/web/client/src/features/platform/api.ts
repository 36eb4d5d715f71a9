/**
 * What the platform screens read and change: tenants, the tenant strategy, groups (their
 * members, data policies and subscription permission), and moving users. Shapes follow
 * the server's schemas (src/tenancy/tenancy.schema.ts, src/workspace/*).
 */
import { useQuery, type QueryClient } from '@tanstack/react-query';
import { api, query } from '../../api/http';

export type TenantStatus = 'active' | 'deactivated';

export interface TenantAdmin {
  readonly slug: string;
  readonly name: string;
  readonly hosts: readonly string[];
  readonly status: TenantStatus;
  readonly attributes: Readonly<Record<string, string>>;
  readonly limits: { readonly maxUsers: number | null; readonly maxSites: number | null };
  readonly branding: { readonly productName: string | null; readonly primaryColor: string | null; readonly logoUrl: string | null };
  readonly language: string | null;
  readonly timezone: string | null;
  readonly storage: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface CreateTenantInput {
  readonly slug: string;
  readonly hosts: readonly string[];
  readonly name?: string;
}

/** PATCH /api/v1/tenants/:slug: absent fields stay; null restores the platform default (or: unlimited). */
export interface UpdateTenantInput {
  readonly name?: string;
  readonly addHosts?: readonly string[];
  readonly removeHosts?: readonly string[];
  readonly attributes?: Readonly<Record<string, string>>;
  readonly removeAttributes?: readonly string[];
  readonly maxUsers?: number | null;
  readonly maxSites?: number | null;
  readonly productName?: string | null;
  readonly primaryColor?: string | null;
  readonly language?: string | null;
  readonly timezone?: string | null;
}

export interface DeactivationAnswer {
  readonly slug: string;
  readonly status: TenantStatus;
  readonly changed: boolean;
  readonly usersDeactivated: readonly string[];
}

export interface ActivationAnswer {
  readonly slug: string;
  readonly status: TenantStatus;
  readonly changed: boolean;
  readonly usersReactivated: readonly string[];
  readonly stillDeactivated: readonly string[];
}

export type TenantStrategy = 'single-tenant' | 'multi-tenant';

export interface StrategyView {
  readonly strategy: TenantStrategy;
  readonly changedAt: string | null;
}

export interface StrategySwitch extends StrategyView {
  readonly previous: TenantStrategy;
  readonly tenants: readonly {
    readonly tenant: string;
    readonly deactivated?: readonly string[];
    readonly reactivated?: readonly string[];
    readonly stillDeactivated?: readonly string[];
  }[];
}

export type GroupKind = 'internal' | 'tenant';

export interface GroupView {
  readonly id: number;
  readonly kind: GroupKind;
  readonly name: string;
  readonly description: string;
  /** All internal users / All tenant users: everyone of the kind, no member list. */
  readonly special: boolean;
}

export interface GroupMember {
  readonly login: string;
  readonly source: string;
}

export interface GroupPolicyView {
  readonly groupId: number;
  readonly group: string;
  readonly kind: string;
  readonly template: string | null;
  readonly attributes: readonly string[];
  readonly warnings: readonly string[];
}

export interface GroupSubscriptionsView {
  readonly id: number;
  readonly kind: string;
  readonly name: string;
  readonly canSubscribe: boolean;
}

export interface UserAssignment {
  readonly login: string;
  readonly from: string | null;
  readonly to: string | null;
  readonly droppedGroups: readonly string[];
  readonly droppedRights: readonly string[];
  readonly endedSessions: number;
  readonly endedTokens: number;
  readonly active: boolean;
}

/** The built-in attribute every tenant has; it cannot be set or removed. */
export const TENANT_SLUG_ATTRIBUTE = '@tenant.slug';

// Everything here sits under ['platform', ...], so one invalidation refreshes it all,
// the shell's "Acting in" picker (useTenants) included.
export const keys = {
  all: ['platform'] as const,
  tenantList: ['platform', 'tenant-list'] as const,
  tenant: (slug: string) => ['platform', 'tenant', slug] as const,
  strategy: ['platform', 'strategy'] as const,
  groups: ['platform', 'groups'] as const,
  members: (id: number, tenant: string | null) => ['platform', 'group-members', id, tenant ?? ''] as const,
  policy: (id: number) => ['platform', 'group-policy', id] as const,
  subscriptions: (id: number) => ['platform', 'group-subscriptions', id] as const,
};

const tenantPath = (slug: string) => `/api/v1/tenants/${encodeURIComponent(slug)}`;
const groupPath = (id: number) => `/api/v1/groups/${id}`;

export const platformApi = {
  tenants: async () => (await api.get<{ tenants: TenantAdmin[] }>('/api/v1/tenants')).tenants,
  tenant: (slug: string) => api.get<TenantAdmin>(tenantPath(slug)),
  createTenant: (input: CreateTenantInput) => api.post<TenantAdmin>('/api/v1/tenants', input),
  updateTenant: (slug: string, input: UpdateTenantInput) => api.patch<TenantAdmin>(tenantPath(slug), input),
  deactivate: (slug: string) => api.post<DeactivationAnswer>(`${tenantPath(slug)}/deactivate`),
  activate: (slug: string) => api.post<ActivationAnswer>(`${tenantPath(slug)}/activate`),
  strategy: () => api.get<StrategyView>('/api/v1/platform/strategy'),
  switchStrategy: (strategy: TenantStrategy) => api.put<StrategySwitch>('/api/v1/platform/strategy', { strategy }),
  groups: async () => (await api.get<{ groups: GroupView[] }>('/api/v1/groups')).groups,
  createGroup: (input: { kind: GroupKind; name: string; description: string }) => api.post<GroupView>('/api/v1/groups', input),
  deleteGroup: (id: number) => api.del<null>(groupPath(id)),
  // Tenant groups hold each tenant's own users: their members are read and changed acting in that tenant (?tenant=).
  members: async (id: number, tenant: string | null) => (await api.get<{ members: GroupMember[] }>(`${groupPath(id)}/members${query({ tenant })}`)).members,
  setMember: (id: number, login: string, tenant: string | null, member: boolean) =>
    member
      ? api.put<null>(`${groupPath(id)}/members/${encodeURIComponent(login)}${query({ tenant })}`)
      : api.del<null>(`${groupPath(id)}/members/${encodeURIComponent(login)}${query({ tenant })}`),
  policy: (id: number) => api.get<GroupPolicyView>(`${groupPath(id)}/policy`),
  setPolicy: (id: number, template: string) => api.put<GroupPolicyView>(`${groupPath(id)}/policy`, { template }),
  removePolicy: (id: number) => api.del<null>(`${groupPath(id)}/policy`),
  subscriptions: (id: number) => api.get<GroupSubscriptionsView>(`${groupPath(id)}/subscriptions`),
  setSubscriptions: (id: number, allowed: boolean) => api.put<GroupSubscriptionsView>(`${groupPath(id)}/subscriptions`, { allowed }),
  assign: (login: string, body: { tenant: string } | { tenant: null; from: string }) =>
    api.post<UserAssignment>(`/api/v1/platform/users/${encodeURIComponent(login)}/assign`, body),
};

export function useTenants() {
  return useQuery({ queryKey: keys.tenantList, queryFn: platformApi.tenants });
}

export function useGroups() {
  return useQuery({ queryKey: keys.groups, queryFn: platformApi.groups });
}

/** After any change to tenants: the list, the detail pages and the shell's picker. */
export function refreshTenants(queryClient: QueryClient): Promise<void> {
  return queryClient.invalidateQueries({ queryKey: keys.all });
}
