/**
 * Invitations over HTTP: issued by those who may create the user, mailed through a
 * real SMTP server (smtp-server, read back with mailparser), redeemed once on the
 * tenant's own host (a SQLite and a PostgreSQL tenant), with the password policy,
 * expiry, reuse and races, deactivated and deleted users, brute force, MFA, platform
 * users and the audit log.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import type { Kysely } from 'kysely';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { openHarness, sessionCookieOf, signInOver, TEST_PASSWORD, type Harness, type Session } from '../http/test-support/harness.js';
import { freePort } from '../http/test-support/free-port.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { unblockIp } from './brute-force.js';
import { identityDbFor, type ActContext } from './context.js';
import { identityStore, type IdentityDb } from './identity.store.js';
import { createUser, setUserAccess } from './users.service.js';
import type { AuditTables } from '../audit/audit.tables.js';

const ACME = 'acme.test';
const GLOBEX = 'globex.test';
const PLATFORM = 'platform.test';
const NEW_PASSWORD = 'A fine new passphrase 7';

type AuditDb = Kysely<AuditTables>;

interface Received {
  readonly to: string[];
  readonly mail: ParsedMail;
}

interface Offer {
  readonly url: string;
  readonly expiresAt: string;
  readonly emailed: boolean;
  readonly emailError?: string;
}

describe('invitations over HTTP', () => {
  let h: Harness;
  let pg: TestPostgresDatabase;
  let smtp: SMTPServer;
  let smtpPort: number;
  const inbox: Received[] = [];
  const sessions = new Map<string, Session & { host: string }>();

  const call = (who: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> => {
    const session = sessions.get(who);
    if (!session) throw new Error(`no session ${who}`);
    return h.app.inject({ method, url, headers: { host: session.host, cookie: session.cookie, 'x-csrf-token': session.csrf, ...headers }, ...(payload !== undefined ? { payload } : {}) });
  };
  const invite = async (who: string, login: string, headers: Record<string, string> = {}): Promise<Offer> => {
    const response = await call(who, 'POST', `/api/v1/users/${login}/invitation`, undefined, headers);
    expect(response.statusCode, response.body).toBe(201);
    return response.json<Offer>();
  };
  const tokenOf = (offer: Offer): string => new URL(offer.url).searchParams.get('token') ?? '';
  const view = (host: string, token: string, remoteAddress = '127.0.0.1') => h.app.inject({ method: 'GET', url: `/api/v1/invitations/${token}`, headers: { host }, remoteAddress });
  const accept = (host: string, token: string, password = NEW_PASSWORD, remoteAddress = '127.0.0.1') =>
    h.app.inject({ method: 'POST', url: '/auth/invitation', headers: { host }, payload: { token, password }, remoteAddress });
  const signIn = (host: string, login: string, password: string) => h.app.inject({ method: 'POST', url: '/auth/login', headers: { host }, payload: { login, password } });
  const errorOf = (response: LightMyRequestResponse): { code: string; message: string } => response.json<{ error: { code: string; message: string } }>().error;
  const inTenant = <T>(slug: string, fn: (db: IdentityDb, ctx: ActContext) => Promise<T>): Promise<T> => h.asOperator(slug, (ctx) => fn(identityDbFor(ctx.platform, ctx.scope), ctx));
  const addInvitee = (slug: string, login: string, sites: number[] = []) =>
    h.asOperator(slug, async (ctx) => {
      await createUser(ctx, { login, email: `${login}@${slug}.example`, password: null });
      if (sites.length > 0) await setUserAccess(ctx, login, 'view', sites);
    });
  const passwordOf = async (slug: string, login: string): Promise<string | null> => (await inTenant(slug, (db) => identityStore.findUserByLogin(db, login)))?.password_hash ?? null;
  const auditOf = (slug: string): Promise<{ action: string; actor: string }[]> =>
    inTenant(slug, (db) => (db as unknown as AuditDb).selectFrom('audit_entry').select(['action', 'actor']).orderBy('id').execute());

  beforeAll(async () => {
    smtpPort = await freePort();
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        simpleParser(stream).then(
          (mail) => {
            inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), mail });
            callback();
          },
          (error: Error) => callback(error),
        );
      },
    });
    await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));

    pg = await createTestPostgresDatabase('invite');
    h = await openHarness({
      PLURA_GENERAL_PLATFORM_HOST: PLATFORM,
      PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix,
      PLURA_SECURITY_BRUTE_FORCE_MAX_RETRIES: '5',
    });
    await h.addTenant('acme', [ACME]);
    await h.addTenant('globex', [GLOBEX], pg.url);
    // Only acme sends mail: its own [Mail] settings.
    h.platform.settings.set('Mail.smtp_host', '127.0.0.1', { tenant: 'acme' });
    h.platform.settings.set('Mail.smtp_port', String(smtpPort), { tenant: 'acme' });
    h.platform.settings.set('Mail.from_address', 'analytics@acme.example', { tenant: 'acme' });
    await h.addSite('acme', 'acme-one');
    await h.addSite('acme', 'acme-two');
    await h.addSite('globex', 'globex-one');
    for (const [slug, host] of [['acme', ACME], ['globex', GLOBEX]] as const) {
      await h.addUser(slug, `${slug}-root`, { superuser: true });
      await h.addUser(slug, `${slug}-admin`);
      await h.addUser(slug, `${slug}-view`);
      await h.asOperator(slug, async (ctx) => {
        await setUserAccess(ctx, `${slug}-admin`, 'admin', [1]);
        await setUserAccess(ctx, `${slug}-view`, 'view', [1]);
      });
      for (const login of [`${slug}-root`, `${slug}-admin`, `${slug}-view`]) sessions.set(login, { ...(await signInOver(h.app, host, login)), host });
    }
    const system: ActContext = { platform: h.platform, scope: { kind: 'platform' }, actor: { kind: 'system', name: 'test' }, ip: null };
    await createUser(system, { login: 'ops', email: 'ops@platform.example', password: TEST_PASSWORD, superuser: true });
    await createUser(system, { login: 'pat', email: 'pat@platform.example', password: null });
    sessions.set('ops', { ...(await signInOver(h.app, PLATFORM, 'ops')), host: PLATFORM });
  });

  afterAll(async () => {
    await h?.close();
    await pg?.drop();
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  });

  // Unknown tokens count as failed sign-ins; every test starts with the test address unblocked.
  beforeEach(async () => {
    inbox.length = 0;
    for (const slug of ['acme', 'globex']) await inTenant(slug, (db) => unblockIp(db, '127.0.0.1'));
    await unblockIp(identityDbFor(h.platform, { kind: 'platform' }), '127.0.0.1');
  });

  it('SQLite tenant: creates and invites in one call, mails the link through SMTP, and the link sets the password and signs in', async () => {
    const created = await call('acme-root', 'POST', '/api/v1/users', { login: 'ann', email: 'ann@acme.example', invite: true });
    expect(created.statusCode, created.body).toBe(201);
    const body = created.json<{ login: string; invitation: Offer }>();
    expect(body).toMatchObject({ login: 'ann', invitation: { emailed: true } });
    expect(body.invitation.url).toMatch(/^http:\/\/acme\.test\/invitation\?token=[A-Za-z0-9_-]{43}$/);
    // Valid General.setup_link_validity_hours (72) hours.
    expect(Math.abs(Date.parse(body.invitation.expiresAt) - Date.now() - 72 * 3_600_000)).toBeLessThan(60_000);
    expect(await passwordOf('acme', 'ann')).toBeNull();

    // The link arrived at the SMTP server, from the tenant's sender, to the user's address.
    expect(inbox).toHaveLength(1);
    const [message] = inbox;
    expect(message?.to).toEqual(['ann@acme.example']);
    expect(message?.mail.from?.value[0]?.address).toBe('analytics@acme.example');
    expect(message?.mail.subject).toBe('Your invitation to acme');
    expect(message?.mail.text).toContain(body.invitation.url);
    expect(String(message?.mail.html)).toContain(`href="${body.invitation.url}"`);

    const token = tokenOf(body.invitation);
    // Only a keyed hash is stored.
    const stored = await inTenant('acme', (db) => db.selectFrom('user_invitation').selectAll().execute());
    expect(stored.some((row) => row.token_hash === token)).toBe(false);
    expect(stored.filter((row) => row.used_at === null)).toHaveLength(1);

    const described = await view(ACME, token);
    expect(described.statusCode, described.body).toBe(200);
    expect(described.json()).toEqual({
      login: 'ann',
      email: 'ann@acme.example',
      tenantName: 'acme',
      expiresAt: body.invitation.expiresAt,
      passwordPolicy: { minLength: 8, maxLength: 200, requireComplexity: false, hints: expect.any(Array) as unknown },
    });

    const accepted = await accept(ACME, token);
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json()).toMatchObject({ status: 'signed_in', login: 'ann', csrfToken: expect.any(String) as unknown, expiresAt: expect.any(String) as unknown });
    expect(accepted.cookies.find((c) => c.name === 'plura_session')).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    const me = await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: ACME, cookie: sessionCookieOf(accepted) } });
    expect(me.json()).toMatchObject({ kind: 'tenant_user', tenant: 'acme', user: { login: 'ann' } });
    expect((await signIn(ACME, 'ann', NEW_PASSWORD)).statusCode).toBe(200);

    const audit = await auditOf('acme');
    const relevant = audit.filter((row) => ['user.created', 'user.invited', 'user.invitation_accepted', 'login.success'].includes(row.action) && ['acme-root', 'ann'].includes(row.actor));
    expect(relevant.slice(-5)).toEqual([
      { action: 'user.created', actor: 'acme-root' },
      { action: 'user.invited', actor: 'acme-root' },
      { action: 'user.invitation_accepted', actor: 'ann' },
      { action: 'login.success', actor: 'ann' },
      { action: 'login.success', actor: 'ann' },
    ]);
  });

  it('PostgreSQL tenant: invites an existing user without a password (no mail set up), accepted by a form post', async () => {
    await addInvitee('globex', 'gus', [1]);
    const offer = await invite('globex-root', 'gus');
    expect(offer).toEqual({ url: expect.stringMatching(/^http:\/\/globex\.test\/invitation\?token=/) as unknown, expiresAt: expect.any(String) as unknown, emailed: false });
    expect(inbox).toHaveLength(0);
    const described = await view(GLOBEX, tokenOf(offer));
    expect(described.json()).toMatchObject({ login: 'gus', email: 'gus@globex.example', tenantName: 'globex' });
    const form = await h.app.inject({
      method: 'POST',
      url: '/auth/invitation',
      headers: { host: GLOBEX, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${tokenOf(offer)}&password=${encodeURIComponent(NEW_PASSWORD)}&remember=on`,
    });
    expect(form.statusCode, form.body).toBe(200);
    expect(form.json()).toMatchObject({ status: 'signed_in', login: 'gus' });
    expect(form.cookies.find((c) => c.name === 'plura_session')?.maxAge).toBeGreaterThan(0);
    const me = await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: GLOBEX, cookie: sessionCookieOf(form) } });
    expect(me.json()).toMatchObject({ tenant: 'globex', user: { login: 'gus' }, sites: [{ site: 1, role: 'view' }] });
    const actions = (await auditOf('globex')).map((row) => row.action);
    expect(actions).toEqual(expect.arrayContaining(['user.invited', 'user.invitation_accepted', 'login.success']));
    expect((await signIn(GLOBEX, 'gus', NEW_PASSWORD)).statusCode).toBe(200);
  });

  it('an expired invitation is gone (410) and sets nothing', async () => {
    await addInvitee('acme', 'eve');
    const token = tokenOf(await invite('acme-root', 'eve'));
    await inTenant('acme', async (db) => {
      const eve = await identityStore.findUserByLogin(db, 'eve');
      await db.updateTable('user_invitation').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('user_id', '=', eve?.id ?? 0).execute();
    });
    const described = await view(ACME, token);
    expect(described.statusCode).toBe(410);
    expect(errorOf(described)).toEqual({ code: 'invitation_gone', message: 'This invitation has expired; ask an administrator for a new one.' });
    const accepted = await accept(ACME, token);
    expect(accepted.statusCode).toBe(410);
    expect(accepted.cookies.find((c) => c.name === 'plura_session')).toBeUndefined();
    expect(await passwordOf('acme', 'eve')).toBeNull();
    // A new invitation works again.
    expect((await accept(ACME, tokenOf(await invite('acme-root', 'eve')))).statusCode).toBe(200);
  });

  for (const [slug, host] of [['acme', ACME], ['globex', GLOBEX]] as const) {
    it(`${slug}: a used invitation is gone, and two uses at once set the password only once`, async () => {
      const login = `${slug}-fred`;
      await addInvitee(slug, login);
      const token = tokenOf(await invite(`${slug}-root`, login));
      const [a, b] = await Promise.all([accept(host, token, 'First racing passphrase 1'), accept(host, token, 'Second racing passphrase 2')]);
      expect([a.statusCode, b.statusCode].sort()).toEqual([200, 410]);
      const [winner, loser] = a.statusCode === 200 ? ['First racing passphrase 1', 'Second racing passphrase 2'] : ['Second racing passphrase 2', 'First racing passphrase 1'];
      expect((a.statusCode === 200 ? b : a).json()).toMatchObject({ error: { code: 'invitation_gone' } });
      expect((await signIn(host, login, winner)).statusCode).toBe(200);
      expect((await signIn(host, login, loser)).statusCode).toBe(401);
      const history = await inTenant(slug, async (db) => {
        const user = await identityStore.findUserByLogin(db, login);
        return db.selectFrom('password_history').select('id').where('user_id', '=', user?.id ?? 0).execute();
      });
      expect(history).toHaveLength(1);
      const again = await accept(host, token);
      expect(again.statusCode).toBe(410);
      expect(errorOf(again).message).toContain('already used');
      expect((await view(host, token)).statusCode).toBe(410);
      expect((await auditOf(slug)).filter((row) => row.action === 'user.invitation_accepted' && row.actor === login)).toHaveLength(1);
    });
  }

  it('is looked up only in the store of the host asked: an acme invitation means nothing on globex or the platform host', async () => {
    await addInvitee('acme', 'hal');
    const token = tokenOf(await invite('acme-root', 'hal'));
    for (const host of [GLOBEX, PLATFORM]) {
      const described = await view(host, token);
      expect(described.statusCode).toBe(404);
      expect(errorOf(described).code).toBe('not_found');
      expect((await accept(host, token)).statusCode).toBe(404);
    }
    // Each miss counted as a failed attempt from the address, in globex's own store.
    const failures = await inTenant('globex', (db) => db.selectFrom('login_failure').select('id').where('ip', '=', '127.0.0.1').execute());
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect((await auditOf('globex')).map((row) => row.action)).toContain('user.invitation_refused');
    expect(await passwordOf('acme', 'hal')).toBeNull();
    expect((await view(ACME, token)).statusCode).toBe(200);
    expect((await accept(ACME, token)).statusCode).toBe(200);
  });

  it('refuses a password against the tenant\'s policy with its message, and the link stays usable', async () => {
    h.platform.settings.set('Security.password_require_complexity', '1', { tenant: 'acme' });
    try {
      await addInvitee('acme', 'iris');
      const token = tokenOf(await invite('acme-root', 'iris'));
      const policy = (await view(ACME, token)).json<{ passwordPolicy: { requireComplexity: boolean; hints: string[] } }>().passwordPolicy;
      expect(policy.requireComplexity).toBe(true);
      expect(policy.hints.join(' ')).toContain('three of');
      const weak = await accept(ACME, token, 'onlylowercaseletters');
      expect(weak.statusCode).toBe(400);
      expect(errorOf(weak)).toEqual({ code: 'weak_password', message: 'The password must mix at least three of: lower case, upper case, digits, symbols.' });
      const withLogin = await accept(ACME, token, 'Iris-Password-1');
      expect(errorOf(withLogin).code).toBe('weak_password');
      expect(errorOf(withLogin).message).toContain('The password must not contain the login.');
      expect(await passwordOf('acme', 'iris')).toBeNull();
      expect((await view(ACME, token)).statusCode).toBe(200);
      expect((await accept(ACME, token, 'Str0ng&Secret!')).statusCode).toBe(200);
    } finally {
      h.platform.settings.unset('Security.password_require_complexity', { tenant: 'acme' });
    }
  });

  it('a deactivated or deleted user\'s invitation cannot be used', async () => {
    await addInvitee('acme', 'jack');
    const token = tokenOf(await invite('acme-root', 'jack'));
    expect((await call('acme-root', 'PUT', '/api/v1/users/jack/active', { active: false })).statusCode).toBe(200);
    const described = await view(ACME, token);
    expect(described.statusCode).toBe(403);
    expect(errorOf(described).code).toBe('user_deactivated');
    expect((await accept(ACME, token)).statusCode).toBe(403);
    expect(await passwordOf('acme', 'jack')).toBeNull();
    const reinvite = await call('acme-root', 'POST', '/api/v1/users/jack/invitation');
    expect(reinvite.statusCode).toBe(400);
    expect(errorOf(reinvite).message).toContain('deactivated');

    await addInvitee('acme', 'kate');
    const kateToken = tokenOf(await invite('acme-root', 'kate'));
    expect((await call('acme-root', 'DELETE', '/api/v1/users/kate')).statusCode).toBe(204);
    expect((await view(ACME, kateToken)).statusCode).toBe(404);
    expect((await accept(ACME, kateToken)).statusCode).toBe(404);
  });

  it('keeps the invitation when mailing fails, and says why', async () => {
    h.platform.settings.set('Mail.smtp_port', String(await freePort()), { tenant: 'acme' });
    try {
      await addInvitee('acme', 'lena');
      const offer = await invite('acme-root', 'lena');
      expect(offer.emailed).toBe(false);
      expect(offer.emailError).toMatch(/^Sending mail through 127\.0\.0\.1:\d+ failed/);
      expect((await view(ACME, tokenOf(offer))).statusCode).toBe(200);
      expect((await auditOf('acme')).map((row) => row.action).slice(-2)).toEqual(['user.invited', 'user.invitation_email_failed']);
    } finally {
      h.platform.settings.set('Mail.smtp_port', String(smtpPort), { tenant: 'acme' });
    }
  });

  it('needs the right to create the user: super users, or site admins for users of their own sites', async () => {
    // A site admin creates and invites a user on its site (the user gets view there).
    const created = await call('acme-admin', 'POST', '/api/v1/users', { login: 'mia', email: 'mia@acme.example', invite: true, initialSiteId: 1 });
    expect(created.statusCode, created.body).toBe(201);
    const first = tokenOf(created.json<{ invitation: Offer }>().invitation);
    // Re-inviting replaces the pending link.
    const second = tokenOf(await invite('acme-admin', 'mia'));
    expect((await view(ACME, first)).statusCode).toBe(404);
    expect((await view(ACME, second)).statusCode).toBe(200);
    // Not a site admin's to invite: a user of a site it does not administer, an admin, a super user.
    await addInvitee('acme', 'nora', [1, 2]);
    const wider = await call('acme-admin', 'POST', '/api/v1/users/nora/invitation');
    expect(wider.statusCode).toBe(403);
    expect(errorOf(wider).message).toContain('site 2');
    await addInvitee('acme', 'otto');
    await h.asOperator('acme', (ctx) => setUserAccess(ctx, 'otto', 'admin', [1]));
    expect((await call('acme-admin', 'POST', '/api/v1/users/otto/invitation')).statusCode).toBe(403);
    expect((await call('acme-admin', 'POST', '/api/v1/users', { login: 'sue', email: 'sue@acme.example', invite: true, superuser: true })).statusCode).toBe(403);
    await addInvitee('acme', 'nobody-site');
    expect((await call('acme-admin', 'POST', '/api/v1/users/nobody-site/invitation')).statusCode).toBe(403);
    // No user-managing right at all: refused before the login is even looked up.
    expect((await call('acme-view', 'POST', '/api/v1/users/mia/invitation')).statusCode).toBe(403);
    expect((await call('acme-view', 'POST', '/api/v1/users/no-such-user/invitation')).statusCode).toBe(403);
    expect((await h.app.inject({ method: 'POST', url: '/api/v1/users/mia/invitation', headers: { host: ACME } })).statusCode).toBe(401);
    // Users with a password are not invited; unknown users and other tenants' users are unknown.
    const hasPassword = await call('acme-root', 'POST', '/api/v1/users/acme-view/invitation');
    expect(hasPassword.statusCode).toBe(400);
    expect(errorOf(hasPassword).message).toContain('already has a password');
    expect((await call('acme-root', 'POST', '/api/v1/users/no-such-user/invitation')).statusCode).toBe(404);
    expect((await call('globex-root', 'POST', '/api/v1/users/mia/invitation')).statusCode).toBe(404);
    // The old body keeps working, and a password with invite is refused.
    expect((await call('acme-root', 'POST', '/api/v1/users', { login: 'pam', email: 'pam@acme.example', password: TEST_PASSWORD })).statusCode).toBe(201);
    const both = await call('acme-root', 'POST', '/api/v1/users', { login: 'pia', email: 'pia@acme.example', password: TEST_PASSWORD, invite: true });
    expect(both.statusCode).toBe(400);
    expect(await inTenant('acme', (db) => identityStore.findUserByLogin(db, 'pia'))).toBeUndefined();
  });

  it('counts unknown tokens as failed attempts from the IP, and blocks it', async () => {
    const ip = '10.44.0.9';
    await addInvitee('globex', 'ray');
    const token = tokenOf(await invite('globex-root', 'ray'));
    for (let i = 0; i < 5; i += 1) {
      const guess = i % 2 === 0 ? await view(GLOBEX, `guess${'x'.repeat(38)}${i}`, ip) : await accept(GLOBEX, `guess${'y'.repeat(38)}${i}`, NEW_PASSWORD, ip);
      expect(guess.statusCode).toBe(404);
    }
    for (const blocked of [await view(GLOBEX, token, ip), await accept(GLOBEX, token, NEW_PASSWORD, ip)]) {
      expect(blocked.statusCode).toBe(403);
      expect(errorOf(blocked).code).toBe('ip_blocked');
    }
    // Another address, or the same one on another tenant, is not blocked.
    await addInvitee('acme', 'ray');
    expect((await view(ACME, tokenOf(await invite('acme-root', 'ray')), ip)).statusCode).toBe(200);
    expect((await accept(GLOBEX, token)).statusCode).toBe(200);
  });

  it('answers mfa_enrollment_required when the tenant requires MFA, exactly as sign-in does', async () => {
    h.platform.settings.set('Security.require_mfa', '1', { tenant: 'globex' });
    try {
      await addInvitee('globex', 'olga');
      const accepted = await accept(GLOBEX, tokenOf(await invite('globex-root', 'olga')));
      expect(accepted.statusCode, accepted.body).toBe(200);
      const body = accepted.json<{ status: string; csrfToken: string }>();
      expect(body).toMatchObject({ status: 'mfa_enrollment_required', login: 'olga' });
      const pending = { cookie: sessionCookieOf(accepted), csrf: body.csrfToken };
      expect((await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: GLOBEX, cookie: pending.cookie } })).statusCode).toBe(401);
      const enrol = await h.app.inject({ method: 'POST', url: '/auth/mfa/enroll', headers: { host: GLOBEX, cookie: pending.cookie, 'x-csrf-token': pending.csrf } });
      expect(enrol.statusCode).toBe(200);
      // The same answer as signing in with the new password.
      expect((await signIn(GLOBEX, 'olga', NEW_PASSWORD)).json()).toMatchObject({ status: 'mfa_enrollment_required' });
    } finally {
      h.platform.settings.unset('Security.require_mfa', { tenant: 'globex' });
    }
  });

  it('platform users are invited at the platform host; a platform admin acting in a tenant gets a link to the tenant\'s host', async () => {
    const offer = await invite('ops', 'pat');
    expect(offer.url).toMatch(/^http:\/\/platform\.test\/invitation\?token=/);
    expect((await view(ACME, tokenOf(offer))).statusCode).toBe(404);
    expect((await view(PLATFORM, tokenOf(offer))).json()).toMatchObject({ login: 'pat', tenantName: PLATFORM });
    const accepted = await accept(PLATFORM, tokenOf(offer));
    expect(accepted.json()).toMatchObject({ status: 'signed_in', login: 'pat' });
    const registryAudit = await (h.platform.registry.db as unknown as AuditDb).selectFrom('audit_entry').select(['action', 'actor', 'tenant']).orderBy('id').execute();
    expect(registryAudit.filter((row) => row.tenant === null).map((row) => row.action)).toEqual(expect.arrayContaining(['user.invited', 'user.invitation_accepted']));

    await addInvitee('acme', 'quinn');
    const acting = await invite('ops', 'quinn', { 'x-plura-tenant': 'acme' });
    expect(acting.url).toMatch(/^http:\/\/acme\.test\/invitation\?token=/);
    expect(acting.emailed).toBe(true);
    expect((await auditOf('acme')).filter((row) => row.action === 'user.invited').at(-1)).toEqual({ action: 'user.invited', actor: 'platform:ops' });
    expect((await accept(ACME, tokenOf(acting))).json()).toMatchObject({ status: 'signed_in', login: 'quinn' });
  });
});
