import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { client, setSessionCookie } from '../access/auth.routes.js';
import { withRequestScope, type RequestContextDeps } from '../http/request-context.js';
import { signInWithLdap } from './ldap.js';
import { finishBrowserSignIn, safeReturnPath } from './sso.routes.js';

const LdapLoginBody = Type.Object({
  login: Type.String({ minLength: 1, maxLength: 200 }),
  // No minimum: an empty password must reach the sign-in, which refuses it and counts it as a failure.
  password: Type.String({ maxLength: 1000 }),
  remember: Type.Optional(Type.Union([Type.Boolean(), Type.String({ maxLength: 10 })])),
  return_to: Type.Optional(Type.String({ maxLength: 2000 })),
});

/** `POST /auth/ldap/login`: LDAP / Active Directory sign-in at the host's tenant (or the platform host). */
export async function ldapRoutes(root: FastifyInstance, deps: RequestContextDeps): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { platform } = deps;

  app.post('/auth/ldap/login', { schema: { body: LdapLoginBody } }, async (request, reply) => {
    const body = request.body;
    const remember = body.remember === true || body.remember === '1' || body.remember === 'true' || body.remember === 'on';
    // Checked before the directory is asked, so a bad return_to costs no attempt.
    const returnTo = body.return_to === undefined ? undefined : safeReturnPath(body.return_to);
    const result = await withRequestScope(platform, request, (scope) =>
      signInWithLdap(platform, scope, { login: body.login, password: body.password }, { ...client(request), remember }),
    );
    // A login form that names where to go gets the browser there; API callers get JSON as from /auth/login.
    if (returnTo !== undefined) return finishBrowserSignIn(request, reply, result.session, returnTo);
    setSessionCookie(request, reply, result.session);
    return { status: 'signed_in', login: result.user.login, csrfToken: result.session.csrfToken, expiresAt: result.session.expiresAt };
  });
}
