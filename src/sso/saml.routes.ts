import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { PluraError } from '../core/errors.js';
import { recordAudit } from '../audit/audit.service.js';
import { client } from '../access/auth.routes.js';
import { identityDbFor, settingsFor, type Scope } from '../access/context.js';
import { withRequestScope, type RequestContextDeps } from '../http/request-context.js';
import type { Platform } from '../platform/platform.js';
import {
  SAML_MAX_BODY_BYTES,
  SamlRefusal,
  authorizeUrl,
  idpMetadataPath,
  loadIdpMetadata,
  requireSamlEnabled,
  serviceProviderEndpoints,
  serviceProviderMetadata,
  verifySamlResponse,
  type SamlIdentity,
} from './saml.js';
import { refuseSso, signInWithSso } from './sso-sign-in.js';
import { finishBrowserSignIn, safeReturnPath } from './sso.routes.js';

const LoginQuery = Type.Object({ return_to: Type.Optional(Type.String({ maxLength: 2000 })) });
const AcsBody = Type.Object({
  SAMLResponse: Type.String({ minLength: 1, maxLength: SAML_MAX_BODY_BYTES }),
  RelayState: Type.Optional(Type.String({ maxLength: 2000 })),
});

/** `https://host[:port]` as the browser reached us (forwarded proto only from trusted proxies). */
function originOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** RelayState comes back through the browser: only a path on this site, else the start page. */
function relayTarget(relayState: string | undefined): string {
  try {
    return safeReturnPath(relayState);
  } catch {
    return '/';
  }
}

/** Audits a refused response and throws it: `invalid_input` when it was not even SAML, else `sso_refused`. */
async function refuse(platform: Platform, scope: Scope, ip: string | null, refusal: SamlRefusal, idp: string): Promise<never> {
  if (!refusal.malformed) return refuseSso(platform, scope, 'saml', ip, refusal.message, { idp });
  await recordAudit({ platform, scope, actor: { kind: 'system', name: 'sso:saml' }, ip }, 'sso.refused', { after: { provider: 'saml', reason: refusal.message, idp } });
  throw new PluraError('invalid_input', refusal.message);
}

/**
 * SAML 2.0 service provider of the Host's tenant (or of the platform on the
 * platform host): `GET /auth/saml/metadata`, `GET /auth/saml/login`, `POST /auth/saml/acs`.
 */
export async function samlRoutes(root: FastifyInstance, deps: RequestContextDeps): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { platform } = deps;

  app.get('/auth/saml/metadata', async (request, reply) =>
    withRequestScope(platform, request, async (scope) => {
      const settings = settingsFor(platform, scope);
      requireSamlEnabled(platform, scope);
      const xml = serviceProviderMetadata(serviceProviderEndpoints(settings, originOf(request)));
      return reply.type('application/samlmetadata+xml; charset=utf-8').send(xml);
    }),
  );

  app.get('/auth/saml/login', { schema: { querystring: LoginQuery } }, async (request, reply) => {
    const returnTo = safeReturnPath(request.query.return_to);
    return withRequestScope(platform, request, async (scope) => {
      const settings = settingsFor(platform, scope);
      requireSamlEnabled(platform, scope);
      const idp = await loadIdpMetadata(idpMetadataPath(platform, scope, settings));
      const sp = serviceProviderEndpoints(settings, originOf(request));
      const url = await authorizeUrl(identityDbFor(platform, scope), sp, idp, settings, returnTo);
      return reply.header('cache-control', 'no-store').redirect(url, 302);
    });
  });

  app.post('/auth/saml/acs', { bodyLimit: SAML_MAX_BODY_BYTES, schema: { body: AcsBody } }, async (request, reply) => {
    const ip = request.ip || null;
    return withRequestScope(platform, request, async (scope) => {
      const settings = settingsFor(platform, scope);
      requireSamlEnabled(platform, scope);
      const idp = await loadIdpMetadata(idpMetadataPath(platform, scope, settings));
      const sp = serviceProviderEndpoints(settings, originOf(request));
      let identity: SamlIdentity;
      try {
        identity = await verifySamlResponse(identityDbFor(platform, scope), sp, idp, settings, request.body.SAMLResponse);
      } catch (error) {
        if (error instanceof SamlRefusal) return refuse(platform, scope, ip, error, idp.entityId);
        throw error;
      }
      const result = await signInWithSso(
        platform,
        scope,
        {
          provider: 'saml',
          subject: `${identity.issuer}|${identity.nameId}`,
          email: identity.email,
          firstName: identity.firstName,
          lastName: identity.lastName,
          groups: identity.groups,
        },
        { provisioning: settings.get('SAML.user_provisioning'), client: client(request) },
      );
      return finishBrowserSignIn(request, reply, result.session, relayTarget(request.body.RelayState));
    });
  });
}
