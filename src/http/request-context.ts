import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PluraError } from '../core/errors.js';
import { actorForUser, anonymousActor } from '../access/actors.js';
import { identityDbFor, settingsFor, type ActContext, type Scope } from '../access/context.js';
import { parseAllowlist } from '../access/ip-allowlist.js';
import type { Actor } from '../access/policy.js';
import type { ApiRateLimiter } from '../access/rate-limit.js';
import { CSRF_HEADER, SESSION_COOKIE, checkSession, sessionLifetimes } from '../access/sessions.js';
import { checkTokenFromIp } from '../access/brute-force.js';
import { recordAudit } from '../audit/audit.service.js';
import type { Platform } from '../platform/platform.js';
import type { Tenant } from '../tenancy/tenant.js';

/** How the caller proved who it is. */
export type AuthVia = 'session' | 'token' | 'anonymous';

export interface RequestAuth {
  readonly ctx: ActContext;
  readonly via: AuthVia;
  readonly sessionId: string | null;
  readonly csrfToken: string | null;
  /** True while a session waits for its second factor (only /auth/mfa routes accept it). */
  readonly mfaPending: boolean;
}

export interface ContextOptions {
  /** API surfaces count against rate limits; sign-in pages do not. */
  readonly surface: 'api' | 'ui';
  /** token_auth as the surface found it (Matomo param, or a Bearer header on REST). */
  readonly token?: { readonly value: string; readonly secure: boolean } | undefined;
  /** Accept a session still owed its second factor (the MFA step itself). */
  readonly allowMfaPending?: boolean;
}

export interface RequestContextDeps {
  readonly platform: Platform;
  readonly rateLimiter: ApiRateLimiter;
}

const stateChanging = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Matomo: the message of a refused token, with the POST clause only when the token came by GET. */
export function invalidTokenMessage(secure: boolean): string {
  return secure
    ? 'Unable to authenticate with the provided token. It is either invalid or expired.'
    : 'Unable to authenticate with the provided token. It is either invalid, expired or is required to be sent as a POST parameter.';
}

/** The tenant a platform admin asks to act in (header or `tenant` parameter), on the platform host only. */
function requestedTenant(request: FastifyRequest): string | undefined {
  const header = request.headers['x-plura-tenant'];
  if (typeof header === 'string' && header !== '') return header;
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.['tenant'];
  if (typeof fromQuery === 'string' && fromQuery !== '') return fromQuery;
  const body = request.body as Record<string, unknown> | undefined;
  const fromBody = body && typeof body === 'object' ? body['tenant'] : undefined;
  return typeof fromBody === 'string' && fromBody !== '' ? fromBody : undefined;
}

/**
 * Runs `fn` with who is calling and where: opens the tenant's store (or uses the
 * registry on the platform host), enforces the IP allowlist, authenticates (token,
 * else session cookie with CSRF on state changes, else anonymous) and counts the
 * call against the rate limits. Access decisions themselves stay in the services.
 */
export async function withRequestContext<T>(
  deps: RequestContextDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  options: ContextOptions,
  fn: (auth: RequestAuth) => Promise<T>,
): Promise<T> {
  const { platform } = deps;
  const ip = request.ip || null;
  // On the platform host, a platform admin may act inside a named tenant.
  const actingSlug = request.tenant ? undefined : requestedTenant(request);
  if (actingSlug === undefined) {
    return withRequestScope(platform, request, async (scope) => {
      const auth = await authenticate(deps, request, scope, scope, options, ip);
      await enforceRateLimit(deps, reply, auth, options, scope.kind === 'tenant' ? scope.tenant.slug : '(platform)', ip);
      return fn(auth);
    });
  }
  const platformScope: Scope = { kind: 'platform' };
  enforceAllowlist(platform, platformScope, ip);
  const actingTenant = await platform.tenants.get(actingSlug);
  if (actingTenant.status !== 'active') throw new PluraError('tenant_deactivated', `The tenant "${actingTenant.slug}" is deactivated.`);
  return platform.withStore(actingTenant, async (store) => {
    const scope: Scope = { kind: 'tenant', tenant: actingTenant, store };
    const auth = await authenticate(deps, request, platformScope, scope, options, ip);
    if (auth.ctx.actor.kind !== 'platform_user' || !auth.ctx.actor.platformAdmin) {
      throw new PluraError(auth.via === 'anonymous' ? 'unauthenticated' : 'forbidden', 'Only platform admins may act inside a tenant from the platform host.');
    }
    await enforceRateLimit(deps, reply, auth, options, actingTenant.slug, ip);
    return fn(auth);
  });
}

function enforceAllowlist(platform: Platform, scope: Scope, ip: string | null): void {
  const entries = settingsFor(platform, scope).get('Security.login_allowlist_ip');
  if (entries.length === 0) return;
  if (ip === null || !parseAllowlist(entries).allows(ip)) {
    throw new PluraError('ip_not_allowed', `Your IP address ${ip ?? '(unknown)'} is not on this ${scope.kind === 'tenant' ? 'tenant' : 'platform'}'s allowlist.`);
  }
}

/**
 * Runs `fn` in the request's scope (tenant store, or the registry on the platform
 * host) after the IP allowlist, without authenticating: for the sign-in routes.
 */
export async function withRequestScope<T>(platform: Platform, request: FastifyRequest, fn: (scope: Scope) => Promise<T>): Promise<T> {
  const tenant = request.tenant;
  const ip = request.ip || null;
  if (tenant) {
    return platform.withStore(tenant, async (store) => {
      const scope: Scope = { kind: 'tenant', tenant, store };
      enforceAllowlist(platform, scope, ip);
      return fn(scope);
    });
  }
  const scope: Scope = { kind: 'platform' };
  enforceAllowlist(platform, scope, ip);
  return fn(scope);
}

/**
 * Authenticates against `identityScope` (where the user lives) and returns a
 * context acting in `actScope` (differs only when a platform admin acts in a tenant).
 */
async function authenticate(
  deps: RequestContextDeps,
  request: FastifyRequest,
  identityScope: Scope,
  actScope: Scope,
  options: ContextOptions,
  ip: string | null,
): Promise<RequestAuth> {
  const { platform } = deps;
  const db = identityDbFor(platform, identityScope);
  const actingIn = actScope.kind === 'tenant' && identityScope.kind === 'platform' ? actScope.tenant.slug : null;
  const context = (actor: Actor): ActContext => ({ platform, scope: actScope, actor, ip });

  if (options.token) {
    const check = await checkTokenFromIp(db, settingsFor(platform, identityScope), platform.secret, options.token.value, options.token.secure, ip);
    if (!check.ok) throw new PluraError('invalid_token', invalidTokenMessage(options.token.secure));
    const actor = await actorForUser(identityScope, db, check.user, actingIn);
    const ctx = context(actor);
    if (check.firstUse) await recordAudit(ctx, 'token.first_use', { after: { login: check.user.login, tokenId: check.tokenId } });
    return { ctx, via: 'token', sessionId: null, csrfToken: null, mfaPending: false };
  }

  const cookie = request.cookies[SESSION_COOKIE];
  if (cookie) {
    const check = await checkSession(db, platform.secret, cookie, sessionLifetimes(settingsFor(platform, identityScope)));
    if (!check.ok) {
      if (check.reason === 'expired') throw new PluraError('session_expired', 'Your session has expired; sign in again.');
    } else {
      if (check.mfaPending && !options.allowMfaPending) {
        throw new PluraError('mfa_required', 'Finish signing in with your two-factor authentication code first.');
      }
      if (stateChanging.has(request.method)) {
        const sent = request.headers[CSRF_HEADER] ?? (request.body as Record<string, unknown> | undefined)?.['csrf_token'];
        if (sent !== check.csrfToken) {
          throw new PluraError('csrf_failed', `This change needs the CSRF token of your session (header ${CSRF_HEADER}); reload the page and try again.`);
        }
      }
      const actor = await actorForUser(identityScope, db, check.user, actingIn);
      return { ctx: context(actor), via: 'session', sessionId: check.sessionId, csrfToken: check.csrfToken, mfaPending: check.mfaPending };
    }
  }
  const actor = actScope.kind === 'tenant' && identityScope.kind === 'tenant' ? await anonymousActor(actScope, db) : await anonymousActor({ kind: 'platform' }, db);
  return { ctx: context(actor), via: 'anonymous', sessionId: null, csrfToken: null, mfaPending: false };
}

async function enforceRateLimit(deps: RequestContextDeps, reply: FastifyReply, auth: RequestAuth, options: ContextOptions, bucket: string, ip: string | null): Promise<void> {
  if (options.surface !== 'api') return;
  const actor = auth.ctx.actor;
  const subject =
    actor.kind === 'tenant_user' ? `user:${actor.userId}` : actor.kind === 'platform_user' ? `platform-user:${actor.userId}` : `ip:${ip ?? 'unknown'}`;
  const settings = settingsFor(deps.platform, auth.ctx.scope);
  const result = await deps.rateLimiter.consume(bucket, subject, {
    perMinute: settings.get('Security.api_rate_limit_per_minute'),
    perHour: settings.get('Security.api_rate_limit_per_hour'),
  });
  if (!result.allowed) {
    void reply.header('Retry-After', String(result.retryAfterSeconds));
    throw new PluraError('rate_limited', `Too many API calls: the limit per ${result.limit} is reached; retry in ${result.retryAfterSeconds} s.`, {
      headers: { 'Retry-After': String(result.retryAfterSeconds) },
    });
  }
}

export type { Tenant };
