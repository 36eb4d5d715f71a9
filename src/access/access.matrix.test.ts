/**
 * The cross-tenant matrix: several tenants with users of every role, and every
 * Matomo API method and REST route called by every actor against every tenant and
 * site. It must find no call that crosses a tenant or exceeds a role, and no 500.
 * A new method or route is not done until it is listed here.
 */
import { reportMetadata } from '../reports/reports.api.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { openHarness, TEST_PASSWORD, type Harness } from '../http/test-support/harness.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { identityDbFor } from './context.js';
import { identityStore } from './identity.store.js';
import { createToken } from './tokens.js';
import { createUser, setUserAccess } from './users.service.js';
import { createGroup } from '../workspace/groups.service.js';

type Role = 'superuser' | 'admin' | 'write' | 'view' | 'noaccess';
/** 99999 stands for a site id that exists in no tenant. */
type SiteRef = 1 | 2 | 99999;
const roleRank: Record<Role, number> = { noaccess: 0, view: 1, write: 2, admin: 3, superuser: 4 };

interface TenantSpec {
  readonly slug: string;
  readonly host: string;
  readonly prefix: string;
  /** Site ids that grant the anonymous user view access. */
  readonly anonymousView: readonly number[];
  /** globex lives on PostgreSQL (as does the registry), acme on SQLite: the rules hold on both. */
  readonly postgres: boolean;
}
const tenants: readonly TenantSpec[] = [
  { slug: 'acme', host: 'acme.test', prefix: 'ac', anonymousView: [2], postgres: false },
  { slug: 'globex', host: 'globex.test', prefix: 'gx', anonymousView: [], postgres: true },
];
const PLATFORM_HOST = 'platform.test';

/** Who calls: a user of the tenant (by role), anonymous, a platform admin, or a foreign token. */
type ActorSpec =
  | { readonly kind: 'user'; readonly role: 'superuser' | 'admin' | 'write' | 'view' | 'noaccess' }
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'platform-acting' }
  | { readonly kind: 'platform-token-at-tenant-host' }
  | { readonly kind: 'other-tenant-superuser' }
  | { readonly kind: 'other-tenant-admin' };
const actors: readonly ActorSpec[] = [
  { kind: 'user', role: 'superuser' },
  { kind: 'user', role: 'admin' },
  { kind: 'user', role: 'write' },
  { kind: 'user', role: 'view' },
  { kind: 'user', role: 'noaccess' },
  { kind: 'anonymous' },
  { kind: 'platform-acting' },
  { kind: 'platform-token-at-tenant-host' },
  { kind: 'other-tenant-superuser' },
  { kind: 'other-tenant-admin' },
];
const actorName = (a: ActorSpec): string => (a.kind === 'user' ? a.role : a.kind);

/** The role an actor holds on a site of the tenant it calls; `invalid` = its credentials mean nothing here. */
function roleOn(actor: ActorSpec, tenant: TenantSpec, site: SiteRef): Role | 'invalid' {
  switch (actor.kind) {
    case 'user':
      if (actor.role === 'superuser') return 'superuser';
      return site === 1 ? actor.role : 'noaccess';
    case 'anonymous':
      return tenant.anonymousView.includes(site) ? 'view' : 'noaccess';
    case 'platform-acting':
      return 'superuser';
    default:
      return 'invalid';
  }
}
const someRole = (actor: ActorSpec, tenant: TenantSpec): Role | 'invalid' => {
  const roles = [roleOn(actor, tenant, 1), roleOn(actor, tenant, 2)];
  if (roles.includes('invalid')) return 'invalid';
  return (roles as Role[]).reduce((best, role) => (roleRank[role] > roleRank[best] ? role : best), 'noaccess');
};

/** What a call needs: a role on the site, a role on some site, super user, anyone, or nobody (always an error). */
type Need =
  | { readonly on: 'site'; readonly role: Role; readonly anonymousGetsEmpty?: boolean; readonly signedIn?: boolean }
  | { readonly on: 'some'; readonly role: Role }
  | { readonly on: 'superuser'; readonly siteBound?: boolean }
  | { readonly on: 'signed-in' }
  | { readonly on: 'platform-admin' }
  | { readonly on: 'tenant-user' }
  | { readonly on: 'anyone' }
  | { readonly on: 'nobody' };

interface Target {
  readonly tenant: TenantSpec;
  readonly site: SiteRef;
  /** A throwaway user (view on sites 1 and 2) and site, made fresh for calls that change or delete them. */
  readonly tmpUser: string;
  readonly tmpSite: number;
  readonly actorLogin: string | null;
}

interface MatomoSpec {
  readonly method: string;
  readonly need: Need;
  params(t: Target): Record<string, string>;
  /** Methods that list sites: the ids answered must be exactly those the role rules allow. */
  readonly listsSites?: Role;
}

const matomoMethods: readonly MatomoSpec[] = [
  { method: 'API.getMatomoVersion', need: { on: 'some', role: 'view' }, params: () => ({}) },
  { method: 'API.getPiwikVersion', need: { on: 'some', role: 'view' }, params: () => ({}) },
  { method: 'API.getIpFromHeader', need: { on: 'some', role: 'view' }, params: () => ({}) },
  { method: 'API.getBulkRequest', need: { on: 'anyone' }, params: (t) => ({ 'urls[0]': `method=SitesManager.getSiteFromId&idSite=${t.site}`, 'urls[1]': 'method=UsersManager.getUsersLogin' }) },
  { method: 'UsersManager.getAvailableRoles', need: { on: 'some', role: 'admin' }, params: () => ({}) },
  { method: 'UsersManager.getAvailableCapabilities', need: { on: 'some', role: 'admin' }, params: () => ({}) },
  { method: 'UsersManager.addUser', need: { on: 'site', role: 'admin' }, params: (t) => ({ userLogin: `${t.tmpUser}-new`, password: TEST_PASSWORD, email: `${t.tmpUser}-new@${t.tenant.slug}.example`, initialIdSite: String(t.site) }) },
  { method: 'UsersManager.getUser', need: { on: 'superuser' }, params: (t) => ({ userLogin: t.tmpUser }) },
  { method: 'UsersManager.getUsers', need: { on: 'some', role: 'admin' }, params: () => ({}) },
  { method: 'UsersManager.getUsersLogin', need: { on: 'some', role: 'admin' }, params: () => ({}) },
  { method: 'UsersManager.getUsersPlusRole', need: { on: 'site', role: 'view', anonymousGetsEmpty: true }, params: (t) => ({ idSite: String(t.site) }) },
  { method: 'UsersManager.updateUser', need: { on: 'superuser' }, params: (t) => ({ userLogin: t.tmpUser, email: `${t.tmpUser}-changed@${t.tenant.slug}.example`, passwordConfirmation: TEST_PASSWORD }) },
  { method: 'UsersManager.deleteUser', need: { on: 'superuser' }, params: (t) => ({ userLogin: t.tmpUser }) },
  { method: 'UsersManager.setUserAccess', need: { on: 'site', role: 'admin' }, params: (t) => ({ userLogin: t.tmpUser, access: 'write', idSites: String(t.site) }) },
  { method: 'UsersManager.addCapabilities', need: { on: 'site', role: 'admin' }, params: (t) => ({ userLogin: t.tmpUser, 'capabilities[]': 'manage_goals', idSites: String(t.site) }) },
  { method: 'UsersManager.removeCapabilities', need: { on: 'site', role: 'admin' }, params: (t) => ({ userLogin: t.tmpUser, 'capabilities[]': 'manage_goals', idSites: String(t.site) }) },
  { method: 'UsersManager.setSuperUserAccess', need: { on: 'superuser' }, params: (t) => ({ userLogin: t.tmpUser, hasSuperUserAccess: '1', passwordConfirmation: TEST_PASSWORD }) },
  { method: 'UsersManager.hasSuperUserAccess', need: { on: 'anyone' }, params: () => ({}) },
  { method: 'UsersManager.getSitesAccessFromUser', need: { on: 'superuser' }, params: (t) => ({ userLogin: t.tmpUser }) },
  { method: 'UsersManager.getUsersAccessFromSite', need: { on: 'site', role: 'admin' }, params: (t) => ({ idSite: String(t.site) }) },
  { method: 'UsersManager.userExists', need: { on: 'some', role: 'view' }, params: (t) => ({ userLogin: t.tmpUser }) },
  { method: 'UsersManager.createAppSpecificTokenAuth', need: { on: 'tenant-user' }, params: (t) => ({ userLogin: t.actorLogin ?? 'nobody', passwordConfirmation: TEST_PASSWORD, description: 'matrix' }) },
  { method: 'UsersManager.regenerateTokenAuth', need: { on: 'superuser' }, params: (t) => ({ userLogin: t.tmpUser }) },
  { method: 'UsersManager.getTokenAuth', need: { on: 'nobody' }, params: (t) => ({ userLogin: t.tmpUser }) },
  { method: 'SitesManager.addSite', need: { on: 'superuser' }, params: (t) => ({ siteName: `${t.tenant.prefix}-added`, urls: `https://${t.tenant.prefix}-added.example` }) },
  { method: 'SitesManager.updateSite', need: { on: 'site', role: 'admin' }, params: (t) => ({ idSite: String(t.site), siteName: `${t.tenant.prefix}-site-${t.site}` }) },
  { method: 'SitesManager.deleteSite', need: { on: 'superuser' }, params: (t) => ({ idSite: String(t.tmpSite) }) },
  { method: 'SitesManager.getSiteFromId', need: { on: 'site', role: 'view' }, params: (t) => ({ idSite: String(t.site) }) },
  { method: 'SitesManager.getSiteUrlsFromId', need: { on: 'site', role: 'view' }, params: (t) => ({ idSite: String(t.site) }) },
  { method: 'SitesManager.getJavascriptTag', need: { on: 'site', role: 'view' }, params: (t) => ({ idSite: String(t.site) }) },
  { method: 'SitesManager.getAllSites', need: { on: 'superuser' }, params: () => ({}) },
  { method: 'SitesManager.getAllSitesId', need: { on: 'superuser' }, params: () => ({}) },
  { method: 'SitesManager.getSitesWithViewAccess', need: { on: 'anyone' }, params: () => ({}), listsSites: 'view' },
  { method: 'SitesManager.getSitesWithAtLeastViewAccess', need: { on: 'anyone' }, params: () => ({}), listsSites: 'view' },
  { method: 'SitesManager.getSitesWithAdminAccess', need: { on: 'anyone' }, params: () => ({}), listsSites: 'admin' },
  { method: 'SitesManager.getSitesIdWithAtLeastViewAccess', need: { on: 'anyone' }, params: () => ({}), listsSites: 'view' },
  { method: 'SitesManager.getSitesIdWithAdminAccess', need: { on: 'anyone' }, params: () => ({}), listsSites: 'admin' },
  { method: 'AuditLog.getAuditLog', need: { on: 'superuser' }, params: () => ({}) },
  { method: 'Live.getCounters', need: { on: 'site', role: 'view' }, params: (t) => ({ idSite: String(t.site), lastMinutes: '30' }) },
  { method: 'Live.getLastVisitsDetails', need: { on: 'site', role: 'view' }, params: (t) => ({ idSite: String(t.site), period: 'day', date: 'today' }) },
  { method: 'API.getReportMetadata', need: { on: 'some', role: 'view' }, params: () => ({}) },
  { method: 'SegmentEditor.add', need: { on: 'site', role: 'view', signedIn: true }, params: (t) => ({ idSite: String(t.site), name: 'matrix', definition: 'deviceType==desktop' }) },
  { method: 'SegmentEditor.getAll', need: { on: 'site', role: 'view' }, params: (t) => ({ idSite: String(t.site) }) },
  // Segments, notes and dimensions that do not exist in the tenant: nobody reaches them (never another tenant's).
  { method: 'SegmentEditor.get', need: { on: 'nobody' }, params: () => ({ idSegment: '999999' }) },
  { method: 'SegmentEditor.update', need: { on: 'nobody' }, params: (t) => ({ idSegment: '999999', idSite: String(t.site), name: 'x', definition: 'deviceType==desktop' }) },
  { method: 'SegmentEditor.delete', need: { on: 'nobody' }, params: () => ({ idSegment: '999999' }) },
  { method: 'Annotations.add', need: { on: 'site', role: 'view', signedIn: true }, params: (t) => ({ idSite: String(t.site), date: '2026-10-05', note: 'matrix' }) },
  { method: 'Annotations.getAll', need: { on: 'site', role: 'view' }, params: (t) => ({ idSite: String(t.site) }) },
  { method: 'Annotations.save', need: { on: 'nobody' }, params: (t) => ({ idSite: String(t.site), idNote: '999999', note: 'x' }) },
  { method: 'Annotations.delete', need: { on: 'nobody' }, params: (t) => ({ idSite: String(t.site), idNote: '999999' }) },
  { method: 'Goals.addGoal', need: { on: 'site', role: 'write' }, params: (t) => ({ idSite: String(t.site), name: 'matrix', matchAttribute: 'url', pattern: '/matrix', patternType: 'contains' }) },
  { method: 'Goals.getGoals', need: { on: 'site', role: 'view' }, params: (t) => ({ idSite: String(t.site) }) },
  { method: 'Goals.getGoal', need: { on: 'nobody' }, params: (t) => ({ idSite: String(t.site), idGoal: '999999' }) },
  { method: 'Goals.updateGoal', need: { on: 'nobody' }, params: (t) => ({ idSite: String(t.site), idGoal: '999999', name: 'x', matchAttribute: 'url', pattern: '/x' }) },
  { method: 'Goals.deleteGoal', need: { on: 'nobody' }, params: (t) => ({ idSite: String(t.site), idGoal: '999999' }) },
  { method: 'CustomDimensions.configureNewCustomDimension', need: { on: 'site', role: 'admin' }, params: (t) => ({ idSite: String(t.site), name: 'matrix', scope: 'visit' }) },
  { method: 'CustomDimensions.configureExistingCustomDimension', need: { on: 'nobody' }, params: (t) => ({ idSite: String(t.site), idDimension: '999999', name: 'x' }) },
  { method: 'CustomDimensions.getConfiguredCustomDimensions', need: { on: 'site', role: 'view' }, params: (t) => ({ idSite: String(t.site) }) },
  { method: 'CustomDimensions.getAvailableScopes', need: { on: 'site', role: 'view' }, params: (t) => ({ idSite: String(t.site) }) },
  // Every report of the Reporting API: view access on the site asked for.
  ...reportMethods().map((method): MatomoSpec => ({ method, need: { on: 'site', role: 'view' }, params: (t) => ({ idSite: String(t.site), period: 'day', date: 'today', idDimension: '1' }) })),
];

function reportMethods(): string[] {
  return reportMetadata().map((report) => {
    const { module, action } = report as { module: string; action: string };
    return `${module}.${action}`;
  });
}

interface RestSpec {
  readonly name: string;
  readonly need: Need;
  /** `contentType` and a Buffer payload send a raw body (an image), JSON otherwise. */
  request(t: Target): { method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; url: string; payload?: Record<string, unknown> | Buffer; contentType?: string };
  readonly listsSites?: Role;
  /** A platform-level answer for platform admins only, naming every tenant by design: not checked for leaks. */
  readonly platformWide?: boolean;
}

const WEB_PAGES = ['/', '/login', '/reports/:site/pages?period=day&date=today', '/collections', '/admin/users', '/platform/tenants', '/account'] as const;

const restRoutes: readonly RestSpec[] = [
  { name: 'GET /api/v1/tenant', need: { on: 'anyone' }, request: () => ({ method: 'GET', url: '/api/v1/tenant' }) },
  { name: 'GET /matomo.js', need: { on: 'anyone' }, request: () => ({ method: 'GET', url: '/matomo.js' }) },
  { name: 'GET /api/v1/me', need: { on: 'signed-in' }, request: () => ({ method: 'GET', url: '/api/v1/me' }) },
  { name: 'GET /api/v1/access/explain', need: { on: 'superuser', siteBound: true }, request: (t) => ({ method: 'GET', url: `/api/v1/access/explain?user=${t.tmpUser}&capability=view_reports&site=${t.site}` }) },
  { name: 'GET /api/v1/users', need: { on: 'some', role: 'admin' }, request: () => ({ method: 'GET', url: '/api/v1/users' }) },
  { name: 'POST /api/v1/users', need: { on: 'site', role: 'admin' }, request: (t) => ({ method: 'POST', url: '/api/v1/users', payload: { login: `${t.tmpUser}-rest`, email: `${t.tmpUser}-rest@${t.tenant.slug}.example`, password: TEST_PASSWORD, initialSiteId: t.site } }) },
  { name: 'GET /api/v1/users/:login', need: { on: 'superuser' }, request: (t) => ({ method: 'GET', url: `/api/v1/users/${t.tmpUser}` }) },
  { name: 'PATCH /api/v1/users/:login', need: { on: 'superuser' }, request: (t) => ({ method: 'PATCH', url: `/api/v1/users/${t.tmpUser}`, payload: { alias: 'changed' } }) },
  { name: 'DELETE /api/v1/users/:login', need: { on: 'superuser' }, request: (t) => ({ method: 'DELETE', url: `/api/v1/users/${t.tmpUser}` }) },
  { name: 'PUT /api/v1/users/:login/active', need: { on: 'superuser' }, request: (t) => ({ method: 'PUT', url: `/api/v1/users/${t.tmpUser}/active`, payload: { active: false } }) },
  // Invitations: creating with `invite` is creating; tmpUser (view on sites 1 and 2) is a super user's to invite. Unknown tokens are unknown to everyone.
  { name: 'POST /api/v1/users (invite)', need: { on: 'site', role: 'admin' }, request: (t) => ({ method: 'POST', url: '/api/v1/users', payload: { login: `${t.tmpUser}-inv`, email: `${t.tmpUser}-inv@${t.tenant.slug}.example`, invite: true, initialSiteId: t.site } }) },
  { name: 'POST /api/v1/users/:login/invitation', need: { on: 'superuser' }, request: (t) => ({ method: 'POST', url: `/api/v1/users/${t.tmpUser}/invitation` }) },
  { name: 'GET /api/v1/invitations/:token', need: { on: 'nobody' }, request: () => ({ method: 'GET', url: `/api/v1/invitations/${'x'.repeat(43)}` }) },
  { name: 'POST /auth/invitation', need: { on: 'nobody' }, request: () => ({ method: 'POST', url: '/auth/invitation', payload: { token: 'x'.repeat(43), password: TEST_PASSWORD } }) },
  { name: 'GET /auth/providers', need: { on: 'anyone' }, request: () => ({ method: 'GET', url: '/auth/providers' }) },
  // The web interface's pages: the same static shell for everyone (its data comes only through the API rows above).
  ...WEB_PAGES.map((url): RestSpec => ({ name: `GET ${url} (web page)`, need: { on: 'anyone' }, request: (t) => ({ method: 'GET', url: url.replace(':site', String(t.site)) }) })),
  // Workspace: groups (2 = All tenant users, 3 = the tenant group "Matrix"), collections, items.
  { name: 'GET /api/v1/groups', need: { on: 'signed-in' }, request: () => ({ method: 'GET', url: '/api/v1/groups' }) },
  { name: 'POST /api/v1/groups', need: { on: 'nobody' }, request: () => ({ method: 'POST', url: '/api/v1/groups', payload: { kind: 'tenant', name: 'from-a-tenant-host' } }) },
  { name: 'DELETE /api/v1/groups/:id', need: { on: 'nobody' }, request: () => ({ method: 'DELETE', url: '/api/v1/groups/3' }) },
  { name: 'GET /api/v1/groups/:id/members', need: { on: 'superuser' }, request: () => ({ method: 'GET', url: '/api/v1/groups/3/members' }) },
  { name: 'PUT /api/v1/groups/:id/members/:login', need: { on: 'superuser' }, request: (t) => ({ method: 'PUT', url: `/api/v1/groups/3/members/${t.tmpUser}` }) },
  { name: 'DELETE /api/v1/groups/:id/members/:login', need: { on: 'superuser' }, request: (t) => ({ method: 'DELETE', url: `/api/v1/groups/3/members/${t.tmpUser}` }) },
  { name: 'GET /api/v1/collections', need: { on: 'signed-in' }, request: () => ({ method: 'GET', url: '/api/v1/collections' }) },
  { name: 'POST /api/v1/collections', need: { on: 'signed-in' }, request: () => ({ method: 'POST', url: '/api/v1/collections', payload: { parentId: 'tenant', name: 'matrix' } }) },
  { name: 'GET /api/v1/collections/:id (tenant)', need: { on: 'signed-in' }, request: () => ({ method: 'GET', url: '/api/v1/collections/tenant' }) },
  { name: 'GET /api/v1/collections/:id (internal)', need: { on: 'platform-admin' }, request: () => ({ method: 'GET', url: '/api/v1/collections/internal' }) },
  { name: 'GET /api/v1/collections/:id/permissions', need: { on: 'platform-admin' }, request: () => ({ method: 'GET', url: '/api/v1/collections/shared/permissions' }) },
  { name: 'PUT /api/v1/collections/:id/permissions', need: { on: 'platform-admin' }, request: () => ({ method: 'PUT', url: '/api/v1/collections/shared/permissions', payload: { groupId: 2, level: 'view' } }) },
  { name: 'POST /api/v1/items', need: { on: 'signed-in' }, request: () => ({ method: 'POST', url: '/api/v1/items', payload: { collectionId: 'tenant', kind: 'saved_report', name: 'matrix', definition: { method: 'VisitsSummary.get', params: {}, visualization: 'number' } } }) },
  { name: 'GET /api/v1/items/:id', need: { on: 'nobody' }, request: () => ({ method: 'GET', url: '/api/v1/items/no-such-item' }) },
  { name: 'PATCH /api/v1/items/:id', need: { on: 'nobody' }, request: () => ({ method: 'PATCH', url: '/api/v1/items/no-such-item', payload: { name: 'x' } }) },
  { name: 'GET /api/v1/items/:id/data', need: { on: 'nobody' }, request: () => ({ method: 'GET', url: '/api/v1/items/no-such-item/data' }) },
  // Collection operations (roots cannot move, be copied into themselves, archived or deleted).
  { name: 'PATCH /api/v1/collections/:id', need: { on: 'signed-in' }, request: () => ({ method: 'PATCH', url: '/api/v1/collections/tenant', payload: { description: 'matrix' } }) },
  { name: 'POST /api/v1/collections/:id/move', need: { on: 'nobody' }, request: () => ({ method: 'POST', url: '/api/v1/collections/tenant/move', payload: { parentId: 'tenant' } }) },
  { name: 'POST /api/v1/collections/:id/copy', need: { on: 'nobody' }, request: () => ({ method: 'POST', url: '/api/v1/collections/tenant/copy', payload: { parentId: 'tenant' } }) },
  { name: 'POST /api/v1/collections/:id/archive', need: { on: 'nobody' }, request: () => ({ method: 'POST', url: '/api/v1/collections/tenant/archive' }) },
  { name: 'POST /api/v1/collections/:id/unarchive', need: { on: 'signed-in' }, request: () => ({ method: 'POST', url: '/api/v1/collections/tenant/unarchive' }) },
  { name: 'DELETE /api/v1/collections/:id', need: { on: 'nobody' }, request: () => ({ method: 'DELETE', url: '/api/v1/collections/tenant' }) },
  { name: 'GET /api/v1/collections/:id/items', need: { on: 'signed-in' }, request: () => ({ method: 'GET', url: '/api/v1/collections/tenant/items' }) },
  { name: 'GET /api/v1/collections/:id/items (internal)', need: { on: 'platform-admin' }, request: () => ({ method: 'GET', url: '/api/v1/collections/internal/items' }) },
  { name: 'GET /api/v1/collections/:id/explain', need: { on: 'signed-in' }, request: () => ({ method: 'GET', url: '/api/v1/collections/tenant/explain' }) },
  { name: 'GET /api/v1/collections/:id/explain?user=', need: { on: 'superuser' }, request: (t) => ({ method: 'GET', url: `/api/v1/collections/tenant/explain?user=${t.tmpUser}` }) },
  { name: 'POST /api/v1/items/:id/move', need: { on: 'nobody' }, request: () => ({ method: 'POST', url: '/api/v1/items/no-such-item/move', payload: { collectionId: 'tenant' } }) },
  { name: 'POST /api/v1/items/:id/copy', need: { on: 'nobody' }, request: () => ({ method: 'POST', url: '/api/v1/items/no-such-item/copy', payload: { collectionId: 'tenant' } }) },
  { name: 'POST /api/v1/items/:id/archive', need: { on: 'nobody' }, request: () => ({ method: 'POST', url: '/api/v1/items/no-such-item/archive' }) },
  { name: 'POST /api/v1/items/:id/unarchive', need: { on: 'nobody' }, request: () => ({ method: 'POST', url: '/api/v1/items/no-such-item/unarchive' }) },
  { name: 'DELETE /api/v1/items/:id', need: { on: 'nobody' }, request: () => ({ method: 'DELETE', url: '/api/v1/items/no-such-item' }) },
  // Subscriptions (no tenant group may subscribe by default) and their group permission.
  { name: 'GET /api/v1/subscriptions', need: { on: 'signed-in' }, request: () => ({ method: 'GET', url: '/api/v1/subscriptions' }) },
  { name: 'POST /api/v1/subscriptions', need: { on: 'nobody' }, request: () => ({ method: 'POST', url: '/api/v1/subscriptions', payload: { itemId: 'no-such-item', frequency: 'daily', hour: 7, idSite: '1', period: 'day', date: 'yesterday' } }) },
  { name: 'GET /api/v1/subscriptions/:id', need: { on: 'nobody' }, request: () => ({ method: 'GET', url: '/api/v1/subscriptions/999999' }) },
  { name: 'PATCH /api/v1/subscriptions/:id', need: { on: 'nobody' }, request: () => ({ method: 'PATCH', url: '/api/v1/subscriptions/999999', payload: { enabled: false } }) },
  { name: 'DELETE /api/v1/subscriptions/:id', need: { on: 'nobody' }, request: () => ({ method: 'DELETE', url: '/api/v1/subscriptions/999999' }) },
  { name: 'POST /api/v1/subscriptions/:id/send', need: { on: 'nobody' }, request: () => ({ method: 'POST', url: '/api/v1/subscriptions/999999/send' }) },
  { name: 'GET /api/v1/groups/:id/subscriptions', need: { on: 'nobody' }, request: () => ({ method: 'GET', url: '/api/v1/groups/3/subscriptions' }) },
  { name: 'PUT /api/v1/groups/:id/subscriptions', need: { on: 'nobody' }, request: () => ({ method: 'PUT', url: '/api/v1/groups/3/subscriptions', payload: { allowed: true } }) },
  // Attributes, data policies (set on the platform host only) and embeds (a signed token only, never a user credential).
  { name: 'GET /api/v1/groups/:id/policy', need: { on: 'nobody' }, request: () => ({ method: 'GET', url: '/api/v1/groups/3/policy' }) },
  { name: 'PUT /api/v1/groups/:id/policy', need: { on: 'nobody' }, request: () => ({ method: 'PUT', url: '/api/v1/groups/3/policy', payload: { template: 'pageUrl=^https://{{@tenant.slug}}.example' } }) },
  { name: 'DELETE /api/v1/groups/:id/policy', need: { on: 'nobody' }, request: () => ({ method: 'DELETE', url: '/api/v1/groups/3/policy' }) },
  { name: 'GET /api/v1/users/:login/attributes', need: { on: 'superuser' }, request: (t) => ({ method: 'GET', url: `/api/v1/users/${t.tmpUser}/attributes` }) },
  { name: 'PUT /api/v1/users/:login/attributes', need: { on: 'superuser' }, request: (t) => ({ method: 'PUT', url: `/api/v1/users/${t.tmpUser}/attributes`, payload: { attributes: { region: 'eu' } } }) },
  { name: 'GET /api/v1/users/:login/data-policy', need: { on: 'superuser' }, request: (t) => ({ method: 'GET', url: `/api/v1/users/${t.tmpUser}/data-policy` }) },
  { name: 'GET /embed/dashboard/:id', need: { on: 'nobody' }, request: () => ({ method: 'GET', url: '/embed/dashboard/no-such-item?token=x' }) },
  // Tenant lifecycle and the strategy: platform admins only (an unknown slug or login is refused for everyone).
  { name: 'POST /api/v1/tenants/:slug/deactivate', need: { on: 'nobody' }, request: () => ({ method: 'POST', url: '/api/v1/tenants/no-such-tenant/deactivate' }) },
  { name: 'POST /api/v1/tenants/:slug/activate', need: { on: 'platform-admin' }, request: (t) => ({ method: 'POST', url: `/api/v1/tenants/${t.tenant.slug}/activate` }) },
  { name: 'GET /api/v1/platform/strategy', platformWide: true, need: { on: 'platform-admin' }, request: () => ({ method: 'GET', url: '/api/v1/platform/strategy' }) },
  { name: 'PUT /api/v1/platform/strategy', platformWide: true, need: { on: 'platform-admin' }, request: () => ({ method: 'PUT', url: '/api/v1/platform/strategy', payload: { strategy: 'multi-tenant' } }) },
  { name: 'POST /api/v1/platform/users/:login/assign', need: { on: 'nobody' }, request: () => ({ method: 'POST', url: '/api/v1/platform/users/no-such-user/assign', payload: { tenant: null } }) },
  // Tenant administration: platform admins manage tenants (a fresh one per call is created); super users their own tenant's branding, logo and settings.
  { name: 'GET /api/v1/tenants', platformWide: true, need: { on: 'platform-admin' }, request: () => ({ method: 'GET', url: '/api/v1/tenants' }) },
  { name: 'POST /api/v1/tenants', platformWide: true, need: { on: 'platform-admin' }, request: (t) => ({ method: 'POST', url: '/api/v1/tenants', payload: { slug: `${t.tmpUser}-t`, hosts: [`${t.tmpUser}.matrix.test`] } }) },
  { name: 'GET /api/v1/tenants/:slug', need: { on: 'platform-admin' }, request: (t) => ({ method: 'GET', url: `/api/v1/tenants/${t.tenant.slug}` }) },
  { name: 'PATCH /api/v1/tenants/:slug', need: { on: 'platform-admin' }, request: (t) => ({ method: 'PATCH', url: `/api/v1/tenants/${t.tenant.slug}`, payload: { productName: 'Matrix Analytics' } }) },
  { name: 'GET /api/v1/tenant/profile', need: { on: 'superuser' }, request: () => ({ method: 'GET', url: '/api/v1/tenant/profile' }) },
  { name: 'PATCH /api/v1/tenant', need: { on: 'superuser' }, request: () => ({ method: 'PATCH', url: '/api/v1/tenant', payload: { primaryColor: '#123456' } }) },
  { name: 'PUT /api/v1/tenant/logo', need: { on: 'superuser' }, request: () => ({ method: 'PUT', url: '/api/v1/tenant/logo', contentType: 'image/png', payload: Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex') }) },
  { name: 'DELETE /api/v1/tenant/logo', need: { on: 'superuser' }, request: () => ({ method: 'DELETE', url: '/api/v1/tenant/logo' }) },
  { name: 'GET /api/v1/tenant/settings', need: { on: 'superuser' }, request: () => ({ method: 'GET', url: '/api/v1/tenant/settings' }) },
  { name: 'PUT /api/v1/tenant/settings', need: { on: 'superuser' }, request: () => ({ method: 'PUT', url: '/api/v1/tenant/settings', payload: { settings: { 'General.default_currency': 'EUR', 'Security.password_min_length': 9 } } }) },
  { name: 'GET /api/v1/scim/tokens', need: { on: 'superuser' }, request: () => ({ method: 'GET', url: '/api/v1/scim/tokens' }) },
  { name: 'POST /api/v1/scim/tokens', need: { on: 'superuser' }, request: () => ({ method: 'POST', url: '/api/v1/scim/tokens', payload: { description: 'matrix' } }) },
  { name: 'DELETE /api/v1/scim/tokens/:id', need: { on: 'nobody' }, request: () => ({ method: 'DELETE', url: '/api/v1/scim/tokens/999999' }) },
  // SCIM takes only SCIM bearer tokens: no user credential of any kind opens it.
  { name: 'GET /scim/v2/Users', need: { on: 'nobody' }, request: () => ({ method: 'GET', url: '/scim/v2/Users' }) },
  { name: 'POST /scim/v2/Users', need: { on: 'nobody' }, request: (t) => ({ method: 'POST', url: '/scim/v2/Users', payload: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `${t.tmpUser}-scim`, emails: [{ value: `${t.tmpUser}-scim@x.example`, primary: true }] } }) },
  { name: 'GET /scim/v2/Users/:id', need: { on: 'nobody' }, request: () => ({ method: 'GET', url: '/scim/v2/Users/1' }) },
  { name: 'PATCH /scim/v2/Users/:id', need: { on: 'nobody' }, request: () => ({ method: 'PATCH', url: '/scim/v2/Users/1', payload: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', value: { active: false } }] } }) },
  { name: 'DELETE /scim/v2/Users/:id', need: { on: 'nobody' }, request: () => ({ method: 'DELETE', url: '/scim/v2/Users/1' }) },
  { name: 'GET /scim/v2/Groups', need: { on: 'nobody' }, request: () => ({ method: 'GET', url: '/scim/v2/Groups' }) },
  { name: 'GET /scim/v2/ServiceProviderConfig', need: { on: 'nobody' }, request: () => ({ method: 'GET', url: '/scim/v2/ServiceProviderConfig' }) },
  { name: 'GET /api/v1/users/:login/access', need: { on: 'superuser' }, request: (t) => ({ method: 'GET', url: `/api/v1/users/${t.tmpUser}/access` }) },
  { name: 'PUT /api/v1/users/:login/access', need: { on: 'site', role: 'admin' }, request: (t) => ({ method: 'PUT', url: `/api/v1/users/${t.tmpUser}/access`, payload: { access: 'write', sites: [t.site] } }) },
  { name: 'POST /api/v1/users/:login/capabilities', need: { on: 'site', role: 'admin' }, request: (t) => ({ method: 'POST', url: `/api/v1/users/${t.tmpUser}/capabilities`, payload: { capabilities: ['manage_goals'], sites: [t.site] } }) },
  { name: 'DELETE /api/v1/users/:login/capabilities', need: { on: 'site', role: 'admin' }, request: (t) => ({ method: 'DELETE', url: `/api/v1/users/${t.tmpUser}/capabilities`, payload: { capabilities: ['manage_goals'], sites: [t.site] } }) },
  { name: 'PUT /api/v1/users/:login/superuser', need: { on: 'superuser' }, request: (t) => ({ method: 'PUT', url: `/api/v1/users/${t.tmpUser}/superuser`, payload: { superuser: true, passwordConfirmation: TEST_PASSWORD } }) },
  { name: 'GET /api/v1/users/:login/tokens', need: { on: 'superuser' }, request: (t) => ({ method: 'GET', url: `/api/v1/users/${t.tmpUser}/tokens` }) },
  { name: 'POST /api/v1/users/:login/tokens', need: { on: 'superuser' }, request: (t) => ({ method: 'POST', url: `/api/v1/users/${t.tmpUser}/tokens`, payload: { description: 'matrix' } }) },
  { name: 'DELETE /api/v1/users/:login/mfa', need: { on: 'superuser' }, request: (t) => ({ method: 'DELETE', url: `/api/v1/users/${t.tmpUser}/mfa` }) },
  { name: 'GET /api/v1/security/blocked-ips', need: { on: 'superuser' }, request: () => ({ method: 'GET', url: '/api/v1/security/blocked-ips' }) },
  { name: 'DELETE /api/v1/security/blocked-ips/:ip', need: { on: 'superuser' }, request: () => ({ method: 'DELETE', url: '/api/v1/security/blocked-ips/192.0.2.55' }) },
  { name: 'GET /api/v1/audit', need: { on: 'superuser' }, request: () => ({ method: 'GET', url: '/api/v1/audit' }) },
  { name: 'GET /api/v1/audit/verify', need: { on: 'superuser' }, request: () => ({ method: 'GET', url: '/api/v1/audit/verify' }) },
  { name: 'GET /api/v1/sites', need: { on: 'anyone' }, request: () => ({ method: 'GET', url: '/api/v1/sites' }), listsSites: 'view' },
  { name: 'POST /api/v1/sites', need: { on: 'superuser' }, request: (t) => ({ method: 'POST', url: '/api/v1/sites', payload: { name: `${t.tenant.prefix}-rest-site`, urls: [`https://${t.tenant.prefix}-rest.example`] } }) },
  { name: 'GET /api/v1/sites/:id', need: { on: 'site', role: 'view' }, request: (t) => ({ method: 'GET', url: `/api/v1/sites/${t.site}` }) },
  { name: 'PATCH /api/v1/sites/:id', need: { on: 'site', role: 'admin' }, request: (t) => ({ method: 'PATCH', url: `/api/v1/sites/${t.site}`, payload: { name: `${t.tenant.prefix}-site-${t.site}` } }) },
  { name: 'DELETE /api/v1/sites/:id', need: { on: 'superuser' }, request: (t) => ({ method: 'DELETE', url: `/api/v1/sites/${t.tmpSite}` }) },
  { name: 'GET /api/v1/sites/:id/tracking-code', need: { on: 'site', role: 'view' }, request: (t) => ({ method: 'GET', url: `/api/v1/sites/${t.site}/tracking-code` }) },
];

/** Should the call succeed? The oracle is written from the table and Matomo's rules, not from the policy code. */
function expectedSuccess(need: Need, actor: ActorSpec, tenant: TenantSpec, site: SiteRef): boolean {
  const role = roleOn(actor, tenant, site);
  if (role === 'invalid') return false;
  switch (need.on) {
    case 'anyone':
      return true;
    case 'nobody':
      return false;
    case 'tenant-user':
      return actor.kind === 'user';
    case 'signed-in':
      return actor.kind === 'user' || actor.kind === 'platform-acting';
    case 'platform-admin':
      return actor.kind === 'platform-acting';
    case 'superuser':
      return role === 'superuser' && !(need.siteBound && site === 99999);
    case 'some': {
      const best = someRole(actor, tenant);
      return best !== 'invalid' && roleRank[best] >= roleRank[need.role];
    }
    case 'site':
      if (need.anonymousGetsEmpty && actor.kind === 'anonymous') return true;
      if (need.signedIn && actor.kind === 'anonymous') return false;
      return site !== 99999 && roleRank[role] >= roleRank[need.role];
  }
}

function expectedSiteIds(actor: ActorSpec, tenant: TenantSpec, atLeast: Role, allSites: readonly number[]): number[] {
  return allSites.filter((id) => {
    const role = roleOn(actor, tenant, id === 1 || id === 2 ? id : 99999);
    if (role === 'invalid') return false;
    if (role === 'superuser') return true;
    return id <= 2 && roleRank[role] >= roleRank[atLeast];
  });
}

describe('cross-tenant access matrix', () => {
  let h: Harness;
  const tokens = new Map<string, string>(); // `${tenant}:${role}` and 'platform'
  let counter = 0;
  let pgDatabase: TestPostgresDatabase | undefined;
  const stats = { calls: 0, allowed: 0, refused: 0 };

  beforeAll(async () => {
    pgDatabase = await createTestPostgresDatabase('matrix');
    h = await openHarness({
      PLURA_GENERAL_PLATFORM_HOST: PLATFORM_HOST,
      PLURA_SECURITY_API_RATE_LIMIT_PER_MINUTE: '0',
      PLURA_SECURITY_API_RATE_LIMIT_PER_HOUR: '0',
      // The matrix sends thousands of refused tokens from one address; blocking is proven in brute-force.http.test.ts.
      PLURA_SECURITY_BRUTE_FORCE_MAX_RETRIES: '1000000',
      PLURA_DATABASE_REGISTRY_URL: pgDatabase.url,
      PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pgDatabase.rolePrefix,
    });
    for (const tenant of tenants) {
      await h.addTenant(tenant.slug, [tenant.host], tenant.postgres ? pgDatabase.url : 'sqlite');
      // SCIM on, so its endpoints refuse user credentials for what they are, not because SCIM is off.
      h.platform.settings.set('SCIM.enabled', '1', { tenant: tenant.slug });
      await h.addSite(tenant.slug, `${tenant.prefix}-site-1`);
      await h.addSite(tenant.slug, `${tenant.prefix}-site-2`);
      for (const role of ['superuser', 'admin', 'write', 'view', 'noaccess'] as const) {
        const login = `${tenant.prefix}-${role}`;
        await h.addUser(tenant.slug, login, { superuser: role === 'superuser' });
        await h.asOperator(tenant.slug, async (ctx) => {
          if (role === 'admin' || role === 'write' || role === 'view') await setUserAccess(ctx, login, role, [1]);
          const db = identityDbFor(ctx.platform, ctx.scope);
          const user = await identityStore.findUserByLogin(db, login);
          if (!user) throw new Error('user missing');
          tokens.set(`${tenant.slug}:${role}`, (await createToken(db, ctx.platform.secret, user.id, { description: 'matrix' })).token);
        });
      }
      if (tenant.anonymousView.length > 0) await h.asOperator(tenant.slug, (ctx) => setUserAccess(ctx, 'anonymous', 'view', [...tenant.anonymousView]));
    }
    const platformCtx = { platform: h.platform, scope: { kind: 'platform' } as const, actor: { kind: 'system', name: 'test' } as const, ip: null };
    const matrixGroup = await createGroup(h.platform, platformCtx.actor, { kind: 'tenant', name: 'Matrix' });
    if (matrixGroup.id !== 3) throw new Error(`the matrix expects its tenant group to have id 3, not ${matrixGroup.id}`);
    await createUser(platformCtx, { login: 'ops', email: 'ops@platform.example', password: TEST_PASSWORD, superuser: true });
    const registryDb = identityDbFor(h.platform, { kind: 'platform' });
    const ops = await identityStore.findUserByLogin(registryDb, 'ops');
    if (!ops) throw new Error('platform admin missing');
    tokens.set('platform', (await createToken(registryDb, h.platform.secret, ops.id, { description: 'matrix' })).token);
  });
  afterAll(async () => {
    await h?.close();
    await pgDatabase?.drop();
  });

  /** Fresh throwaway user and site in the tenant, so changing calls never disturb the next one. */
  async function freshTarget(tenant: TenantSpec, site: SiteRef, actor: ActorSpec, needsSite: boolean): Promise<Target> {
    counter += 1;
    const tmpUser = `${tenant.prefix}-tmp-${counter}`;
    const tmpSite = await h.asOperator(tenant.slug, async (ctx) => {
      // No password: these users never sign in, and skipping argon2 keeps the matrix quick.
      await createUser(ctx, { login: tmpUser, email: `${tmpUser}@${tenant.slug}.example`, password: null });
      await setUserAccess(ctx, tmpUser, 'view', [1, 2]);
      return 0;
    });
    const siteId = needsSite ? await h.addSite(tenant.slug, `${tenant.prefix}-tmp-site-${counter}`) : 0;
    void tmpSite;
    const actorLogin = actor.kind === 'user' ? `${tenant.prefix}-${actor.role}` : actor.kind === 'platform-acting' ? 'ops' : null;
    return { tenant, site, tmpUser, tmpSite: siteId, actorLogin };
  }

  /** Host, token and extra parameters for an actor calling a tenant. */
  function credentials(actor: ActorSpec, tenant: TenantSpec): { host: string; token: string | undefined; extra: Record<string, string> } {
    const other = tenants.find((t) => t !== tenant) ?? tenant;
    switch (actor.kind) {
      case 'user':
        return { host: tenant.host, token: tokens.get(`${tenant.slug}:${actor.role}`), extra: {} };
      case 'anonymous':
        return { host: tenant.host, token: undefined, extra: {} };
      case 'platform-acting':
        return { host: PLATFORM_HOST, token: tokens.get('platform'), extra: { tenant: tenant.slug } };
      case 'platform-token-at-tenant-host':
        return { host: tenant.host, token: tokens.get('platform'), extra: {} };
      case 'other-tenant-superuser':
        return { host: tenant.host, token: tokens.get(`${other.slug}:superuser`), extra: {} };
      case 'other-tenant-admin':
        return { host: tenant.host, token: tokens.get(`${other.slug}:admin`), extra: {} };
    }
  }

  /** Nothing of another tenant may appear in an answer. */
  function assertNoLeak(response: LightMyRequestResponse, tenant: TenantSpec, label: string): void {
    for (const other of tenants) {
      if (other === tenant) continue;
      // A whole-word prefix: generated ids (uuids such as `...a1ac-...`) must not look like a leak.
      expect(new RegExp(`(?<![0-9A-Za-z])${other.prefix}-`).test(response.body), `${label} leaked ${other.prefix}- data: ${response.body.slice(0, 300)}`).toBe(false);
      expect(response.body.includes(`${other.slug}.example`), `${label} leaked ${other.slug} data`).toBe(false);
    }
  }

  async function allSiteIds(tenant: TenantSpec): Promise<number[]> {
    return h.asOperator(tenant.slug, async (ctx) => (ctx.scope.kind === 'tenant' ? (await ctx.scope.store.db.selectFrom('site').select('id').orderBy('id').execute()).map((r) => r.id) : []));
  }

  it('every Matomo API method × every actor × every tenant × every site: no crossing, no excess, no 500', async () => {
    for (const tenant of tenants) {
      for (const actor of actors) {
        for (const site of [1, 2, 99999] as const) {
          for (const spec of matomoMethods) {
            const target = await freshTarget(tenant, site, actor, spec.method === 'SitesManager.deleteSite');
            const { host, token, extra } = credentials(actor, tenant);
            const payload = new URLSearchParams({ module: 'API', method: spec.method, format: 'json', ...spec.params(target), ...extra, ...(token ? { token_auth: token } : {}) });
            const response = await h.app.inject({ method: 'POST', url: '/index.php', headers: { host, 'content-type': 'application/x-www-form-urlencoded' }, payload: payload.toString() });
            const label = `${spec.method} by ${actorName(actor)} on ${tenant.slug} site ${site}`;
            stats.calls += 1;
            expect(response.statusCode, `${label}: ${response.body.slice(0, 300)}`).toBeLessThan(500);
            assertNoLeak(response, tenant, label);
            const body = response.json<unknown>();
            const isError = typeof body === 'object' && body !== null && !Array.isArray(body) && (body as { result?: string }).result === 'error';
            const expected = expectedSuccess(spec.need, actor, tenant, site);
            if (expected) {
              stats.allowed += 1;
              expect(isError, `${label} should succeed: ${response.body.slice(0, 300)}`).toBe(false);
            } else {
              stats.refused += 1;
              expect(isError, `${label} should fail: ${response.body.slice(0, 300)}`).toBe(true);
              const role = roleOn(actor, tenant, site);
              if (role === 'invalid') expect(response.statusCode, label).toBe(401);
            }
            if (spec.listsSites && expected) {
              const answered = (body as ({ idsite: number } | number)[]).map((row) => (typeof row === 'number' ? row : row.idsite));
              expect(answered, label).toEqual(expectedSiteIds(actor, tenant, spec.listsSites, await allSiteIds(tenant)));
            }
            if (spec.method === 'API.getBulkRequest' && expected) {
              const [siteAnswer] = body as { result?: string }[];
              const mayView = site !== 99999 && roleOn(actor, tenant, site) !== 'invalid' && roleRank[roleOn(actor, tenant, site) as Role] >= roleRank.view;
              expect(siteAnswer?.result === 'error', `${label} inner getSiteFromId`).toBe(!mayView);
            }
          }
        }
      }
    }
    expect(stats.calls).toBe(tenants.length * actors.length * 3 * matomoMethods.length);
  }, 900_000);

  it('every REST route × every actor × every tenant × every site: no crossing, no excess, no 500', async () => {
    let calls = 0;
    for (const tenant of tenants) {
      for (const actor of actors) {
        for (const site of [1, 2, 99999] as const) {
          for (const spec of restRoutes) {
            const target = await freshTarget(tenant, site, actor, spec.name === 'DELETE /api/v1/sites/:id');
            const { host, token, extra } = credentials(actor, tenant);
            const request = spec.request(target);
            const url = Object.keys(extra).length > 0 ? `${request.url}${request.url.includes('?') ? '&' : '?'}${new URLSearchParams(extra).toString()}` : request.url;
            const response = await h.app.inject({
              method: request.method,
              url,
              headers: { host, ...(token ? { authorization: `Bearer ${token}` } : {}), ...(request.contentType ? { 'content-type': request.contentType } : {}) },
              ...(request.payload ? { payload: request.payload } : {}),
            });
            const label = `${spec.name} by ${actorName(actor)} on ${tenant.slug} site ${site}`;
            calls += 1;
            expect(response.statusCode, `${label}: ${response.body.slice(0, 300)}`).toBeLessThan(500);
            if (!spec.platformWide || actor.kind !== 'platform-acting') assertNoLeak(response, tenant, label);
            // Tenant-host-only public routes: on the platform host they name no tenant.
            const hostOnly = spec.name === 'GET /matomo.js';
            // Public everywhere, whatever the credentials: the sign-in methods and the face of the host asked (the platform's on the platform host).
            const publicEverywhere = spec.name === 'GET /auth/providers' || spec.name === 'GET /api/v1/tenant' || spec.name.endsWith('(web page)');
            const expected = publicEverywhere || (hostOnly ? actor.kind !== 'platform-acting' : expectedSuccess(spec.need, actor, tenant, site));
            if (expected) expect(response.statusCode, `${label} should succeed: ${response.body.slice(0, 300)}`).toBeLessThan(300);
            else expect(response.statusCode, `${label} should fail: ${response.body.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
            if (!expected && !hostOnly && roleOn(actor, tenant, site) !== 'invalid' && spec.need.on !== 'anyone' && site !== 99999) {
              // `nobody` routes name things that do not exist in the tenant: 404 is the honest answer to those allowed to ask.
              // Collections a user may not see answer exactly like missing ones (not even names leak).
              // `nobody` calls may also be refused by a rule that binds everyone (a root cannot move): 400.
              const refusals = spec.need.on === 'nobody' ? [400, 401, 403, 404, 409] : spec.need.on === 'platform-admin' ? [401, 403, 404] : [401, 403];
              expect(refusals, `${label}: ${response.body.slice(0, 300)}`).toContain(response.statusCode);
            }
            if (spec.listsSites && expected) {
              const answered = response.json<{ sites: { idsite: number }[] }>().sites.map((row) => row.idsite);
              expect(answered, label).toEqual(expectedSiteIds(actor, tenant, spec.listsSites, await allSiteIds(tenant)));
            }
          }
        }
      }
    }
    expect(calls).toBe(tenants.length * actors.length * 3 * restRoutes.length);
    console.info(`access matrix: ${stats.calls} Matomo API calls (${stats.allowed} allowed, ${stats.refused} refused) and ${calls} REST calls`);
  }, 900_000);

  it('tracking endpoint × every actor × every tenant × every site: privileged parameters need write on that site of that tenant', async () => {
    let calls = 0;
    for (const tenant of tenants) {
      for (const actor of actors) {
        for (const site of [1, 2, 99999] as const) {
          const { host, token, extra } = credentials(actor, tenant);
          const query = new URLSearchParams({ idsite: String(site), rec: '1', url: `https://${tenant.prefix}-site.example/matrix`, cip: '198.51.100.20', send_image: '0', ...extra, ...(token ? { token_auth: token } : {}) });
          const response = await h.app.inject({ method: 'GET', url: `/matomo.php?${query.toString()}`, headers: { host } });
          const label = `tracking with cip by ${actorName(actor)} on ${tenant.slug} site ${site}`;
          calls += 1;
          expect(response.statusCode, `${label}: ${response.body.slice(0, 200)}`).toBeLessThan(500);
          assertNoLeak(response, tenant, label);
          const role = roleOn(actor, tenant, site);
          // The platform host is no tracking host; elsewhere: super user, or write/admin on an existing site.
          const expected = actor.kind !== 'platform-acting' && site !== 99999 && role !== 'invalid' && roleRank[role] >= roleRank.write;
          if (expected) expect(response.statusCode, `${label} should be tracked: ${response.body.slice(0, 200)}`).toBe(204);
          else expect(response.statusCode, `${label} should be refused`).toBeGreaterThanOrEqual(400);
        }
      }
    }
    // Nothing tracked in one tenant ever appears in the other.
    for (const tenant of tenants) {
      const urls = await h.asOperator(tenant.slug, async (ctx) =>
        ctx.scope.kind === 'tenant' ? (await ctx.scope.store.db.selectFrom('action_name').select('name').where('kind', '=', 'url').execute()).map((r) => r.name) : [],
      );
      for (const url of urls) expect(url.startsWith(`https://${tenant.prefix}-`), url).toBe(true);
    }
    expect(calls).toBe(tenants.length * actors.length * 3);
  }, 120_000);
});
