import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { openHarness, signInOver, type Harness } from '../http/test-support/harness.js';
import { freePort } from '../http/test-support/free-port.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { identityStore } from '../access/identity.store.js';
import { createUser, setUserAccess, setUserActive } from '../access/users.service.js';
import { identityDbFor } from '../access/context.js';
import { createGroup } from '../workspace/groups.service.js';

const SECRET = 'a-shared-secret-of-at-least-32-characters!';
const ACME = 'acme.test';
const GLOBEX = 'globex.test';
const PLATFORM = 'platform.test';

interface TokenInput {
  readonly email?: string;
  readonly tenant?: string | null;
  readonly groups?: readonly string[];
  readonly jti?: string;
  readonly expiresIn?: string;
  readonly first_name?: string;
  readonly last_name?: string;
}

async function hsToken(input: TokenInput = {}, secret = SECRET): Promise<string> {
  const claims: Record<string, unknown> = {
    email: input.email ?? 'ann@customer.example',
    first_name: input.first_name ?? 'Ann',
    last_name: input.last_name ?? 'Lee',
    groups: input.groups ?? [],
  };
  if (input.tenant !== null) claims['@tenant'] = input.tenant ?? 'acme';
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(input.expiresIn ?? '2m')
    .setJti(input.jti ?? randomUUID())
    .sign(new TextEncoder().encode(secret));
}

const signInUrl = (token: string, returnTo = '/reports'): string => `/auth/sso/jwt?jwt=${encodeURIComponent(token)}&return_to=${encodeURIComponent(returnTo)}`;

function cookieOf(response: LightMyRequestResponse): string {
  const cookie = response.cookies.find((c) => c.name === 'plura_session');
  if (!cookie) throw new Error(`no session cookie: ${response.statusCode} ${response.body}`);
  return `plura_session=${cookie.value}`;
}

interface Me {
  readonly kind: string;
  readonly superuser?: boolean;
  readonly user: { login: string; email: string } | null;
  readonly sites?: { site: number; role: string }[];
  readonly attributes?: Record<string, string>;
}

describe('JWT sign-in', () => {
  let h: Harness;
  let pg: TestPostgresDatabase;
  let jwks: Server;
  let jwksUrl = '';
  let rsaKey: CryptoKey;
  let ecKey: CryptoKey;

  const me = async (host: string, cookie: string): Promise<Me> => {
    const response = await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host, cookie } });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<Me>();
  };
  const signIn = (host: string, token: string, returnTo?: string) => h.app.inject({ method: 'GET', url: signInUrl(token, returnTo), headers: { host } });
  const tenantUsers = (slug: string) => h.asOperator(slug, (ctx) => identityStore.listUsers(identityDbFor(ctx.platform, ctx.scope)));
  const auditActions = (slug: string) =>
    h.asOperator(slug, async (ctx) =>
      (ctx.scope.kind === 'tenant' ? await ctx.scope.store.db.selectFrom('audit_entry').select(['action', 'after_json']).orderBy('id').execute() : []),
    );

  beforeAll(async () => {
    pg = await createTestPostgresDatabase('jwt');
    h = await openHarness({ PLURA_GENERAL_PLATFORM_HOST: PLATFORM, PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix });
    await h.addTenant('acme', [ACME]);
    await h.addTenant('globex', [GLOBEX], pg.url);
    for (const slug of ['acme', 'globex']) {
      await h.addSite(slug, `${slug}-one`);
      await h.addSite(slug, `${slug}-two`);
      await h.addSite(slug, `${slug}-three`);
    }
    // Platform-wide settings (common.ini): every tenant inherits them.
    h.platform.settings.set('JWT.enabled', '1');
    h.platform.settings.set('JWT.shared_secret', SECRET);
    h.platform.settings.set('JWT.user_provisioning', '1');
    h.platform.settings.set('SSO.role_mapping', 'Analytics-Admins = superuser,Site1-Viewers = site:1:view,Analysts = site:1:write,site:2:write');

    // A real JWKS endpoint for the RS256/ES256 cases.
    const rsa = await generateKeyPair('RS256');
    const ec = await generateKeyPair('ES256');
    rsaKey = rsa.privateKey;
    ecKey = ec.privateKey;
    const keys = [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ];
    const port = await freePort();
    jwks = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => jwks.listen(port, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${port}/jwks.json`;
  });

  afterAll(async () => {
    await h?.close();
    await pg?.drop();
    await new Promise((resolve) => jwks.close(resolve));
  });

  it('signs a new user in at its tenant host, provisions it with its names and redirects to return_to', async () => {
    const response = await signIn(ACME, await hsToken({ email: 'Ann@Customer.example' }), '/reports?idSite=1');
    expect(response.statusCode, response.body).toBe(303);
    expect(response.headers.location).toBe('/reports?idSite=1');
    const who = await me(ACME, cookieOf(response));
    expect(who).toMatchObject({ kind: 'tenant_user', user: { login: 'ann@customer.example', email: 'ann@customer.example' } });
    const user = (await tenantUsers('acme')).find((u) => u.email === 'ann@customer.example');
    expect(user).toMatchObject({ first_name: 'Ann', last_name: 'Lee', password_hash: null });
    const actions = (await auditActions('acme')).map((entry) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(['sso.user_provisioned', 'login.success']));
  });

  it('refreshes mapped rights on every sign-in: grants, removes what a group no longer grants, keeps hand grants', async () => {
    const email = 'bob@customer.example';
    let response = await signIn(ACME, await hsToken({ email, groups: ['Site1-Viewers'] }));
    let who = await me(ACME, cookieOf(response));
    expect(who.sites).toEqual([{ site: 1, role: 'view', capabilities: [] }]);

    // By hand: view on site 2 and admin on site 3.
    await h.asOperator('acme', async (ctx) => {
      await setUserAccess(ctx, email, 'view', [2]);
      await setUserAccess(ctx, email, 'admin', [3]);
    });
    response = await signIn(ACME, await hsToken({ email, groups: ['Analysts'] }));
    who = await me(ACME, cookieOf(response));
    expect(Object.fromEntries((who.sites ?? []).map((s) => [s.site, s.role]))).toEqual({ 1: 'write', 2: 'write', 3: 'admin' });

    // The group is gone: site 1 loses its mapped role, site 2 falls back to the hand-granted view, site 3 stays.
    response = await signIn(ACME, await hsToken({ email, groups: [] }));
    who = await me(ACME, cookieOf(response));
    expect(Object.fromEntries((who.sites ?? []).map((s) => [s.site, s.role]))).toEqual({ 2: 'view', 3: 'admin' });

    response = await signIn(ACME, await hsToken({ email, groups: ['Analytics-Admins'] }));
    expect((await me(ACME, cookieOf(response))).superuser).toBe(true);
    response = await signIn(ACME, await hsToken({ email, groups: ['Site1-Viewers'] }));
    who = await me(ACME, cookieOf(response));
    expect(who.superuser).toBe(false);
    expect(Object.fromEntries((who.sites ?? []).map((s) => [s.site, s.role]))).toEqual({ 1: 'view', 2: 'view', 3: 'admin' });
    const changes = (await auditActions('acme')).filter((entry) => entry.action === 'sso.rights_changed');
    expect(changes.length).toBeGreaterThanOrEqual(4);
  });

  it('refuses with the exact meaning: no tenant claim, another tenant, inactive tenant, internal user with a claim', async () => {
    let response = await signIn(ACME, await hsToken({ tenant: null }));
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ error: { code: 'sso_refused', message: 'Tenant claim required for external user.' } });

    response = await signIn(ACME, await hsToken({ tenant: 'globex' }));
    expect(response.json()).toEqual({ error: { code: 'sso_refused', message: 'Tenant ID mismatch with existing user.' } });

    // A platform user: a token naming a tenant for its email is refused at the platform host.
    await createUser({ platform: h.platform, scope: { kind: 'platform' }, actor: { kind: 'system', name: 'test' }, ip: null }, { login: 'operator', email: 'ops@platform.example', password: null });
    response = await signIn(PLATFORM, await hsToken({ email: 'ops@platform.example', tenant: 'acme' }));
    expect(response.json()).toEqual({ error: { code: 'sso_refused', message: 'Cannot add tenant claim to internal user.' } });

    await h.addTenant('sleepy', ['sleepy.test']);
    await h.platform.tenants.setStatus('sleepy', 'deactivated');
    response = await signIn(PLATFORM, await hsToken({ tenant: 'sleepy' }));
    expect(response.json()).toEqual({ error: { code: 'sso_refused', message: 'Tenant is not active.' } });
    const audit = await h.platform.registry.db.selectFrom('audit_entry').select('after_json').where('action', '=', 'sso.refused').execute();
    expect(audit.map((entry) => entry.after_json ?? '').join('\n')).toContain('Tenant is not active.');
  });

  it('refuses expired, badly signed, unsigned (alg none), replayed and oversized tokens, and off-site return_to', async () => {
    const expired = await new SignJWT({ email: 'x@customer.example', '@tenant': 'acme' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 300)
      .setJti(randomUUID())
      .sign(new TextEncoder().encode(SECRET));
    expect((await signIn(ACME, expired)).json()).toEqual({ error: { code: 'sso_refused', message: 'The token has expired.' } });

    const forged = await hsToken({ email: 'x@customer.example' }, 'another-secret-that-is-long-enough-to-pass');
    expect((await signIn(ACME, forged)).json()).toEqual({ error: { code: 'sso_refused', message: 'The token signature is not valid.' } });

    const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ email: 'x@customer.example', '@tenant': 'acme', jti: 'n1', exp: Math.floor(Date.now() / 1000) + 60 })}.`;
    const none = await signIn(ACME, unsigned);
    expect(none.statusCode).toBe(401);
    expect(none.json<{ error: { message: string } }>().error.message).toContain('"none" is not accepted');

    const token = await hsToken({ email: 'replay@customer.example' });
    expect((await signIn(ACME, token)).statusCode).toBe(303);
    const replay = await signIn(ACME, token);
    expect(replay.statusCode).toBe(401);
    expect(replay.json<{ error: { message: string } }>().error.message).toContain('already used');

    const huge = await signIn(ACME, `${'a'.repeat(20_000)}.b.c`);
    expect(huge.statusCode).toBe(413);

    for (const target of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
      const offSite = await signIn(ACME, await hsToken({ email: 'c@customer.example' }), target);
      expect(offSite.statusCode, target).toBe(400);
      expect(offSite.json<{ error: { code: string } }>().error.code).toBe('invalid_input');
    }
    expect((await tenantUsers('acme')).some((u) => u.email === 'x@customer.example' || u.email === 'c@customer.example')).toBe(false);
    expect((await signIn(ACME, 'not-a-jwt')).json<{ error: { code: string } }>().error.code).toBe('sso_refused');
  });

  it('refuses unknown users without provisioning, and deactivated users; nothing is created', async () => {
    h.platform.settings.set('JWT.user_provisioning', '0', { tenant: 'acme' });
    const refused = await signIn(ACME, await hsToken({ email: 'nobody@customer.example' }));
    expect(refused.statusCode).toBe(401);
    expect(refused.json<{ error: { message: string } }>().error.message).toContain('does not create users');
    expect((await tenantUsers('acme')).some((u) => u.email === 'nobody@customer.example')).toBe(false);
    h.platform.settings.unset('JWT.user_provisioning', { tenant: 'acme' });

    const first = await signIn(ACME, await hsToken({ email: 'dee@customer.example' }));
    const cookie = cookieOf(first);
    await h.asOperator('acme', (ctx) => setUserActive(ctx, 'dee@customer.example', false));
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: ACME, cookie } })).statusCode).toBe(401);
    const again = await signIn(ACME, await hsToken({ email: 'dee@customer.example' }));
    expect(again.statusCode).toBe(403);
    expect(again.json<{ error: { code: string } }>().error.code).toBe('user_deactivated');
  });

  it('verifies RS256 and ES256 tokens against a JWKS, and refuses an HS256 token when only the JWKS is configured', async () => {
    h.platform.settings.set('JWT.jwks_url', jwksUrl, { tenant: 'acme' });
    for (const [alg, key, kid] of [['RS256', rsaKey, 'rsa-1'], ['ES256', ecKey, 'ec-1']] as const) {
      const token = await new SignJWT({ email: `${alg.toLowerCase()}@customer.example`, '@tenant': 'acme' })
        .setProtectedHeader({ alg, kid })
        .setIssuedAt()
        .setExpirationTime('1m')
        .setJti(randomUUID())
        .sign(key);
      const response = await signIn(ACME, token);
      expect(response.statusCode, response.body).toBe(303);
      expect((await me(ACME, cookieOf(response))).user?.email).toBe(`${alg.toLowerCase()}@customer.example`);
    }
    h.platform.settings.set('JWT.shared_secret', '', { tenant: 'acme' });
    const hs = await signIn(ACME, await hsToken({ email: 'hs@customer.example' }));
    expect(hs.json<{ error: { message: string } }>().error.message).toContain('no [JWT] shared_secret');
    h.platform.settings.unset('JWT.shared_secret', { tenant: 'acme' });
    h.platform.settings.unset('JWT.jwks_url', { tenant: 'acme' });
  });

  it('on the platform host: signs platform users in, sends tenant users to their tenant, creates tenants only when allowed', async () => {
    const platformUser = await signIn(PLATFORM, await hsToken({ email: 'ops@platform.example', tenant: null }), '/admin');
    expect(platformUser.statusCode, platformUser.body).toBe(303);
    expect((await me(PLATFORM, cookieOf(platformUser))).kind).toBe('platform_user');

    const token = await hsToken({ email: 'eve@customer.example', tenant: 'acme' });
    const toTenant = await signIn(PLATFORM, token, '/dash');
    expect(toTenant.statusCode).toBe(303);
    const location = new URL(toTenant.headers.location ?? '');
    expect(location.host).toBe(ACME);
    // The same token completes the sign-in at the tenant host (its jti was not spent on the way).
    const finished = await h.app.inject({ method: 'GET', url: `${location.pathname}${location.search}`, headers: { host: ACME } });
    expect(finished.statusCode, finished.body).toBe(303);
    expect(finished.headers.location).toBe('/dash');

    const unknown = await signIn(PLATFORM, await hsToken({ tenant: 'newco' }));
    expect(unknown.json<{ error: { message: string } }>().error.message).toContain('Unknown tenant "newco"');
    expect(await h.platform.registry.findTenant('newco')).toBeUndefined();

    h.platform.settings.set('JWT.tenant_provisioning', '1');
    h.platform.settings.set('JWT.tenant_host_suffix', '.customers.test');
    const created = await signIn(PLATFORM, await hsToken({ email: 'first@newco.example', tenant: 'newco' }));
    expect(created.statusCode, created.body).toBe(303);
    const next = new URL(created.headers.location ?? '');
    expect(next.host).toBe('newco.customers.test');
    const atNewco = await h.app.inject({ method: 'GET', url: `${next.pathname}${next.search}`, headers: { host: 'newco.customers.test' } });
    expect(atNewco.statusCode, atNewco.body).toBe(303);
    const newcoUser = await me('newco.customers.test', cookieOf(atNewco));
    expect(newcoUser.user?.email).toBe('first@newco.example');
    expect(newcoUser.attributes).toEqual({ '@tenant.slug': 'newco' });
  });

  it('works the same on a PostgreSQL tenant, and a session of one tenant means nothing at another', async () => {
    const response = await signIn(GLOBEX, await hsToken({ email: 'gil@globex.example', tenant: 'globex', groups: ['Site1-Viewers'] }));
    expect(response.statusCode, response.body).toBe(303);
    const cookie = cookieOf(response);
    expect((await me(GLOBEX, cookie)).sites).toEqual([{ site: 1, role: 'view', capabilities: [] }]);
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: ACME, cookie } })).statusCode).toBe(401);
  });

  it('force SSO: password sign-in refused except for break-glass super users; the login page lists providers', async () => {
    await h.addUser('acme', 'root', { superuser: true });
    await h.addUser('acme', 'viewer');
    h.platform.settings.set('SSO.force_sso', '1', { tenant: 'acme' });
    h.platform.settings.set('SSO.break_glass_users', 'root,viewer', { tenant: 'acme' });
    await expect(signInOver(h.app, ACME, 'root')).resolves.toMatchObject({ csrf: expect.any(String) as string });
    const viewer = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: ACME }, payload: { login: 'viewer', password: 'correct horse battery' } });
    expect(viewer.statusCode).toBe(403);
    expect(viewer.json<{ error: { code: string } }>().error.code).toBe('sso_required');
    h.platform.settings.set('SSO.break_glass_users', '', { tenant: 'acme' });
    const root = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: ACME }, payload: { login: 'root', password: 'correct horse battery' } });
    expect(root.json<{ error: { code: string } }>().error.code).toBe('sso_required');
    const providers = await h.app.inject({ method: 'GET', url: '/auth/providers', headers: { host: ACME } });
    expect(providers.json()).toMatchObject({ password: false, forceSso: true });
    h.platform.settings.unset('SSO.force_sso', { tenant: 'acme' });
    expect((await h.app.inject({ method: 'GET', url: '/auth/providers', headers: { host: ACME } })).json()).toMatchObject({ password: true, forceSso: false });
  });
  it('maps provider groups to tenant-group membership; unknown group names are audited, hand memberships kept', async () => {
    const system = { kind: 'system', name: 'test' } as const;
    const editors = await createGroup(h.platform, system, { kind: 'tenant', name: 'Editors' });
    const reviewers = await createGroup(h.platform, system, { kind: 'tenant', name: 'Reviewers' });
    h.platform.settings.set('SSO.role_mapping', 'Crew = group:Editors,Typo = group:Editorz', { tenant: 'globex' });
    const memberships = () =>
      h.asOperator('globex', async (ctx) =>
        (await identityDbFor(ctx.platform, ctx.scope).selectFrom('group_member').innerJoin('user', 'user.id', 'group_member.user_id').select(['group_member.group_id', 'group_member.source']).where('user.email', '=', 'gina@globex.example').orderBy('group_id').execute()),
      );
    expect((await signIn(GLOBEX, await hsToken({ email: 'gina@globex.example', tenant: 'globex', groups: ['Crew', 'Typo'] }))).statusCode).toBe(303);
    expect(await memberships()).toEqual([{ group_id: editors.id, source: 'sso' }]);
    await h.asOperator('globex', async (ctx) => {
      const db = identityDbFor(ctx.platform, ctx.scope);
      const user = await identityStore.findUsersByEmail(db, 'gina@globex.example');
      await db.insertInto('group_member').values({ group_id: reviewers.id, user_id: user[0]?.id ?? 0, source: 'manual' }).execute();
    });
    expect((await signIn(GLOBEX, await hsToken({ email: 'gina@globex.example', tenant: 'globex', groups: [] }))).statusCode).toBe(303);
    expect(await memberships()).toEqual([{ group_id: reviewers.id, source: 'manual' }]);
    const audit = await auditActions('globex');
    expect(audit.filter((entry) => entry.action === 'sso.rights_changed').map((entry) => entry.after_json ?? '').join('\n')).toContain('"unknownGroups":["Editorz"]');
    h.platform.settings.unset('SSO.role_mapping', { tenant: 'globex' });
  });
  it("the operator's OIDC/SAML/LDAP in common.ini serve platform users only: a tenant turns a provider on in its own file", async () => {
    h.platform.settings.set('OIDC.enabled', '1');
    h.platform.settings.set('OIDC.issuer', 'https://id.operator.example');
    h.platform.settings.set('OIDC.client_id', 'plura');
    h.platform.settings.set('LDAP.enabled', '1');
    h.platform.settings.set('SAML.enabled', '1');
    const providers = async (host: string) => (await h.app.inject({ method: 'GET', url: '/auth/providers', headers: { host } })).json<{ providers: { id: string }[] }>().providers.map((p) => p.id);
    expect(await providers(PLATFORM)).toEqual(['oidc', 'saml', 'ldap']);
    expect(await providers(ACME)).toEqual([]);
    for (const [method, url] of [['GET', '/auth/oidc/start'], ['GET', '/auth/saml/login'], ['POST', '/auth/ldap/login']] as const) {
      const response = await h.app.inject({ method, url, headers: { host: ACME }, ...(method === 'POST' ? { payload: { login: 'a', password: 'b' } } : {}) });
      expect(response.statusCode, url).toBe(404);
      expect(response.json<{ error: { code: string } }>().error.code, url).toBe('sso_not_configured');
    }
    h.platform.settings.set('OIDC.enabled', '1', { tenant: 'acme' });
    expect(await providers(ACME)).toEqual(['oidc']);
    for (const name of ['OIDC.enabled', 'OIDC.issuer', 'OIDC.client_id', 'LDAP.enabled', 'SAML.enabled'] as const) h.platform.settings.unset(name);
    h.platform.settings.unset('OIDC.enabled', { tenant: 'acme' });
  });
});
