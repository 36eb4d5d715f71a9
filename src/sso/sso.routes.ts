import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PluraError } from '../core/errors.js';
import { setSessionCookie } from '../access/auth.routes.js';
import { settingsFor, type Scope } from '../access/context.js';
import { withRequestScope, type RequestContextDeps } from '../http/request-context.js';
import type { Platform } from '../platform/platform.js';
import type { CreatedSession } from '../access/sessions.js';
import { providerEnabled } from './provider-settings.js';
import { jwtRoutes, type JwtRouteOptions } from './jwt.routes.js';
import { oidcRoutes } from './oidc.routes.js';
import { ldapRoutes } from './ldap.routes.js';
import { samlRoutes } from './saml.routes.js';
import { scimRoutes } from './scim.routes.js';

export interface LoginProvider {
  readonly id: 'oidc' | 'saml' | 'ldap';
  readonly name: string;
  /** Where the login page sends the browser (OIDC, SAML) or posts the form (LDAP). */
  readonly url: string;
  readonly method: 'GET' | 'POST';
}

/** The sign-in methods the login page offers in a scope: enabled and listed in `[SSO] login_providers`. */
export function loginProviders(platform: Platform, scope: Scope): { password: boolean; forceSso: boolean; providers: LoginProvider[] } {
  const settings = settingsFor(platform, scope);
  const shown = new Set(settings.get('SSO.login_providers'));
  const providers: LoginProvider[] = [];
  if (shown.has('oidc') && providerEnabled(platform, scope, 'OIDC')) providers.push({ id: 'oidc', name: settings.get('OIDC.display_name'), url: '/auth/oidc/start', method: 'GET' });
  if (shown.has('saml') && providerEnabled(platform, scope, 'SAML')) providers.push({ id: 'saml', name: settings.get('SAML.display_name'), url: '/auth/saml/login', method: 'GET' });
  if (shown.has('ldap') && providerEnabled(platform, scope, 'LDAP')) providers.push({ id: 'ldap', name: settings.get('LDAP.display_name'), url: '/auth/ldap/login', method: 'POST' });
  const forceSso = settings.get('SSO.force_sso');
  return { password: shown.has('password') && !forceSso, forceSso, providers };
}

/**
 * Where to go after a sign-in: a path on this host only. Anything that could leave
 * the site (`//evil`, `/\evil`, `https://...`, control characters) is refused.
 */
export function safeReturnPath(value: string | undefined): string {
  if (value === undefined || value === '') return '/';
  if (value.length > 2000 || !value.startsWith('/') || value.startsWith('//') || value.includes('\\') || hasControlCharacter(value)) {
    throw new PluraError('invalid_input', `return_to must be a path on this site (starting with a single "/"), not "${value.slice(0, 100)}".`);
  }
  return value;
}

const hasControlCharacter = (value: string): boolean => [...value].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);

/** Ends an SSO sign-in in the browser: the session cookie, then the page the user asked for. */
export function finishBrowserSignIn(request: FastifyRequest, reply: FastifyReply, session: CreatedSession, returnTo: string): FastifyReply {
  setSessionCookie(request, reply, session);
  return reply.redirect(returnTo, 303);
}

/** `/auth/providers` and every SSO protocol's routes. */
export async function ssoRoutes(app: FastifyInstance, deps: RequestContextDeps, options: JwtRouteOptions): Promise<void> {
  const { platform } = deps;
  app.get('/auth/providers', async (request) => withRequestScope(platform, request, (scope) => Promise.resolve(loginProviders(platform, scope))));
  await jwtRoutes(app, deps, options);
  await oidcRoutes(app, deps);
  await ldapRoutes(app, deps);
  await samlRoutes(app, deps);
  await scimRoutes(app, deps);
}
