import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { unblockIp } from './brute-force.js';
import { identityDbFor } from './context.js';
import { currentTotp } from './totp.js';
import { issueSetupToken } from './login.service.js';
import { openHarness, sessionCookieOf, signInOver, tokenFor, TEST_PASSWORD, type Harness } from '../http/test-support/harness.js';

const HOST = 'acme.test';

describe('identity over HTTP (sign-in, sessions, tokens, MFA, brute force, audit)', () => {
  let h: Harness;
  let site1: number;

  beforeAll(async () => {
    h = await openHarness({ PLURA_SECURITY_BRUTE_FORCE_MAX_RETRIES: '3', PLURA_SECURITY_PASSWORD_HISTORY: '2' });
    await h.addTenant('acme', [HOST]);
    await h.addTenant('globex', ['globex.test']);
  });
  afterAll(() => h.close());
  // Refused tokens count as failed attempts (as in Matomo) and every test here sends from the same
  // address: each test starts with it unblocked, as an operator would after a mistake.
  beforeEach(async () => {
    for (const slug of ['acme', 'globex']) await h.asOperator(slug, (ctx) => unblockIp(identityDbFor(ctx.platform, ctx.scope), '127.0.0.1'));
  });

  it('creates the first super user through a one-time setup link, and refuses it a second time', async () => {
    const tenant = await h.platform.tenants.get('acme');
    const token = await h.platform.withStore(tenant, (store) => issueSetupToken(h.platform, { kind: 'tenant', tenant, store }));
    expect(token).toBeTruthy();
    const page = await h.app.inject({ method: 'GET', url: `/setup?token=${token}`, headers: { host: HOST } });
    expect(page.statusCode).toBe(200);
    const weak = await h.app.inject({ method: 'POST', url: '/setup', headers: { host: HOST }, payload: { token, login: 'root', email: 'root@acme.test', password: 'short' } });
    expect(weak.statusCode).toBe(400);
    expect(weak.json()).toMatchObject({ error: { code: 'weak_password' } });
    const created = await h.app.inject({ method: 'POST', url: '/setup', headers: { host: HOST }, payload: { token, login: 'root', email: 'root@acme.test', password: TEST_PASSWORD } });
    expect(created.statusCode).toBe(201);
    const again = await h.app.inject({ method: 'POST', url: '/setup', headers: { host: HOST }, payload: { token, login: 'root2', email: 'r2@acme.test', password: TEST_PASSWORD } });
    expect(again.statusCode).toBe(401);
    expect(again.json()).toMatchObject({ error: { code: 'invalid_token' } });
    // Once a super user exists, no new link is issued.
    expect(await h.platform.withStore(tenant, (store) => issueSetupToken(h.platform, { kind: 'tenant', tenant, store }))).toBeNull();
    site1 = await h.addSite('acme', 'shop');
  });

  it('signs in with a session cookie (HttpOnly, SameSite=Lax) and answers /api/v1/me', async () => {
    const response = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: HOST }, payload: { login: 'root', password: TEST_PASSWORD } });
    expect(response.statusCode).toBe(200);
    const cookie = response.cookies.find((c) => c.name === 'plura_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    const me = await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: HOST, cookie: sessionCookieOf(response) } });
    expect(me.json()).toMatchObject({ kind: 'tenant_user', tenant: 'acme', superuser: true, user: { login: 'root' } });
  });

  it('accepts a form-encoded sign-in too, and refuses a wrong password with 401', async () => {
    const form = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: HOST, 'content-type': 'application/x-www-form-urlencoded' }, payload: `login=root&password=${encodeURIComponent(TEST_PASSWORD)}` });
    expect(form.statusCode).toBe(200);
    const wrong = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: HOST }, payload: { login: 'root', password: 'nope-nope' }, remoteAddress: '10.9.9.9' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ error: { code: 'invalid_credentials', message: 'Wrong username and/or password.' } });
  });

  it('a tenant user cannot sign in at another tenant\'s host', async () => {
    const other = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: 'globex.test' }, payload: { login: 'root', password: TEST_PASSWORD } });
    expect(other.statusCode).toBe(401);
  });

  it('refuses a cookie-authenticated change without the CSRF token, and accepts it with', async () => {
    const session = await signInOver(h.app, HOST, 'root');
    const payload = { login: 'carol', email: 'carol@acme.test', password: TEST_PASSWORD };
    const without = await h.app.inject({ method: 'POST', url: '/api/v1/users', headers: { host: HOST, cookie: session.cookie }, payload });
    expect(without.statusCode).toBe(403);
    expect(without.json()).toMatchObject({ error: { code: 'csrf_failed' } });
    const withToken = await h.app.inject({ method: 'POST', url: '/api/v1/users', headers: { host: HOST, cookie: session.cookie, 'x-csrf-token': session.csrf }, payload });
    expect(withToken.statusCode).toBe(201);
  });

  it('logs out one session, and logout-everywhere ends them all', async () => {
    const a = await signInOver(h.app, HOST, 'carol');
    const b = await signInOver(h.app, HOST, 'carol');
    const out = await h.app.inject({ method: 'POST', url: '/auth/logout', headers: { host: HOST, cookie: a.cookie, 'x-csrf-token': a.csrf } });
    expect(out.statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: HOST, cookie: a.cookie } })).statusCode).toBe(401);
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: HOST, cookie: b.cookie } })).statusCode).toBe(200);
    const c = await signInOver(h.app, HOST, 'carol');
    await h.app.inject({ method: 'POST', url: '/auth/logout-everywhere', headers: { host: HOST, cookie: c.cookie, 'x-csrf-token': c.csrf } });
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: HOST, cookie: b.cookie } })).statusCode).toBe(401);
  });

  it('issues 32-hex tokens shown once, stored hashed; a lowered role or deleted user takes effect on the next call', async () => {
    await h.addUser('acme', 'dave');
    await h.asOperator('acme', async (ctx) => {
      const { setUserAccess } = await import('./users.service.js');
      await setUserAccess(ctx, 'dave', 'admin', [site1]);
    });
    const token = await tokenFor(h.app, HOST, 'dave');
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    const stored = await h.asOperator('acme', async (ctx) => (ctx.scope.kind === 'tenant' ? ctx.scope.store.db.selectFrom('auth_token').select('token_hash').execute() : []));
    expect(stored.map((row) => row.token_hash)).not.toContain(token);

    const call = (method: string) => h.app.inject({ method: 'POST', url: '/index.php', headers: { host: HOST }, payload: { module: 'API', method, format: 'json', token_auth: token, idSite: String(site1) } });
    expect((await call('UsersManager.getUsersAccessFromSite')).json()).toMatchObject({ dave: 'admin' });
    await h.asOperator('acme', async (ctx) => {
      const { setUserAccess } = await import('./users.service.js');
      await setUserAccess(ctx, 'dave', 'view', [site1]);
    });
    const lowered = await call('UsersManager.getUsersAccessFromSite');
    expect(lowered.statusCode).toBe(401);
    expect(lowered.json()).toEqual({ result: 'error', message: `You can't access this resource as it requires admin access for the website id = ${site1}.` });
    await h.asOperator('acme', async (ctx) => {
      const { deleteUser } = await import('./users.service.js');
      await deleteUser(ctx, 'dave');
    });
    const gone = await call('SitesManager.getSiteFromId');
    expect(gone.statusCode).toBe(401);
    expect(gone.json()).toMatchObject({ result: 'error', message: expect.stringContaining('Unable to authenticate with the provided token') as string });
  });

  it('refuses a POST-only token sent in the query string, and malformed or expired tokens', async () => {
    await h.addUser('acme', 'erin');
    await h.asOperator('acme', async (ctx) => {
      const { setUserAccess } = await import('./users.service.js');
      await setUserAccess(ctx, 'erin', 'view', [site1]);
    });
    const session = await signInOver(h.app, HOST, 'erin');
    const created = await h.app.inject({ method: 'POST', url: '/api/v1/users/erin/tokens', headers: { host: HOST, cookie: session.cookie, 'x-csrf-token': session.csrf }, payload: { description: 'ci', postOnly: true } });
    const { token } = created.json<{ token: string }>();
    const viaGet = await h.app.inject({ method: 'GET', url: `/index.php?module=API&method=SitesManager.getSiteFromId&idSite=${site1}&format=json&token_auth=${token}`, headers: { host: HOST } });
    expect(viaGet.statusCode).toBe(401);
    expect(viaGet.json<{ message: string }>().message).toContain('sent as a POST parameter');
    const viaPost = await h.app.inject({ method: 'POST', url: '/index.php', headers: { host: HOST }, payload: { module: 'API', method: 'SitesManager.getSiteFromId', idSite: String(site1), format: 'json', token_auth: token } });
    expect(viaPost.json()).toMatchObject({ idsite: site1, name: 'shop' });
    const malformed = await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: HOST, authorization: 'Bearer not-a-token' } });
    expect(malformed.statusCode).toBe(401);
    expect(malformed.json()).toMatchObject({ error: { code: 'invalid_token' } });
    const expired = await h.app.inject({
      method: 'POST',
      url: '/api/v1/users/erin/tokens',
      headers: { host: HOST, cookie: session.cookie, 'x-csrf-token': session.csrf },
      payload: { description: 'old', expiresAt: '2001-01-01T00:00:00Z' },
    });
    expect(expired.statusCode).toBe(400);
  });

  it('enforces the password policy and history, and a password change ends the other sessions', async () => {
    await h.addUser('acme', 'frank');
    const other = await signInOver(h.app, HOST, 'frank');
    const mine = await signInOver(h.app, HOST, 'frank');
    const change = (password: string) =>
      h.app.inject({ method: 'PATCH', url: '/api/v1/users/frank', headers: { host: HOST, cookie: mine.cookie, 'x-csrf-token': mine.csrf }, payload: { password, passwordConfirmation: currentPassword } });
    let currentPassword = TEST_PASSWORD;
    expect((await change('abc')).json()).toMatchObject({ error: { code: 'weak_password' } });
    expect((await change('frank-is-me-1')).json()).toMatchObject({ error: { message: expect.stringContaining('must not contain the login') as string } });
    expect((await change(TEST_PASSWORD)).json()).toMatchObject({ error: { code: 'weak_password', message: expect.stringContaining('last 2 passwords') as string } });
    const ok = await change('a brand new secret');
    expect(ok.statusCode).toBe(200);
    currentPassword = 'a brand new secret';
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: HOST, cookie: other.cookie } })).statusCode).toBe(401);
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: HOST, cookie: mine.cookie } })).statusCode).toBe(200);
    const wrongConfirmation = await h.app.inject({ method: 'PATCH', url: '/api/v1/users/frank', headers: { host: HOST, cookie: mine.cookie, 'x-csrf-token': mine.csrf }, payload: { password: 'yet another secret', passwordConfirmation: 'wrong' } });
    expect(wrongConfirmation.json()).toMatchObject({ error: { code: 'confirmation_required' } });
  });

  it('enrols TOTP with recovery codes, requires the code at sign-in, and refuses a replayed code', async () => {
    await h.addUser('acme', 'grace');
    const session = await signInOver(h.app, HOST, 'grace');
    const enrol = await h.app.inject({ method: 'POST', url: '/auth/mfa/enroll', headers: { host: HOST, cookie: session.cookie, 'x-csrf-token': session.csrf } });
    const { secret, uri, recoveryCodes } = enrol.json<{ secret: string; uri: string; recoveryCodes: string[] }>();
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
    expect(recoveryCodes).toHaveLength(10);
    const confirm = await h.app.inject({ method: 'POST', url: '/auth/mfa/enroll/confirm', headers: { host: HOST, cookie: session.cookie, 'x-csrf-token': session.csrf }, payload: { code: currentTotp(secret) } });
    expect(confirm.statusCode).toBe(200);

    const first = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: HOST }, payload: { login: 'grace', password: TEST_PASSWORD } });
    expect(first.json()).toMatchObject({ status: 'mfa_required' });
    const pending = { cookie: sessionCookieOf(first), csrf: first.json<{ csrfToken: string }>().csrfToken };
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: HOST, cookie: pending.cookie } })).json()).toMatchObject({ error: { code: 'mfa_required' } });
    // The code used to confirm enrolment is spent: replaying it fails.
    const replay = await h.app.inject({ method: 'POST', url: '/auth/mfa', headers: { host: HOST, cookie: pending.cookie, 'x-csrf-token': pending.csrf }, payload: { code: currentTotp(secret) } });
    expect(replay.statusCode).toBe(401);
    expect(replay.json()).toMatchObject({ error: { code: 'invalid_mfa_code' } });
    const recovery = await h.app.inject({ method: 'POST', url: '/auth/mfa', headers: { host: HOST, cookie: pending.cookie, 'x-csrf-token': pending.csrf }, payload: { code: recoveryCodes[0]?.toLowerCase() ?? '' } });
    expect(recovery.json()).toMatchObject({ status: 'signed_in' });
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: HOST, cookie: pending.cookie } })).statusCode).toBe(200);
    const reuse = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: HOST }, payload: { login: 'grace', password: TEST_PASSWORD, totp: recoveryCodes[0] ?? '' } });
    expect(reuse.statusCode).toBe(401);
  });

  it('requires MFA enrolment at the next sign-in when MFA is required, and ends idle sessions', async () => {
    await h.addUser('acme', 'ivan');
    await h.asOperator('acme', async (ctx) => {
      const { updateUser } = await import('./users.service.js');
      await updateUser(ctx, 'ivan', { requireMfa: true });
    });
    const first = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: HOST }, payload: { login: 'ivan', password: TEST_PASSWORD } });
    expect(first.json()).toMatchObject({ status: 'mfa_enrollment_required' });
    const pending = { cookie: sessionCookieOf(first), csrf: first.json<{ csrfToken: string }>().csrfToken };
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/users', headers: { host: HOST, cookie: pending.cookie } })).statusCode).toBe(401);
    const enrol = await h.app.inject({ method: 'POST', url: '/auth/mfa/enroll', headers: { host: HOST, cookie: pending.cookie, 'x-csrf-token': pending.csrf } });
    const { secret } = enrol.json<{ secret: string }>();
    const confirm = await h.app.inject({ method: 'POST', url: '/auth/mfa/enroll/confirm', headers: { host: HOST, cookie: pending.cookie, 'x-csrf-token': pending.csrf }, payload: { code: currentTotp(secret) } });
    expect(confirm.json()).toMatchObject({ status: 'signed_in', mfa: true });
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: HOST, cookie: pending.cookie } })).json()).toMatchObject({ user: { login: 'ivan', uses_2fa: true } });

    // An hour and more without activity ends a session that was not remembered.
    await h.asOperator('acme', async (ctx) => {
      if (ctx.scope.kind !== 'tenant') return;
      await ctx.scope.store.db.updateTable('session').set({ last_seen_at: '2000-01-01T00:00:00.000Z' }).execute();
    });
    const expired = await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: HOST, cookie: pending.cookie } });
    expect(expired.statusCode).toBe(401);
    expect(expired.json()).toMatchObject({ error: { code: 'session_expired' } });
  });

  it('keeps a "remember me" session as a persistent cookie', async () => {
    const response = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: HOST }, payload: { login: 'root', password: TEST_PASSWORD, remember: true } });
    const cookie = response.cookies.find((c) => c.name === 'plura_session');
    expect(cookie?.maxAge).toBe(1209600);
  });

  it('blocks an IP after N failed sign-ins for this tenant only, and the operator can unblock it', async () => {
    const attempt = (host: string, password: string) =>
      h.app.inject({ method: 'POST', url: '/auth/login', headers: { host }, payload: { login: 'root', password }, remoteAddress: '198.51.100.7' });
    for (let i = 0; i < 3; i += 1) expect((await attempt(HOST, 'wrong-password')).statusCode).toBe(401);
    const blocked = await attempt(HOST, TEST_PASSWORD);
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json()).toMatchObject({ error: { code: 'ip_blocked', message: expect.stringContaining('198.51.100.7') as string } });
    // Another tenant does not share the block.
    expect((await attempt('globex.test', 'wrong-password')).json()).toMatchObject({ error: { code: 'invalid_credentials' } });
    const admin = await signInOver(h.app, HOST, 'root');
    const list = await h.app.inject({ method: 'GET', url: '/api/v1/security/blocked-ips', headers: { host: HOST, cookie: admin.cookie } });
    expect(list.json()).toMatchObject({ blocked: [{ ip: '198.51.100.7', failures: 3 }] });
    const lift = await h.app.inject({ method: 'DELETE', url: '/api/v1/security/blocked-ips/198.51.100.7', headers: { host: HOST, cookie: admin.cookie, 'x-csrf-token': admin.csrf } });
    expect(lift.statusCode).toBe(204);
    expect((await attempt(HOST, TEST_PASSWORD)).statusCode).toBe(200);
  });

  it('explains access decisions with the grant that decided them', async () => {
    await h.addUser('acme', 'heidi');
    await h.asOperator('acme', async (ctx) => {
      const { setUserAccess, changeCapabilities } = await import('./users.service.js');
      await setUserAccess(ctx, 'heidi', 'view', [site1]);
      await changeCapabilities(ctx, 'heidi', ['manage_goals'], [site1], true);
    });
    const admin = await signInOver(h.app, HOST, 'root');
    const explain = (capability: string) =>
      h.app.inject({ method: 'GET', url: `/api/v1/access/explain?user=heidi&capability=${capability}&site=${site1}`, headers: { host: HOST, cookie: admin.cookie } });
    expect((await explain('manage_goals')).json()).toMatchObject({ allowed: true, role: 'view', reason: `capability manage_goals granted on site ${site1}` });
    expect((await explain('configure_site')).json()).toMatchObject({ allowed: false, reason: `role view on site ${site1} does not include configure_site` });
    expect((await explain('nonsense')).statusCode).toBe(400);
    const heidi = await signInOver(h.app, HOST, 'heidi');
    const notHers = await h.app.inject({ method: 'GET', url: `/api/v1/access/explain?user=root&capability=view_reports`, headers: { host: HOST, cookie: heidi.cookie } });
    expect(notHers.statusCode).toBe(403);
  });

  it('records every security event in a hash chain that detects tampering', async () => {
    const admin = await signInOver(h.app, HOST, 'root');
    const log = await h.app.inject({ method: 'GET', url: '/api/v1/audit?limit=-1', headers: { host: HOST, cookie: admin.cookie } });
    const actions = new Set(log.json<{ entries: { action: string }[] }>().entries.map((entry) => entry.action));
    for (const action of ['user.created', 'login.success', 'login.failure', 'token.created', 'token.first_use', 'access.role_changed', 'user.deleted', 'user.password_changed', 'mfa.enrolled', 'mfa.recovery_code_used', 'site.created', 'security.ip_unblocked', 'logout']) {
      expect(actions, action).toContain(action);
    }
    const csv = await h.app.inject({ method: 'GET', url: '/api/v1/audit?format=csv&action=login.*', headers: { host: HOST, cookie: admin.cookie } });
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.split('\n')[0]).toBe('id,created_at,actor,actor_kind,tenant,site_id,ip,action,before,after,hash');
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: { host: HOST, cookie: admin.cookie } })).json()).toMatchObject({ ok: true });
    await h.asOperator('acme', async (ctx) => {
      if (ctx.scope.kind !== 'tenant') return;
      await ctx.scope.store.db.updateTable('audit_entry').set({ actor: 'someone-else' }).where('id', '=', 3).execute();
    });
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: { host: HOST, cookie: admin.cookie } })).json()).toMatchObject({ ok: false, entryId: 3 });
  });
});

describe('IP allowlist and rate limits', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness();
    await h.addTenant('locked', ['locked.test']);
    await h.addTenant('busy', ['busy.test']);
    // Tenant settings files are written before the tenants' settings are first read.
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    writeFileSync(join(h.dataDir, 'tenants/locked/config.ini'), '[Security]\nlogin_allowlist_ip[] = 10.0.0.0/8\nlogin_allowlist_ip[] = 2001:db8::/32\n');
    writeFileSync(join(h.dataDir, 'tenants/busy/config.ini'), '[Security]\napi_rate_limit_per_minute = 3\n');
    await h.addUser('busy', 'bob', { superuser: true });
    await h.addUser('locked', 'lee', { superuser: true });
  });
  afterAll(() => h.close());

  it('refuses the UI and the API from outside the allowlist with a clear 403', async () => {
    const outside = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: 'locked.test' }, payload: { login: 'lee', password: TEST_PASSWORD }, remoteAddress: '192.0.2.1' });
    expect(outside.statusCode).toBe(403);
    expect(outside.json()).toMatchObject({ error: { code: 'ip_not_allowed', message: expect.stringContaining('192.0.2.1') as string } });
    const api = await h.app.inject({ method: 'GET', url: '/index.php?module=API&method=API.getMatomoVersion&format=json', headers: { host: 'locked.test' }, remoteAddress: '192.0.2.1' });
    expect(api.statusCode).toBe(401);
    expect(api.json()).toMatchObject({ result: 'error' });
    for (const ip of ['10.1.2.3', '2001:db8::5', '::ffff:10.0.0.9']) {
      const inside = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: 'locked.test' }, payload: { login: 'lee', password: TEST_PASSWORD }, remoteAddress: ip });
      expect(inside.statusCode, ip).toBe(200);
    }
  });

  it('answers 429 with Retry-After past the per-minute limit, counted per tenant', async () => {
    const token = await tokenFor(h.app, 'busy.test', 'bob');
    const call = () => h.app.inject({ method: 'GET', url: '/api/v1/sites', headers: { host: 'busy.test', authorization: `Bearer ${token}` } });
    // tokenFor spent one call (the token creation); two more fit under 3 per minute.
    expect((await call()).statusCode).toBe(200);
    expect((await call()).statusCode).toBe(200);
    const limited = await call();
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json()).toMatchObject({ error: { code: 'rate_limited' } });
    const matomo = await h.app.inject({ method: 'POST', url: '/index.php', headers: { host: 'busy.test' }, payload: { module: 'API', method: 'SitesManager.getSitesIdWithAtLeastViewAccess', format: 'json', token_auth: token } });
    expect(matomo.statusCode).toBe(429);
    expect(matomo.headers['retry-after']).toBeDefined();
    // lee is user 1 of tenant "locked" as bob is user 1 of "busy": counters are per tenant, so lee is untouched.
    const signIn = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: 'locked.test' }, payload: { login: 'lee', password: TEST_PASSWORD }, remoteAddress: '10.1.1.1' });
    const cookie = sessionCookieOf(signIn);
    for (let i = 0; i < 5; i += 1) {
      const response = await h.app.inject({ method: 'GET', url: '/api/v1/sites', headers: { host: 'locked.test', cookie }, remoteAddress: '10.1.1.1' });
      expect(response.statusCode).toBe(200);
    }
  });
  it('deactivating a user ends its sessions and refuses its tokens and sign-in; reactivating lets the token work again', async () => {
    await h.addTenant('initech', ['initech.test']);
    await h.addUser('initech', 'boss', { superuser: true });
    await h.addUser('initech', 'leaver');
    const boss = await signInOver(h.app, 'initech.test', 'boss');
    const session = await signInOver(h.app, 'initech.test', 'leaver');
    const token = await tokenFor(h.app, 'initech.test', 'leaver');
    const me = (headers: Record<string, string>) => h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: 'initech.test', ...headers } });
    expect((await me({ cookie: session.cookie })).statusCode).toBe(200);
    expect((await me({ authorization: `Bearer ${token}` })).statusCode).toBe(200);

    const off = await h.app.inject({ method: 'PUT', url: '/api/v1/users/leaver/active', headers: { host: 'initech.test', cookie: boss.cookie, 'x-csrf-token': boss.csrf }, payload: { active: false } });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json()).toMatchObject({ login: 'leaver', active: false });
    expect((await me({ cookie: session.cookie })).statusCode).toBe(401);
    expect((await me({ authorization: `Bearer ${token}` })).statusCode).toBe(401);
    const password = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: 'initech.test' }, payload: { login: 'leaver', password: TEST_PASSWORD } });
    expect(password.statusCode).toBe(403);
    expect(password.json()).toMatchObject({ error: { code: 'user_deactivated' } });
    const wrong = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: 'initech.test' }, payload: { login: 'leaver', password: 'not the password' } });
    expect(wrong.json()).toMatchObject({ error: { code: 'invalid_credentials' } });

    const on = await h.app.inject({ method: 'PUT', url: '/api/v1/users/leaver/active', headers: { host: 'initech.test', cookie: boss.cookie, 'x-csrf-token': boss.csrf }, payload: { active: true } });
    expect(on.json()).toMatchObject({ active: true });
    expect((await me({ authorization: `Bearer ${token}` })).statusCode).toBe(200);
    expect((await me({ cookie: session.cookie })).statusCode).toBe(401);

    const last = await h.app.inject({ method: 'PUT', url: '/api/v1/users/boss/active', headers: { host: 'initech.test', cookie: boss.cookie, 'x-csrf-token': boss.csrf }, payload: { active: false } });
    expect(last.statusCode).toBe(403);
    expect(last.json<{ error: { message: string } }>().error.message).toContain('last active super user');
    const audit = await h.asOperator('initech', (ctx) => (ctx.scope.kind === 'tenant' ? ctx.scope.store.db.selectFrom('audit_entry').select('action').execute() : Promise.resolve([])));
    expect(audit.map((row) => row.action)).toEqual(expect.arrayContaining(['user.deactivated', 'user.reactivated', 'login.refused_deactivated']));
  });
});
