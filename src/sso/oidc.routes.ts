import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { client } from '../access/auth.routes.js';
import { withRequestScope, type RequestContextDeps } from '../http/request-context.js';
import { OIDC_FLOW_COOKIE, OIDC_FLOW_COOKIE_PATH, OIDC_FLOW_SECONDS, beginOidcSignIn, completeOidcSignIn } from './oidc.js';
import { finishBrowserSignIn, safeReturnPath } from './sso.routes.js';

const StartQuery = Type.Object({ return_to: Type.Optional(Type.String({ maxLength: 2000 })) });
// The provider's answer (RFC 6749 4.1.2, RFC 9207 `iss`); other parameters pass through to openid-client.
const CallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 4096 })),
  state: Type.Optional(Type.String({ maxLength: 1000 })),
  iss: Type.Optional(Type.String({ maxLength: 2000 })),
  error: Type.Optional(Type.String({ maxLength: 200 })),
  error_description: Type.Optional(Type.String({ maxLength: 2000 })),
});

/** Where the provider sends the browser back: this host, as the browser reached it. */
function callbackUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}${OIDC_FLOW_COOKIE_PATH}/callback`;
}

/** OpenID Connect sign-in (authorization code flow with PKCE), per tenant and on the platform host. */
export async function oidcRoutes(root: FastifyInstance, deps: RequestContextDeps): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { platform } = deps;

  app.get('/auth/oidc/start', { schema: { querystring: StartQuery } }, async (request, reply) => {
    const returnTo = safeReturnPath(request.query.return_to);
    const start = await withRequestScope(platform, request, (scope) =>
      beginOidcSignIn(platform, scope, { redirectUri: callbackUrl(request), returnTo, ip: request.ip || null }),
    );
    // Lax: the provider's redirect back is a top-level GET, which carries it.
    void reply.setCookie(OIDC_FLOW_COOKIE, start.flowCookie, {
      httpOnly: true,
      sameSite: 'lax',
      secure: request.protocol === 'https',
      path: OIDC_FLOW_COOKIE_PATH,
      maxAge: OIDC_FLOW_SECONDS,
    });
    return reply.redirect(start.authorizationUrl.href, 303);
  });

  app.get('/auth/oidc/callback', { schema: { querystring: CallbackQuery } }, async (request, reply) => {
    const flowCookie = request.cookies[OIDC_FLOW_COOKIE];
    // Cleared whatever happens next: a flow is good for one callback.
    void reply.clearCookie(OIDC_FLOW_COOKIE, { path: OIDC_FLOW_COOKIE_PATH });
    const mark = request.url.indexOf('?');
    const query = mark >= 0 ? request.url.slice(mark + 1) : '';
    const result = await withRequestScope(platform, request, (scope) => completeOidcSignIn(platform, scope, { flowCookie, query, client: client(request) }));
    return finishBrowserSignIn(request, reply, result.session, result.returnTo);
  });
}
