import { PluraError } from '../core/errors.js';
import type { MatomoModule } from '../matomo-api/method.js';
import { requireSiteId, requireSiteIds } from '../matomo-api/method.js';
import type { MatomoValue } from '../matomo-api/render.js';
import { identityDbFor } from './context.js';
import { identityStore } from './identity.store.js';
import { createAppSpecificToken } from './login.service.js';
import { capabilitiesGrantableOn, capabilitiesImpliedBy, capabilityDescriptions, capabilities, can, siteRoles } from './policy.js';
import { createToken, deleteAllTokens } from './tokens.js';
import {
  authorize,
  authorizeSomeSite,
  changeCapabilities,
  createUser,
  deleteUser,
  getSitesAccessFromUser,
  getUser,
  getUsersAccessFromSite,
  listUsers,
  presentUser,
  requireSitesExist,
  requireUser,
  roleOnSite,
  scopeContext,
  setSuperUserAccess,
  setUserAccess,
  updateUser,
} from './users.service.js';
import { recordAudit } from '../audit/audit.service.js';

const rolesList = (): MatomoValue =>
  siteRoles.map((id) => ({ id, name: id.charAt(0).toUpperCase() + id.slice(1), description: `${id} access`, helpUrl: '' }));

/** Matomo's UsersManager API, with Matomo's access rules, on the tenant's own users. */
export const usersManagerApi: MatomoModule = {
  async getAvailableRoles({ ctx }) {
    authorizeSomeSite(ctx, 'manage_site_users');
    return rolesList();
  },

  async getAvailableCapabilities({ ctx }) {
    authorizeSomeSite(ctx, 'manage_site_users');
    return capabilities
      .filter((id) => siteRoles.some((role) => capabilitiesGrantableOn(role).includes(id)))
      .map((id) => ({
        id,
        name: capabilityDescriptions[id],
        description: capabilityDescriptions[id],
        includedInRoles: siteRoles.filter((role) => capabilitiesImpliedBy(role).includes(id)),
        grantableOnRoles: siteRoles.filter((role) => capabilitiesGrantableOn(role).includes(id)),
      }));
  },

  async addUser({ ctx, params }) {
    const initialIdSite = params.get('initialIdSite');
    await createUser(ctx, {
      login: params.require('userLogin'),
      password: params.require('password'),
      email: params.require('email'),
      alias: params.get('alias') ?? null,
      initialSiteId: initialIdSite ? requireSiteId(params, 'initialIdSite') : null,
    });
    return null;
  },

  async getUser({ ctx, params }) {
    return { ...(await getUser(ctx, params.require('userLogin'))) };
  },

  async getUsers({ ctx, params }) {
    const logins = params.getList('userLogins');
    const rows = await listUsers(ctx, logins.length > 0 ? logins : undefined);
    const full = can(ctx.actor, ctx.scope.kind === 'tenant' ? 'manage_tenant' : 'manage_platform', scopeContext(ctx.scope));
    // Matomo: callers who are not super users get reduced rows.
    return rows.map((row) => (full ? { ...presentUser(row) } : { login: row.login }));
  },

  async getUsersLogin({ ctx }) {
    return (await listUsers(ctx)).map((row) => row.login);
  },

  async getUsersPlusRole({ ctx, params, reply }) {
    const siteId = requireSiteId(params);
    if (ctx.actor.kind === 'anonymous') return [];
    const db = identityDbFor(ctx.platform, ctx.scope);
    const tenant = ctx.scope.kind === 'tenant' ? ctx.scope.tenant.slug : '';
    authorize(ctx, 'view_reports', { kind: 'site', tenant, siteId }, `see site ${siteId}`);
    await requireSitesExist(ctx, [siteId]);
    const isAdmin = can(ctx.actor, 'manage_site_users', { kind: 'site', tenant, siteId });
    let rows = isAdmin ? (await identityStore.listUsers(db)).filter((row) => row.login !== 'anonymous') : [];
    if (!isAdmin && ctx.actor.kind === 'tenant_user') {
      const self = await identityStore.findUserById(db, ctx.actor.userId);
      rows = self ? [self] : [];
    }
    const grants = await identityStore.grantsOfUsers(db, rows.map((row) => row.id));
    let result = rows.map((row) => ({ ...presentUser(row), ...roleOnSite(row, grants.get(row.id), siteId) }));
    const search = params.get('filter_search')?.toLowerCase();
    if (search) result = result.filter((row) => row.login.toLowerCase().includes(search) || row.email.toLowerCase().includes(search));
    const access = params.get('filter_access');
    if (access) result = result.filter((row) => row.role === access);
    void reply.header('X-Matomo-Total-Results', String(result.length));
    const offset = params.getInt('offset') ?? 0;
    const limit = params.getInt('limit');
    return result.slice(offset, limit ? offset + limit : undefined);
  },

  async updateUser({ ctx, params, auth }) {
    const password = params.get('password');
    const email = params.get('email');
    await updateUser(ctx, params.require('userLogin'), {
      ...(password ? { password } : {}),
      ...(email ? { email } : {}),
      ...(params.has('alias') ? { alias: params.get('alias') ?? null } : {}),
      ...(params.get('passwordConfirmation') ? { passwordConfirmation: params.get('passwordConfirmation') } : {}),
      ...(auth.sessionId ? { keepSessionId: auth.sessionId } : {}),
    });
    return null;
  },

  async deleteUser({ ctx, params }) {
    await deleteUser(ctx, params.require('userLogin'));
    return null;
  },

  async setUserAccess({ ctx, params }) {
    await setUserAccess(ctx, params.require('userLogin'), params.require('access'), requireSiteIds(params));
    return null;
  },

  async addCapabilities({ ctx, params }) {
    await changeCapabilities(ctx, params.require('userLogin'), params.getList('capabilities'), requireSiteIds(params), true);
    return null;
  },

  async removeCapabilities({ ctx, params }) {
    await changeCapabilities(ctx, params.require('userLogin'), params.getList('capabilities'), requireSiteIds(params), false);
    return null;
  },

  async setSuperUserAccess({ ctx, params }) {
    await setSuperUserAccess(ctx, params.require('userLogin'), params.getBool('hasSuperUserAccess', false), params.get('passwordConfirmation'));
    return null;
  },

  async hasSuperUserAccess({ ctx }) {
    return can(ctx.actor, 'manage_tenant', scopeContext(ctx.scope));
  },

  async getSitesAccessFromUser({ ctx, params }) {
    return (await getSitesAccessFromUser(ctx, params.require('userLogin'))).map((entry) => ({ ...entry }));
  },

  async getUsersAccessFromSite({ ctx, params }) {
    return getUsersAccessFromSite(ctx, requireSiteId(params));
  },

  async userExists({ ctx, params }) {
    authorizeSomeSite(ctx, 'view_reports');
    const user = await identityStore.findUserByLogin(identityDbFor(ctx.platform, ctx.scope), params.require('userLogin'));
    return user !== undefined && user.login !== 'anonymous';
  },

  async createAppSpecificTokenAuth({ ctx, params }) {
    const expireHours = params.getInt('expireHours') ?? 0;
    const expireDate = params.get('expireDate');
    const expiresAt = expireDate ? new Date(expireDate).toISOString() : expireHours > 0 ? new Date(Date.now() + expireHours * 3_600_000).toISOString() : null;
    const token = await createAppSpecificToken(
      ctx.platform,
      ctx.scope,
      {
        login: params.require('userLogin'),
        password: params.require('passwordConfirmation'),
        totp: params.get('authCode'),
        description: params.require('description'),
        expiresAt,
        postOnly: params.getBool('secureOnly', false),
      },
      { ip: ctx.ip, userAgent: null },
    );
    return token;
  },

  /** Plura: Matomo 4+ removed this; here it issues a new token for the caller (or, for super users, a named user). */
  async regenerateTokenAuth({ ctx, params }) {
    const db = identityDbFor(ctx.platform, ctx.scope);
    const login = params.get('userLogin') ?? (ctx.actor.kind === 'tenant_user' || ctx.actor.kind === 'platform_user' ? ctx.actor.login : undefined);
    if (login === undefined) throw new PluraError('unauthenticated', "You can't access this resource as it requires a 'view' access.");
    const user = await requireUser(db, login);
    const self = (ctx.actor.kind === 'tenant_user' || ctx.actor.kind === 'platform_user') && ctx.actor.userId === user.id && !(ctx.actor.kind === 'platform_user' && ctx.scope.kind === 'tenant');
    if (!self) authorize(ctx, ctx.scope.kind === 'tenant' ? 'manage_tenant' : 'manage_platform', scopeContext(ctx.scope), 'regenerate tokens of other users');
    const deleted = await deleteAllTokens(db, user.id);
    const { token, info } = await createToken(db, ctx.platform.secret, user.id, { description: 'Regenerated token' });
    await recordAudit(ctx, 'token.rotated', { after: { login, deleted, tokenId: info.id } });
    return token;
  },

  /** Plura: tokens are stored hashed, so an existing one cannot be shown; this explains instead of failing silently. */
  async getTokenAuth() {
    throw new PluraError('invalid_input', 'Tokens are stored only as hashes and cannot be shown again; use UsersManager.createAppSpecificTokenAuth to create one.');
  },
};
