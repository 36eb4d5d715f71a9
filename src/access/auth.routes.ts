import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { PluraError } from '../core/errors.js';
import { recordAudit } from '../audit/audit.service.js';
import { withRequestContext, withRequestScope, type RequestAuth, type RequestContextDeps } from '../http/request-context.js';
import { identityDbFor, settingsFor, type Scope } from './context.js';
import { identityStore } from './identity.store.js';
import { acceptInvitation, describeInvitation } from './invitations.service.js';
import { changePasswordWithOld, completeSetup, markSignedIn, requireSecondFactor, signIn } from './login.service.js';
import { beginMfaEnrollment, enableMfa } from './mfa.js';
import { SESSION_COOKIE, completeMfa, deleteSession, deleteUserSessions, type CreatedSession } from './sessions.js';

const LoginBody = Type.Object({
  login: Type.String({ minLength: 1, maxLength: 200 }),
  password: Type.String({ minLength: 1, maxLength: 1000 }),
  totp: Type.Optional(Type.String({ maxLength: 100 })),
  remember: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
});
const CodeBody = Type.Object({ code: Type.String({ minLength: 1, maxLength: 100 }) });
const PasswordBody = Type.Object({
  login: Type.String({ minLength: 1, maxLength: 200 }),
  oldPassword: Type.String({ minLength: 1, maxLength: 1000 }),
  newPassword: Type.String({ minLength: 1, maxLength: 1000 }),
});
const SetupBody = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 200 }),
  login: Type.String({ minLength: 1, maxLength: 200 }),
  password: Type.String({ minLength: 1, maxLength: 1000 }),
  email: Type.String({ minLength: 3, maxLength: 200 }),
});
const InvitationParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) });
const InvitationBody = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 200 }),
  password: Type.String({ minLength: 1, maxLength: 1000 }),
  remember: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
});

const isRemember = (value: boolean | string | undefined): boolean => value === true || value === '1' || value === 'true' || value === 'on';

/** Sets the session cookie of a fresh sign-in (password or SSO). */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, session: CreatedSession): void {
  void reply.setCookie(SESSION_COOKIE, session.cookie, {
    httpOnly: true,
    sameSite: 'lax',
    secure: request.protocol === 'https',
    path: '/',
    ...(session.maxAgeSeconds !== undefined ? { maxAge: session.maxAgeSeconds } : {}),
  });
}

function clearSessionCookie(reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, { path: '/' });
}

export const client = (request: FastifyRequest): { ip: string | null; userAgent: string | null } => ({
  ip: request.ip || null,
  userAgent: request.headers['user-agent'] ?? null,
});

function signedInUser(auth: RequestAuth): { id: number; login: string } {
  const actor = auth.ctx.actor;
  if (auth.via !== 'session' || (actor.kind !== 'tenant_user' && actor.kind !== 'platform_user')) {
    throw new PluraError('unauthenticated', 'Sign in first.');
  }
  return { id: actor.userId, login: actor.login };
}

/** Sign-in, second factor, sign-out, invitations and first-start setup: `/auth/...`, `/api/v1/invitations` and `/setup`. */
export async function authRoutes(root: FastifyInstance, deps: RequestContextDeps): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { platform } = deps;

  app.post('/auth/login', { schema: { body: LoginBody } }, async (request, reply) => {
    const body = request.body;
    const remember = isRemember(body.remember);
    const result = await withRequestScope(platform, request, (scope) =>
      signIn(platform, scope, { login: body.login, password: body.password, totp: body.totp }, { ...client(request), remember }),
    );
    setSessionCookie(request, reply, result.session);
    return { status: result.status, login: result.user.login, csrfToken: result.session.csrfToken, expiresAt: result.session.expiresAt };
  });

  // Invitations (anonymous): the token is looked up only in the store of the host asked.
  app.get('/api/v1/invitations/:token', { schema: { params: InvitationParams } }, async (request) =>
    withRequestScope(platform, request, (scope) => describeInvitation(platform, scope, request.params.token, client(request))),
  );

  // Accepting sets the first password, spends the link, and signs in exactly as /auth/login answers.
  app.post('/auth/invitation', { schema: { body: InvitationBody } }, async (request, reply) => {
    const body = request.body;
    const result = await withRequestScope(platform, request, (scope) =>
      acceptInvitation(platform, scope, { token: body.token, password: body.password }, { ...client(request), remember: isRemember(body.remember) }),
    );
    setSessionCookie(request, reply, result.session);
    return { status: result.status, login: result.user.login, csrfToken: result.session.csrfToken, expiresAt: result.session.expiresAt };
  });

  /** The user row behind a session, in the scope where the user lives. */
  const sessionUser = async (auth: RequestAuth) => {
    const { id } = signedInUser(auth);
    const db = identityDbFor(platform, identityScopeOf(auth));
    const user = await identityStore.findUserById(db, id);
    if (!user) throw new PluraError('unauthenticated', 'Sign in first.');
    return { db, user };
  };

  // Second step of sign-in: a TOTP or recovery code completes a pending session.
  app.post('/auth/mfa', { schema: { body: CodeBody } }, async (request, reply) =>
    withRequestContext(deps, request, reply, { surface: 'ui', allowMfaPending: true }, async (auth) => {
      const { db, user } = await sessionUser(auth);
      if (!auth.mfaPending || !auth.sessionId) return { status: 'signed_in' };
      if (user.totp_enabled !== 1) throw new PluraError('mfa_required', 'Set up two-factor authentication first (POST /auth/mfa/enroll).');
      await requireSecondFactor(auth.ctx, db, user, request.body.code);
      await completeMfa(db, auth.sessionId);
      await markSignedIn(auth.ctx, db, user);
      return { status: 'signed_in' };
    }),
  );

  // Enrolment: a new secret and recovery codes (shown once); a first code confirms them.
  app.post('/auth/mfa/enroll', async (request, reply) =>
    withRequestContext(deps, request, reply, { surface: 'ui', allowMfaPending: true }, async (auth) => {
      const { db, user } = await sessionUser(auth);
      if (user.totp_enabled === 1 && auth.mfaPending) throw new PluraError('mfa_required', 'Enter your current code first (POST /auth/mfa).');
      const issuer = settingsFor(platform, identityScopeOf(auth)).get('Security.mfa_issuer');
      const enrollment = await beginMfaEnrollment(db, user, issuer);
      await recordAudit(auth.ctx, 'mfa.enrollment_started', { after: { login: user.login } });
      return enrollment;
    }),
  );

  app.post('/auth/mfa/enroll/confirm', { schema: { body: CodeBody } }, async (request, reply) =>
    withRequestContext(deps, request, reply, { surface: 'ui', allowMfaPending: true }, async (auth) => {
      const { db, user } = await sessionUser(auth);
      if (user.totp_secret === null) throw new PluraError('invalid_input', 'Start enrolment first (POST /auth/mfa/enroll).');
      await requireSecondFactor(auth.ctx, db, user, request.body.code);
      await enableMfa(db, user.id);
      await recordAudit(auth.ctx, 'mfa.enrolled', { after: { login: user.login } });
      if (auth.mfaPending && auth.sessionId) {
        await completeMfa(db, auth.sessionId);
        await markSignedIn(auth.ctx, db, user);
      }
      return { status: 'signed_in', mfa: true };
    }),
  );

  app.post('/auth/logout', async (request, reply) => {
    await withRequestContext(deps, request, reply, { surface: 'ui', allowMfaPending: true }, async (auth) => {
      if (!auth.sessionId) return;
      await deleteSession(identityDbFor(platform, identityScopeOf(auth)), auth.sessionId);
      await recordAudit(auth.ctx, 'logout', {});
    });
    clearSessionCookie(reply);
    return { status: 'signed_out' };
  });

  app.post('/auth/logout-everywhere', async (request, reply) => {
    const ended = await withRequestContext(deps, request, reply, { surface: 'ui' }, async (auth) => {
      const { db, user } = await sessionUser(auth);
      const count = await deleteUserSessions(db, user.id);
      await recordAudit(auth.ctx, 'logout.everywhere', { after: { login: user.login, sessions: count } });
      return count;
    });
    clearSessionCookie(reply);
    return { status: 'signed_out', sessionsEnded: ended };
  });

  // Change a password with the old one (also how an expired password is renewed).
  app.post('/auth/password', { schema: { body: PasswordBody } }, async (request) => {
    await withRequestScope(platform, request, (scope) => changePasswordWithOld(platform, scope, request.body, client(request)));
    return { status: 'password_changed' };
  });

  app.post('/setup', { schema: { body: SetupBody } }, async (request, reply) => {
    const { token, ...input } = request.body;
    const user = await withRequestScope(platform, request, (scope) => completeSetup(platform, scope, token, input, client(request)));
    void reply.code(201);
    return { status: 'created', login: user.login, superuser: true };
  });
}

/** Where the session's user lives: the registry for platform users, else the tenant. */
function identityScopeOf(auth: RequestAuth): Scope {
  return auth.ctx.actor.kind === 'platform_user' ? { kind: 'platform' } : auth.ctx.scope;
}
