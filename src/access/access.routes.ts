import { requestOrigin } from '../http/origin.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { PluraError } from '../core/errors.js';
import { recordAudit } from '../audit/audit.service.js';
import { withRequestContext, type RequestAuth, type RequestContextDeps } from '../http/request-context.js';
import { actorForUser } from './actors.js';
import { effectiveAttributeValues } from '../workspace/attributes.js';
import { bruteForceRule, listBlockedIps, unblockIp } from './brute-force.js';
import { identityDbFor, settingsFor, type ActContext, type Scope } from './context.js';
import { identityStore } from './identity.store.js';
import { createAndInviteUser, inviteUser } from './invitations.service.js';
import { resetMfa } from './mfa.js';
import { capabilities, decide, effectiveRole, isCapability, type AccessContext } from './policy.js';
import { createToken, deleteToken, listTokens } from './tokens.js';
import {
  authorize,
  changeCapabilities,
  createUser,
  deleteUser,
  getSitesAccessFromUser,
  getUser,
  listUsers,
  presentUser,
  requireUser,
  scopeContext,
  setSuperUserAccess,
  setUserAccess,
  setUserActive,
  updateUser,
} from './users.service.js';

const LoginParams = Type.Object({ login: Type.String({ minLength: 1, maxLength: 200 }) });
const SiteIds = Type.Union([Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1 }), Type.Literal('all')]);

/** REST reads a Bearer token (sent securely) or token_auth in the query (not secure, as in Matomo). */
export function restToken(request: FastifyRequest): { value: string; secure: boolean } | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.toLowerCase().startsWith('bearer ')) return { value: header.slice(7).trim(), secure: true };
  const query = request.query as Record<string, unknown> | undefined;
  const token = query?.['token_auth'];
  return typeof token === 'string' && token !== '' ? { value: token, secure: false } : undefined;
}

/**
 * `scheme://host[:port]` where an invitation is redeemed: the request's own host, or the
 * tenant's first host when a platform admin invites from the platform host, since the
 * token lives only in the store of the tenant whose host is asked.
 */
export function invitationOrigin(request: FastifyRequest, scope: Scope): string {
  const tenantHost = scope.kind === 'tenant' ? scope.tenant.hosts[0] : undefined;
  return requestOrigin(request, request.tenant ? undefined : tenantHost);
}

function requireSignedIn(auth: RequestAuth): void {
  if (auth.ctx.actor.kind === 'anonymous') throw new PluraError('unauthenticated', 'Sign in first, or send a token (Authorization: Bearer <token_auth>).');
}

/** Own account, or manage_tenant / manage_platform for anyone else's. */
function authorizeSelfOrAdmin(ctx: ActContext, login: string, what: string): void {
  const actor = ctx.actor;
  const self = (actor.kind === 'tenant_user' || (actor.kind === 'platform_user' && ctx.scope.kind === 'platform')) && actor.login === login;
  if (!self) authorize(ctx, ctx.scope.kind === 'tenant' ? 'manage_tenant' : 'manage_platform', scopeContext(ctx.scope), what);
}

/** REST for the web UI and integrations: the same services as the Matomo API. */
export async function accessRoutes(root: FastifyInstance, deps: RequestContextDeps): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { platform } = deps;
  const api = <T>(request: FastifyRequest, reply: Parameters<typeof withRequestContext>[2], fn: (auth: RequestAuth) => Promise<T>): Promise<T> =>
    withRequestContext(deps, request, reply, { surface: 'api', token: restToken(request) }, fn);

  app.get('/api/v1/me', async (request, reply) =>
    api(request, reply, async (auth) => {
      requireSignedIn(auth);
      const actor = auth.ctx.actor;
      if (actor.kind === 'platform_user') {
        const user = await identityStore.findUserById(identityDbFor(platform, { kind: 'platform' }), actor.userId);
        return { kind: 'platform_user', user: user ? presentUser(user) : null, tenant: actor.actingIn, platformAdmin: actor.platformAdmin, csrfToken: auth.csrfToken };
      }
      if (actor.kind !== 'tenant_user') throw new PluraError('unauthenticated', 'Sign in first.');
      const user = await identityStore.findUserById(identityDbFor(platform, auth.ctx.scope), actor.userId);
      return {
        kind: 'tenant_user',
        user: user ? presentUser(user) : null,
        tenant: actor.tenant,
        // Effective attributes (the tenant's, then the user's overrides; `@tenant.slug` always): row-level filters use them.
        attributes: await effectiveAttributeValues(auth.ctx, actor.userId),
        superuser: actor.superuser,
        sites: [...actor.sites.entries()].map(([site, grant]) => ({ site, role: grant.role, capabilities: [...grant.capabilities] })),
        csrfToken: auth.csrfToken,
      };
    }),
  );

  app.get(
    '/api/v1/access/explain',
    {
      schema: {
        querystring: Type.Object({
          user: Type.String({ minLength: 1 }),
          capability: Type.String({ minLength: 1 }),
          site: Type.Optional(Type.Integer({ minimum: 1 })),
          token_auth: Type.Optional(Type.String()),
          tenant: Type.Optional(Type.String()),
        }),
      },
    },
    async (request, reply) =>
      api(request, reply, async (auth) => {
        requireSignedIn(auth);
        const { user: login, capability, site } = request.query;
        authorizeSelfOrAdmin(auth.ctx, login, 'explain the access of other users');
        if (!isCapability(capability)) throw new PluraError('invalid_input', `Unknown capability "${capability}"; known: ${capabilities.join(', ')}.`);
        const db = identityDbFor(platform, auth.ctx.scope);
        const target = await requireUser(db, login);
        const actor = await actorForUser(auth.ctx.scope, db, target);
        const scope = auth.ctx.scope;
        let context: AccessContext = scopeContext(scope);
        if (site !== undefined) {
          if (scope.kind !== 'tenant') throw new PluraError('invalid_input', 'Sites exist only inside a tenant.');
          const row = await scope.store.db.selectFrom('site').select(['id', 'sensitive_data_role']).where('id', '=', site).executeTakeFirst();
          if (!row) throw new PluraError('unknown_site', `The website id = ${site} was not found.`);
          context = { kind: 'site', tenant: scope.tenant.slug, siteId: site, sensitiveData: row.sensitive_data_role as 'admin' | 'write' | 'none' };
        }
        const decision = decide(actor, capability, context);
        return {
          user: login,
          capability,
          site: site ?? null,
          allowed: decision.allowed,
          reason: decision.reason,
          role: site !== undefined && scope.kind === 'tenant' ? effectiveRole(actor, scope.tenant.slug, site) : null,
        };
      }),
  );

  app.get('/api/v1/users', async (request, reply) =>
    api(request, reply, async (auth) => {
      requireSignedIn(auth);
      const rows = await listUsers(auth.ctx);
      return { users: rows.map(presentUser), total: rows.length };
    }),
  );

  app.post(
    '/api/v1/users',
    {
      schema: {
        body: Type.Object({
          login: Type.String({ minLength: 1, maxLength: 200 }),
          email: Type.String({ minLength: 3, maxLength: 200 }),
          password: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
          alias: Type.Optional(Type.String({ maxLength: 200 })),
          superuser: Type.Optional(Type.Boolean()),
          initialSiteId: Type.Optional(Type.Integer({ minimum: 1 })),
          /** Create without a password and answer a one-time invitation link (emailed when [Mail] is set up). */
          invite: Type.Optional(Type.Boolean()),
        }),
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (body.invite === true && body.password !== undefined) {
        throw new PluraError('invalid_input', 'Send either a password or "invite": true, not both: an invited user chooses its own password.');
      }
      const input = {
        login: body.login,
        email: body.email,
        alias: body.alias ?? null,
        superuser: body.superuser ?? false,
        initialSiteId: body.initialSiteId ?? null,
      };
      const user = await api(request, reply, (auth) =>
        body.invite === true ? createAndInviteUser(auth.ctx, input, invitationOrigin(request, auth.ctx.scope)) : createUser(auth.ctx, { ...input, password: body.password ?? null }),
      );
      return reply.code(201).send(user);
    },
  );

  // A one-time link for a user without a password (a new one replaces a pending one); the same right as creating the user.
  app.post('/api/v1/users/:login/invitation', { schema: { params: LoginParams } }, async (request, reply) => {
    const offer = await api(request, reply, (auth) => inviteUser(auth.ctx, request.params.login, invitationOrigin(request, auth.ctx.scope)));
    return reply.code(201).send(offer);
  });

  app.get('/api/v1/users/:login', { schema: { params: LoginParams } }, async (request, reply) =>
    api(request, reply, async (auth) => {
      requireSignedIn(auth);
      return getUser(auth.ctx, request.params.login);
    }),
  );

  app.patch(
    '/api/v1/users/:login',
    {
      schema: {
        params: LoginParams,
        body: Type.Object({
          email: Type.Optional(Type.String({ minLength: 3, maxLength: 200 })),
          password: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
          alias: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
          requireMfa: Type.Optional(Type.Boolean()),
          passwordConfirmation: Type.Optional(Type.String({ maxLength: 1000 })),
        }),
      },
    },
    async (request, reply) =>
      api(request, reply, async (auth) => {
        requireSignedIn(auth);
        const body = request.body;
        return updateUser(auth.ctx, request.params.login, {
          ...(body.email !== undefined ? { email: body.email } : {}),
          ...(body.password !== undefined ? { password: body.password } : {}),
          ...(body.alias !== undefined ? { alias: body.alias } : {}),
          ...(body.requireMfa !== undefined ? { requireMfa: body.requireMfa } : {}),
          ...(body.passwordConfirmation !== undefined ? { passwordConfirmation: body.passwordConfirmation } : {}),
          ...(auth.sessionId ? { keepSessionId: auth.sessionId } : {}),
        });
      }),
  );

  app.delete('/api/v1/users/:login', { schema: { params: LoginParams } }, async (request, reply) => {
    await api(request, reply, (auth) => deleteUser(auth.ctx, request.params.login));
    return reply.code(204).send();
  });

  // Deactivation keeps the user and its rights; it only stops sign-in, sessions and tokens.
  app.put(
    '/api/v1/users/:login/active',
    { schema: { params: LoginParams, body: Type.Object({ active: Type.Boolean() }) } },
    async (request, reply) => api(request, reply, (auth) => setUserActive(auth.ctx, request.params.login, request.body.active)),
  );

  app.get('/api/v1/users/:login/access', { schema: { params: LoginParams } }, async (request, reply) =>
    api(request, reply, async (auth) => ({ sites: await getSitesAccessFromUser(auth.ctx, request.params.login) })),
  );

  app.put(
    '/api/v1/users/:login/access',
    { schema: { params: LoginParams, body: Type.Object({ access: Type.String({ minLength: 1 }), sites: SiteIds }) } },
    async (request, reply) =>
      api(request, reply, async (auth) => {
        await setUserAccess(auth.ctx, request.params.login, request.body.access, request.body.sites);
        return { sites: await getSitesAccessFromUser(auth.ctx, request.params.login).catch(() => []) };
      }),
  );

  for (const [method, add] of [['post', true], ['delete', false]] as const) {
    app[method](
      '/api/v1/users/:login/capabilities',
      { schema: { params: LoginParams, body: Type.Object({ capabilities: Type.Array(Type.String(), { minItems: 1 }), sites: SiteIds }) } },
      async (request, reply) =>
        api(request, reply, async (auth) => {
          await changeCapabilities(auth.ctx, request.params.login, request.body.capabilities, request.body.sites, add);
          return { status: 'ok' };
        }),
    );
  }

  app.put(
    '/api/v1/users/:login/superuser',
    { schema: { params: LoginParams, body: Type.Object({ superuser: Type.Boolean(), passwordConfirmation: Type.Optional(Type.String()) }) } },
    async (request, reply) =>
      api(request, reply, async (auth) => {
        await setSuperUserAccess(auth.ctx, request.params.login, request.body.superuser, request.body.passwordConfirmation);
        return getUser(auth.ctx, request.params.login);
      }),
  );

  app.get('/api/v1/users/:login/tokens', { schema: { params: LoginParams } }, async (request, reply) =>
    api(request, reply, async (auth) => {
      requireSignedIn(auth);
      authorizeSelfOrAdmin(auth.ctx, request.params.login, 'see the tokens of other users');
      const db = identityDbFor(platform, auth.ctx.scope);
      const user = await requireUser(db, request.params.login);
      return { tokens: await listTokens(db, user.id) };
    }),
  );

  app.post(
    '/api/v1/users/:login/tokens',
    {
      schema: {
        params: LoginParams,
        body: Type.Object({
          description: Type.String({ minLength: 1, maxLength: 100 }),
          expiresAt: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
          postOnly: Type.Optional(Type.Boolean()),
        }),
      },
    },
    async (request, reply) => {
      const created = await api(request, reply, async (auth) => {
        requireSignedIn(auth);
        authorizeSelfOrAdmin(auth.ctx, request.params.login, 'create tokens for other users');
        const db = identityDbFor(platform, auth.ctx.scope);
        const user = await requireUser(db, request.params.login);
        const result = await createToken(db, platform.secret, user.id, {
          description: request.body.description,
          expiresAt: request.body.expiresAt ?? null,
          postOnly: request.body.postOnly ?? false,
        });
        await recordAudit(auth.ctx, 'token.created', { after: { login: user.login, tokenId: result.info.id, description: result.info.description } });
        return { token: result.token, ...result.info };
      });
      return reply.code(201).send(created);
    },
  );

  app.delete(
    '/api/v1/users/:login/tokens/:id',
    { schema: { params: Type.Object({ login: Type.String({ minLength: 1 }), id: Type.Integer({ minimum: 1 }) }) } },
    async (request, reply) => {
      await api(request, reply, async (auth) => {
        requireSignedIn(auth);
        authorizeSelfOrAdmin(auth.ctx, request.params.login, 'delete tokens of other users');
        const db = identityDbFor(platform, auth.ctx.scope);
        const user = await requireUser(db, request.params.login);
        if (!(await deleteToken(db, user.id, request.params.id))) throw new PluraError('not_found', `User '${user.login}' has no token ${request.params.id}.`);
        await recordAudit(auth.ctx, 'token.deleted', { after: { login: user.login, tokenId: request.params.id } });
      });
      return reply.code(204).send();
    },
  );

  app.delete('/api/v1/users/:login/mfa', { schema: { params: LoginParams } }, async (request, reply) => {
    await api(request, reply, async (auth) => {
      authorize(auth.ctx, auth.ctx.scope.kind === 'tenant' ? 'manage_tenant' : 'manage_platform', scopeContext(auth.ctx.scope), 'reset MFA');
      const db = identityDbFor(platform, auth.ctx.scope);
      const user = await requireUser(db, request.params.login);
      await resetMfa(db, user.id);
      await recordAudit(auth.ctx, 'mfa.reset', { after: { login: user.login } });
    });
    return reply.code(204).send();
  });

  app.get('/api/v1/security/blocked-ips', async (request, reply) =>
    api(request, reply, async (auth) => {
      authorize(auth.ctx, auth.ctx.scope.kind === 'tenant' ? 'manage_tenant' : 'manage_platform', scopeContext(auth.ctx.scope), 'see blocked IPs');
      return { blocked: await listBlockedIps(identityDbFor(platform, auth.ctx.scope), bruteForceRule(settingsFor(platform, auth.ctx.scope))) };
    }),
  );

  app.delete('/api/v1/security/blocked-ips/:ip', { schema: { params: Type.Object({ ip: Type.String({ minLength: 2, maxLength: 100 }) }) } }, async (request, reply) => {
    await api(request, reply, async (auth) => {
      authorize(auth.ctx, auth.ctx.scope.kind === 'tenant' ? 'manage_tenant' : 'manage_platform', scopeContext(auth.ctx.scope), 'unblock IPs');
      await unblockIp(identityDbFor(platform, auth.ctx.scope), request.params.ip);
      await recordAudit(auth.ctx, 'security.ip_unblocked', { after: { ip: request.params.ip } });
    });
    return reply.code(204).send();
  });
}
