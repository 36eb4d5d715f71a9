import { requestOrigin } from '../http/origin.js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { PluraError, isPluraError } from '../core/errors.js';
import { recordAudit, recordPlatformAudit } from '../audit/audit.service.js';
import { client } from '../access/auth.routes.js';
import { identityDbFor, settingsFor, type Scope } from '../access/context.js';
import { identityStore, type IdentityDb } from '../access/identity.store.js';
import { withRequestScope, type RequestContextDeps } from '../http/request-context.js';
import type { Platform } from '../platform/platform.js';
import type { Tenant } from '../tenancy/tenant.js';
import { validateSlug } from '../tenancy/tenants.service.js';
import { verifySignInToken, type JwtClaims } from './jwt.js';
import { refuseSso, signInWithSso } from './sso-sign-in.js';
import { finishBrowserSignIn, safeReturnPath } from './sso.routes.js';

const JwtQuery = Type.Object({
  jwt: Type.String({ minLength: 1 }),
  return_to: Type.Optional(Type.String()),
});

export interface JwtRouteOptions {
  /** Makes a tenant created here resolvable by its host at once. */
  readonly refreshTenants: () => Promise<void>;
}

/** Verifies the token, auditing any refusal in the scope before it is thrown. */
async function verifyOrRefuse(platform: Platform, scope: Scope, token: string, ip: string | null): Promise<JwtClaims> {
  const settings = settingsFor(platform, scope);
  if (!settings.get('JWT.enabled')) throw new PluraError('sso_not_configured', 'JWT sign-in is not enabled here.');
  try {
    return await verifySignInToken(token, settings);
  } catch (error) {
    if (isPluraError(error) && error.code === 'sso_refused') return refuseSso(platform, scope, 'jwt', ip, error.message);
    if (isPluraError(error)) await recordAudit({ platform, scope, actor: { kind: 'system', name: 'sso:jwt' }, ip }, 'sso.refused', { after: { provider: 'jwt', reason: error.message } });
    throw error;
  }
}

/** A token is good for one sign-in: its `jti` is remembered until it expires. */
async function consumeJti(platform: Platform, scope: Scope, db: IdentityDb, claims: JwtClaims, ip: string | null): Promise<void> {
  const now = new Date().toISOString();
  await db.deleteFrom('sso_used_jti').where('expires_at', '<', now).execute();
  const key = `jwt:${claims.jti}`;
  const inserted = await db
    .insertInto('sso_used_jti')
    .values({ jti: key, expires_at: claims.expiresAt.toISOString() })
    .onConflict((oc) => oc.column('jti').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) await refuseSso(platform, scope, 'jwt', ip, 'This token was already used; sign-in tokens are good for one sign-in only.');
}

/**
 * `GET /auth/sso/jwt?jwt=...&return_to=...`: sign-in for embedding. On a tenant
 * host the token must name that tenant; on the platform host it signs a platform
 * user in (no tenant claim) or sends a tenant user on to its tenant's host, creating
 * the tenant first when `[JWT] tenant_provisioning` allows.
 */
export async function jwtRoutes(root: FastifyInstance, deps: RequestContextDeps, options: JwtRouteOptions): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { platform } = deps;

  app.get('/auth/sso/jwt', { schema: { querystring: JwtQuery } }, async (request, reply) => {
    const returnTo = safeReturnPath(request.query.return_to);
    const token = request.query.jwt;
    const ip = request.ip || null;
    return withRequestScope(platform, request, async (scope) => {
      const claims = await verifyOrRefuse(platform, scope, token, ip);
      if (scope.kind === 'tenant') return signInAtTenant(scope, claims);
      if (claims.tenant === null) return signIn(scope, claims);
      return sendToTenant(claims, returnTo, token);
    });

    async function signIn(scope: Scope, claims: JwtClaims): Promise<FastifyReply> {
      const db = identityDbFor(platform, scope);
      await consumeJti(platform, scope, db, claims, ip);
      const result = await signInWithSso(
        platform,
        scope,
        { provider: 'jwt', subject: claims.subject, email: claims.email, firstName: claims.firstName, lastName: claims.lastName, groups: claims.groups },
        { provisioning: settingsFor(platform, scope).get('JWT.user_provisioning'), client: client(request) },
      );
      return finishBrowserSignIn(request, reply, result.session, returnTo);
    }

    async function signInAtTenant(scope: Scope & { kind: 'tenant' }, claims: JwtClaims): Promise<FastifyReply> {
      if (claims.tenant === null) return refuseSso(platform, scope, 'jwt', ip, 'Tenant claim required for external user.', { email: claims.email });
      if (claims.tenant !== scope.tenant.slug) {
        return refuseSso(platform, scope, 'jwt', ip, 'Tenant ID mismatch with existing user.', { email: claims.email, claimed: claims.tenant.slice(0, 100) });
      }
      return signIn(scope, claims);
    }

    async function sendToTenant(claims: JwtClaims, target: string, rawToken: string): Promise<FastifyReply> {
      const platformScope: Scope = { kind: 'platform' };
      const slug = claims.tenant ?? '';
      if ((await identityStore.findUsersByEmail(identityDbFor(platform, platformScope), claims.email.toLowerCase())).length > 0) {
        return refuseSso(platform, platformScope, 'jwt', ip, 'Cannot add tenant claim to internal user.', { email: claims.email });
      }
      try {
        validateSlug(slug);
      } catch {
        return refuseSso(platform, platformScope, 'jwt', ip, `The tenant claim "${slug.slice(0, 100)}" is not a valid tenant slug.`);
      }
      let tenant: Tenant | undefined = await platform.registry.findTenant(slug);
      if (!tenant) tenant = await provisionTenant(slug, platformScope);
      if (tenant.status !== 'active') return refuseSso(platform, platformScope, 'jwt', ip, 'Tenant is not active.', { tenant: slug });
      const host = tenant.hosts[0];
      if (!host) return refuseSso(platform, platformScope, 'jwt', ip, `Tenant "${slug}" has no hostname.`);
      const query = new URLSearchParams({ jwt: rawToken, return_to: target });
      return reply.redirect(`${requestOrigin(request, host)}/auth/sso/jwt?${query.toString()}`, 303);
    }

    async function provisionTenant(slug: string, platformScope: Scope): Promise<Tenant> {
      const settings = platform.settings;
      if (!settings.get('JWT.tenant_provisioning') || !settings.get('JWT.user_provisioning')) {
        return refuseSso(platform, platformScope, 'jwt', ip, `Unknown tenant "${slug}", and this platform does not create tenants on sign-in.`);
      }
      const suffix = settings.get('JWT.tenant_host_suffix') || '.localhost';
      const tenant = await platform.tenants.create({ slug, hosts: [`${slug}${suffix}`] });
      await recordPlatformAudit(platform, { kind: 'system', name: 'sso:jwt' }, 'tenant.created', slug, { after: { slug, hosts: tenant.hosts, via: 'jwt' } });
      await options.refreshTenants();
      return tenant;
    }
  });
}
