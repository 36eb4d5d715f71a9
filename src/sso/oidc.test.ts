import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityDbFor, type Scope } from '../access/context.js';
import { setUserAccess, setUserActive } from '../access/users.service.js';
import { scopeAuditDb } from '../audit/audit.service.js';
import { findAuditEntries } from '../audit/audit.store.js';
import { freePort } from '../http/test-support/free-port.js';
import { openHarness, sessionCookieOf, type Harness } from '../http/test-support/harness.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { OIDC_FLOW_COOKIE, openFlow, sealFlow } from './oidc.js';

const ACME = 'acme.test';
const GLOBEX = 'globex.test';
const PG_HOST = 'pg.test';
const PLATFORM_HOST = 'platform.test';

interface Account {
  email: string;
  given_name?: string;
  family_name?: string;
  email_verified?: boolean;
  groups: string[];
}

/** A real OpenID provider (oidc-provider) on a loopback port; the test plays the user at its login and consent steps. */
interface TestProvider {
  readonly issuer: string;
  readonly accounts: Map<string, Account>;
  /** Discovery documents served so far. */
  discoveries(): number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** `postOnly`: a provider whose token endpoint takes client secrets only in the body (client_secret_post). */
async function startProvider(options: { postOnly?: boolean } = {}): Promise<TestProvider> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const accounts = new Map<string, Account>();
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'test-key' };
  const method: 'client_secret_post' | 'client_secret_basic' = options.postOnly ? 'client_secret_post' : 'client_secret_basic';
  const client = (id: string, hosts: string[], secret: string | null) => ({
    client_id: id,
    ...(secret === null ? { token_endpoint_auth_method: 'none' as const } : { client_secret: secret, token_endpoint_auth_method: method }),
    redirect_uris: hosts.map((host) => `http://${host}/auth/oidc/callback`),
    response_types: ['code' as const],
    grant_types: ['authorization_code'],
  });
  const provider = new Provider(issuer, {
    clients: options.postOnly
      ? [client('plura-globex-post', [GLOBEX], 'globex-post-secret')]
      : [
          client('plura-acme', [ACME], 'acme-client-secret'),
          client('plura-globex', [GLOBEX], 'globex-client-secret'),
          client('plura-pg', [PG_HOST], null),
          client('plura-platform', [PLATFORM_HOST], 'platform-client-secret'),
        ],
    ...(options.postOnly ? { clientAuthMethods: ['client_secret_post'] } : {}),
    jwks: { keys: [signingKey] },
    cookies: { keys: ['oidc-test-cookie-key'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name'], groups: ['groups'] },
    features: { devInteractions: { enabled: false } },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    findAccount: (_ctx, sub) => {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: () => ({ sub, email_verified: true, ...account }) };
    },
  });
  const handle = provider.callback();

  // The login and consent pages: the test posts `login=<account>` (or `deny=1`) to /interaction/<uid>.
  const interaction = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const details = await provider.interactionDetails(req, res);
    const form = await readBody(req);
    if (form.get('deny')) {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user cancelled the sign-in.' }, { mergeWithLastSubmission: false });
      return;
    }
    if (details.prompt.name === 'login') {
      await provider.interactionFinished(req, res, { login: { accountId: form.get('login') ?? '' } }, { mergeWithLastSubmission: false });
      return;
    }
    const accountId = details.session?.accountId;
    const clientId = details.params['client_id'];
    if (typeof accountId !== 'string' || typeof clientId !== 'string') throw new Error('consent without a session');
    const grant = new provider.Grant({ accountId, clientId });
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  };

  let discoveries = 0;
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') discoveries++;
    if (req.method === 'POST' && req.url?.startsWith('/interaction/')) {
      interaction(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
      return;
    }
    void handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    issuer,
    accounts,
    discoveries: () => discoveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A browser at the provider: follows its redirects over real HTTP with its own
 * cookies, signs in as `login` (or cancels), consents, and returns the URL the
 * provider sends back to Plura.
 */
async function atProvider(provider: TestProvider, authorizationUrl: string, login: string, options: { deny?: boolean } = {}): Promise<URL> {
  const jar = new Map<string, string>();
  let url = new URL(authorizationUrl);
  for (let step = 0; step < 12; step++) {
    if (url.origin !== new URL(provider.issuer).origin) return url;
    const headers: Record<string, string> = { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') };
    const interaction = url.pathname.startsWith('/interaction/');
    const body = interaction ? new URLSearchParams(options.deny ? { deny: '1' } : { login }).toString() : undefined;
    if (interaction) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, { method: interaction ? 'POST' : 'GET', headers, body, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    const location = response.headers.get('location');
    if (!location) throw new Error(`the provider answered ${response.status} without a redirect: ${await response.text()}`);
    url = new URL(location, url);
  }
  throw new Error('too many redirects at the provider');
}

function flowCookieOf(response: LightMyRequestResponse): string {
  const cookie = response.cookies.find((c) => c.name === OIDC_FLOW_COOKIE);
  if (!cookie) throw new Error(`no flow cookie in ${response.statusCode}: ${response.body}`);
  return cookie.value;
}

describe('OpenID Connect sign-in against a real OpenID provider', () => {
  let h: Harness;
  let idp: TestProvider;
  let pgDatabase: TestPostgresDatabase;
  let site1: number;
  let site2: number;

  const start = (host: string, returnTo = '/dashboard?x=1') =>
    h.app.inject({ method: 'GET', url: `/auth/oidc/start?return_to=${encodeURIComponent(returnTo)}`, headers: { host } });
  const callback = (host: string, back: URL, flowCookie: string | null) =>
    h.app.inject({ method: 'GET', url: `${back.pathname}${back.search}`, headers: { host, ...(flowCookie === null ? {} : { cookie: `${OIDC_FLOW_COOKIE}=${flowCookie}` }) } });

  /** start → provider (sign in as `login`) → callback, all at `host`. */
  async function signIn(host: string, login: string, options: { deny?: boolean; returnTo?: string } = {}) {
    const started = await start(host, options.returnTo);
    expect(started.statusCode, started.body).toBe(303);
    const flowCookie = flowCookieOf(started);
    const back = await atProvider(idp, String(started.headers.location), login, options);
    expect(back.host).toBe(host);
    expect(back.pathname).toBe('/auth/oidc/callback');
    const done = await callback(host, back, flowCookie);
    return { started, flowCookie, back, done };
  }

  const me = (host: string, response: LightMyRequestResponse) =>
    h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host, cookie: sessionCookieOf(response) } });

  const userRow = (slug: string, email: string) =>
    h.asOperator(slug, (ctx) => identityDbFor(ctx.platform, ctx.scope).selectFrom('user').selectAll().where('email', '=', email).executeTakeFirst());

  const userCount = async (slug: string) =>
    h.asOperator(slug, async (ctx) => (await identityDbFor(ctx.platform, ctx.scope).selectFrom('user').select('id').execute()).length);

  const auditOf = (slug: string, action: string) => h.asOperator(slug, async (ctx) => (await findAuditEntries(scopeAuditDb(ctx), { actions: [action] })).entries);

  /** Settings of a scope (tenant slug, or the platform). */
  const configure = (tenant: string | null, values: Record<string, string>) => {
    for (const [name, value] of Object.entries(values)) h.platform.settings.set(name, value, tenant === null ? {} : { tenant });
  };

  const expectRefused = (response: LightMyRequestResponse, text: string | RegExp) => {
    expect(response.statusCode, response.body).toBe(401);
    const body = response.json<{ error: { code: string; message: string } }>();
    expect(body.error.code).toBe('sso_refused');
    expect(body.error.message).toMatch(text);
    // The flow cookie is cleared on every answer of the callback.
    const cleared = response.cookies.find((c) => c.name === OIDC_FLOW_COOKIE);
    expect(cleared?.value ?? 'missing').toBe('');
  };

  beforeAll(async () => {
    idp = await startProvider();
    pgDatabase = await createTestPostgresDatabase('oidc');
    h = await openHarness({ PLURA_GENERAL_PLATFORM_HOST: PLATFORM_HOST, PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pgDatabase.rolePrefix });
    await h.addTenant('acme', [ACME]);
    await h.addTenant('globex', [GLOBEX]);
    await h.addTenant('pgco', [PG_HOST], pgDatabase.url);
    site1 = await h.addSite('acme', 'shop');
    site2 = await h.addSite('acme', 'blog');
    await h.addSite('pgco', 'pgshop');
    configure('acme', {
      'OIDC.enabled': '1',
      'OIDC.issuer': idp.issuer,
      'OIDC.client_id': 'plura-acme',
      'OIDC.client_secret': 'acme-client-secret',
      'OIDC.scopes': 'openid email profile groups',
      'SSO.role_mapping': `Analysts = site:${site1}:view`,
    });
    configure('pgco', {
      'OIDC.enabled': '1',
      'OIDC.issuer': idp.issuer,
      'OIDC.client_id': 'plura-pg',
      'OIDC.scopes': 'openid email profile groups',
      'SSO.role_mapping': 'Pg Admins = superuser',
    });
    idp.accounts.set('alice', { email: 'Alice@Acme.example', given_name: 'Alice', family_name: 'Anders', groups: ['Analysts', 'Staff'] });
    idp.accounts.set('bob', { email: 'bob@acme.example', given_name: 'Bob', family_name: 'Brown', groups: [] });
    idp.accounts.set('carol', { email: 'carol@acme.example', groups: ['Analysts'] });
    idp.accounts.set('pete', { email: 'pete@pgco.example', given_name: 'Pete', family_name: 'Postgres', groups: ['Pg Admins'] });
    idp.accounts.set('olga', { email: 'olga@platform.example', given_name: 'Olga', family_name: 'Operator', groups: [] });
  }, 60_000);

  afterAll(async () => {
    await h.close();
    await idp.close();
    await pgDatabase.drop();
  });

  it('answers sso_not_configured while OIDC is disabled, on start and callback', async () => {
    const started = await start(GLOBEX);
    expect(started.statusCode).toBe(404);
    expect(started.json()).toMatchObject({ error: { code: 'sso_not_configured' } });
    const done = await h.app.inject({ method: 'GET', url: '/auth/oidc/callback?code=x&state=y', headers: { host: GLOBEX } });
    expect(done.statusCode).toBe(404);
    expect(done.json()).toMatchObject({ error: { code: 'sso_not_configured' } });
  });

  it('refuses an off-site return_to', async () => {
    for (const target of ['//evil.example/x', 'https://evil.example/', '/\\evil']) {
      const started = await start(ACME, target);
      expect(started.statusCode).toBe(400);
      expect(started.json()).toMatchObject({ error: { code: 'invalid_input' } });
    }
  });

  it('first sign-in provisions the user with names and groups, maps a group to site:1:view and opens a session', async () => {
    const { started, done } = await signIn(ACME, 'alice');
    // The flow cookie: encrypted, HttpOnly, SameSite=Lax, only for /auth/oidc, 10 minutes.
    const flow = started.cookies.find((c) => c.name === OIDC_FLOW_COOKIE);
    expect(flow).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/auth/oidc', maxAge: 600 });
    expect(flow?.value.split('.')).toHaveLength(5);
    const location = new URL(String(started.headers.location));
    expect(location.origin).toBe(idp.issuer);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('client_id')).toBe('plura-acme');
    expect(location.searchParams.get('redirect_uri')).toBe(`http://${ACME}/auth/oidc/callback`);
    for (const param of ['state', 'nonce', 'code_challenge']) expect(location.searchParams.get(param)).toBeTruthy();

    expect(done.statusCode, done.body).toBe(303);
    expect(done.headers.location).toBe('/dashboard?x=1');
    const session = await me(ACME, done);
    expect(session.statusCode).toBe(200);
    expect(session.json()).toMatchObject({ kind: 'tenant_user', tenant: 'acme', user: { login: 'alice@acme.example', email: 'alice@acme.example' }, sites: [{ site: site1, role: 'view' }] });

    const row = await userRow('acme', 'alice@acme.example');
    expect(row).toMatchObject({ first_name: 'Alice', last_name: 'Anders' });
    const stored = await h.asOperator('acme', async (ctx) => {
      const db = identityDbFor(ctx.platform, ctx.scope);
      return {
        groups: (await db.selectFrom('sso_user_group').select('group_name').where('user_id', '=', row?.id ?? -1).execute()).map((g) => g.group_name).sort(),
        identity: await db.selectFrom('sso_identity').selectAll().where('user_id', '=', row?.id ?? -1).executeTakeFirst(),
      };
    });
    expect(stored.groups).toEqual(['Analysts', 'Staff']);
    expect(stored.identity).toMatchObject({ provider: 'oidc', subject: `${idp.issuer}|alice` });
  });

  it('reads the discovery document once per tenant and issuer (cached), not on every sign-in', async () => {
    const before = idp.discoveries();
    expect((await signIn(ACME, 'alice')).done.statusCode).toBe(303);
    expect((await start(ACME)).statusCode).toBe(303);
    expect(idp.discoveries()).toBe(before);
  });

  it('a later sign-in without the group removes the mapped role, while a hand-granted role on site 2 stays', async () => {
    await h.asOperator('acme', (ctx) => setUserAccess(ctx, 'alice@acme.example', 'write', [site2]));
    idp.accounts.set('alice', { email: 'alice@acme.example', given_name: 'Alice', family_name: 'Anders-Berg', groups: ['Staff'] });
    const { done } = await signIn(ACME, 'alice');
    expect(done.statusCode, done.body).toBe(303);
    const session = await me(ACME, done);
    expect(session.json<{ sites: unknown[] }>().sites).toEqual([{ site: site2, role: 'write', capabilities: expect.any(Array) as unknown }]);
    expect(await userRow('acme', 'alice@acme.example')).toMatchObject({ last_name: 'Anders-Berg' });
    // The group comes back: so does the mapped role.
    idp.accounts.set('alice', { email: 'alice@acme.example', given_name: 'Alice', family_name: 'Anders-Berg', groups: ['Analysts', 'Staff'] });
    const again = await signIn(ACME, 'alice');
    const sites = (await me(ACME, again.done)).json<{ sites: { site: number; role: string }[] }>().sites;
    expect(sites.map(({ site, role }) => ({ site, role })).sort((a, b) => a.site - b.site)).toEqual([{ site: site1, role: 'view' }, { site: site2, role: 'write' }]);
  });

  it('with provisioning off, an unknown user is refused and nothing is created', async () => {
    configure('acme', { 'OIDC.user_provisioning': '0' });
    try {
      const before = await userCount('acme');
      const { done } = await signIn(ACME, 'bob');
      expectRefused(done, /No user matches bob@acme\.example/);
      expect(await userCount('acme')).toBe(before);
      expect(await userRow('acme', 'bob@acme.example')).toBeUndefined();
      // A known user still signs in.
      expect((await signIn(ACME, 'alice')).done.statusCode).toBe(303);
    } finally {
      configure('acme', { 'OIDC.user_provisioning': '1' });
    }
  });

  it('refuses an email address the provider has not verified', async () => {
    idp.accounts.set('dave', { email: 'dave@acme.example', email_verified: false, groups: [] });
    const { done } = await signIn(ACME, 'dave');
    expectRefused(done, /has not verified the email address dave@acme\.example/);
    expect(await userRow('acme', 'dave@acme.example')).toBeUndefined();
  });

  it('refuses a deactivated user', async () => {
    expect((await signIn(ACME, 'carol')).done.statusCode).toBe(303);
    await h.asOperator('acme', (ctx) => setUserActive(ctx, 'carol@acme.example', false));
    const { done } = await signIn(ACME, 'carol');
    expect(done.statusCode).toBe(403);
    expect(done.json()).toMatchObject({ error: { code: 'user_deactivated' } });
    expect(done.cookies.find((c) => c.name === 'plura_session')).toBeUndefined();
  });

  it('refuses a missing or mismatched state', async () => {
    const started = await start(ACME);
    const flowCookie = flowCookieOf(started);
    const back = await atProvider(idp, String(started.headers.location), 'alice');
    const wrong = new URL(back);
    wrong.searchParams.set('state', 'someone-elses-state');
    expectRefused(await callback(ACME, wrong, flowCookie), /state mismatch/);
    const none = new URL(back);
    none.searchParams.delete('state');
    expectRefused(await callback(ACME, none, flowCookie), /carries no state/);
    // Without the flow cookie (another browser, or already cleared) the answer is refused too.
    expectRefused(await callback(ACME, back, null), /No OpenID Connect sign-in is in progress/);
  });

  it('a callback works once: replaying it (URL and cookie) is refused', async () => {
    const { back, flowCookie, done } = await signIn(ACME, 'alice');
    expect(done.statusCode).toBe(303);
    expectRefused(await callback(ACME, back, flowCookie), /already completed/);
  });

  it('refuses an ID token whose nonce does not match the flow (re-sealed cookie), a tampered and an expired flow cookie', async () => {
    const acme = await h.platform.tenants.get('acme');
    const reseal = (cookie: string, change: (scope: Scope) => Promise<string>) => h.platform.withStore(acme, (store) => change({ kind: 'tenant', tenant: acme, store }));

    const started = await start(ACME);
    const original = flowCookieOf(started);
    const back = await atProvider(idp, String(started.headers.location), 'alice');
    const wrongNonce = await reseal(original, async (scope) => sealFlow(h.platform, scope, { ...(await openFlow(h.platform, scope, original)), nonce: 'not-the-nonce-sent' }));
    expectRefused(await callback(ACME, back, wrongNonce), /nonce/);

    const second = await start(ACME);
    const secondBack = await atProvider(idp, String(second.headers.location), 'alice');
    const cookie = flowCookieOf(second);
    const parts = cookie.split('.');
    const ciphertext = parts[3] ?? '';
    parts[3] = `${ciphertext.slice(0, -2)}${ciphertext.endsWith('AA') ? 'BB' : 'AA'}`;
    expectRefused(await callback(ACME, secondBack, parts.join('.')), /was not made here or was altered/);

    const third = await start(ACME);
    const thirdBack = await atProvider(idp, String(third.headers.location), 'alice');
    const thirdCookie = flowCookieOf(third);
    const expired = await reseal(thirdCookie, async (scope) => sealFlow(h.platform, scope, await openFlow(h.platform, scope, thirdCookie), new Date(Date.now() - 11 * 60_000)));
    expectRefused(await callback(ACME, thirdBack, expired), /not completed within 10 minutes/);
  });

  it('shows the provider\'s error description when the user cancels at the provider', async () => {
    const { done } = await signIn(ACME, 'alice', { deny: true });
    expectRefused(done, /access_denied.*The user cancelled the sign-in\./);
  });

  it('a flow started at one tenant is refused at another tenant\'s host', async () => {
    configure('globex', { 'OIDC.enabled': '1', 'OIDC.issuer': idp.issuer, 'OIDC.client_id': 'plura-globex', 'OIDC.client_secret': 'globex-client-secret' });
    try {
      const before = await userCount('globex');
      const started = await start(ACME);
      const back = await atProvider(idp, String(started.headers.location), 'alice');
      const atGlobex = await callback(GLOBEX, back, flowCookieOf(started));
      expectRefused(atGlobex, /was not made here or was altered/);
      expect(await userCount('globex')).toBe(before);
      // Globex's own flow works at globex.
      const own = await signIn(GLOBEX, 'alice');
      expect(own.done.statusCode, own.done.body).toBe(303);
      expect((await me(GLOBEX, own.done)).json()).toMatchObject({ tenant: 'globex', user: { login: 'alice@acme.example' } });
      // ... and the globex session means nothing at acme.
      expect((await me(ACME, own.done)).statusCode).toBe(401);
    } finally {
      configure('globex', { 'OIDC.enabled': '0' });
    }
  });

  it('a confidential client uses client_secret_post when the provider\'s discovery offers only that', async () => {
    const postOnly = await startProvider({ postOnly: true });
    postOnly.accounts.set('bob', { email: 'bob@acme.example', given_name: 'Bob', groups: [] });
    configure('globex', { 'OIDC.enabled': '1', 'OIDC.issuer': postOnly.issuer, 'OIDC.client_id': 'plura-globex-post', 'OIDC.client_secret': 'globex-post-secret' });
    try {
      const started = await start(GLOBEX);
      const back = await atProvider(postOnly, String(started.headers.location), 'bob');
      const done = await callback(GLOBEX, back, flowCookieOf(started));
      expect(done.statusCode, done.body).toBe(303);
      expect((await me(GLOBEX, done)).json()).toMatchObject({ tenant: 'globex', user: { login: 'bob@acme.example' } });
      // Insisting on a method the provider does not offer is a clear refusal.
      configure('globex', { 'OIDC.token_endpoint_auth_method': 'client_secret_basic' });
      const refused = await start(GLOBEX);
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toMatchObject({ error: { code: 'sso_refused', message: expect.stringMatching(/accepts client_secret_post, not client_secret_basic/) as string } });
    } finally {
      configure('globex', { 'OIDC.enabled': '0', 'OIDC.token_endpoint_auth_method': 'auto', 'OIDC.client_secret': '' });
      await postOnly.close();
    }
  });

  it('a discovery failure is a clear refusal naming the issuer; plain http is refused off loopback', async () => {
    const closedPort = await freePort();
    configure('globex', { 'OIDC.enabled': '1', 'OIDC.issuer': `http://127.0.0.1:${closedPort}`, 'OIDC.client_id': 'plura-globex' });
    try {
      const unreachable = await start(GLOBEX);
      expect(unreachable.statusCode).toBe(401);
      expect(unreachable.json()).toMatchObject({ error: { code: 'sso_refused', message: expect.stringContaining(`http://127.0.0.1:${closedPort}/`) as string } });
      // The document must name the issuer asked for (here 127.0.0.1 answers for "localhost").
      const localhost = idp.issuer.replace('127.0.0.1', 'localhost');
      configure('globex', { 'OIDC.issuer': localhost });
      const mismatch = await start(GLOBEX);
      expect(mismatch.statusCode).toBe(401);
      expect(mismatch.json()).toMatchObject({ error: { code: 'sso_refused', message: expect.stringMatching(/issuer does not match/) as string } });
      configure('globex', { 'OIDC.issuer': 'http://idp.example.com' });
      const insecure = await start(GLOBEX);
      expect(insecure.statusCode).toBe(404);
      expect(insecure.json()).toMatchObject({ error: { code: 'sso_not_configured', message: expect.stringContaining('must use https') as string } });
      expect((await auditOf('globex', 'sso.refused')).some((entry) => JSON.stringify(entry.after).includes(`127.0.0.1:${closedPort}`))).toBe(true);
    } finally {
      configure('globex', { 'OIDC.enabled': '0' });
    }
  });

  it('signs in on a PostgreSQL tenant as a public client (PKCE only), with the role mapping', async () => {
    const { done } = await signIn(PG_HOST, 'pete', { returnTo: '/' });
    expect(done.statusCode, done.body).toBe(303);
    expect(done.headers.location).toBe('/');
    expect((await me(PG_HOST, done)).json()).toMatchObject({ kind: 'tenant_user', tenant: 'pgco', superuser: true, user: { login: 'pete@pgco.example' } });
    expect(await userRow('pgco', 'pete@pgco.example')).toMatchObject({ first_name: 'Pete', last_name: 'Postgres' });
    const success = await auditOf('pgco', 'login.success');
    expect(success.some((entry) => (entry.after as { provider?: string }).provider === 'oidc')).toBe(true);
    // A replay is refused here too (the used flow is kept in PostgreSQL).
    const { back, flowCookie } = await signIn(PG_HOST, 'pete');
    expectRefused(await callback(PG_HOST, back, flowCookie), /already completed/);
  });

  it('signs in a platform user on the platform host with the platform\'s settings', async () => {
    expect((await start(PLATFORM_HOST)).json()).toMatchObject({ error: { code: 'sso_not_configured' } });
    configure(null, { 'OIDC.enabled': '1', 'OIDC.issuer': idp.issuer, 'OIDC.client_id': 'plura-platform', 'OIDC.client_secret': 'platform-client-secret' });
    try {
      const { done } = await signIn(PLATFORM_HOST, 'olga');
      expect(done.statusCode, done.body).toBe(303);
      expect((await me(PLATFORM_HOST, done)).json()).toMatchObject({ kind: 'platform_user', user: { login: 'olga@platform.example' } });
      // A tenant flow cookie is useless on the platform host.
      const started = await start(ACME);
      const back = await atProvider(idp, String(started.headers.location), 'olga');
      expectRefused(await callback(PLATFORM_HOST, back, flowCookieOf(started)), /was not made here or was altered/);
    } finally {
      configure(null, { 'OIDC.enabled': '0' });
    }
  });

  it('the audit log holds login.success with provider oidc and the sso.refused entries', async () => {
    const success = await auditOf('acme', 'login.success');
    expect(success.some((entry) => (entry.after as { provider?: string; login?: string }).provider === 'oidc')).toBe(true);
    const provisioned = await auditOf('acme', 'sso.user_provisioned');
    expect(provisioned.map((entry) => (entry.after as { login: string }).login)).toContain('alice@acme.example');
    const refused = (await auditOf('acme', 'sso.refused')).map((entry) => entry.after as { provider: string; reason: string });
    expect(refused.every((entry) => entry.provider === 'oidc')).toBe(true);
    for (const reason of [/state mismatch/, /already completed/, /nonce/, /access_denied/, /No user matches/]) {
      expect(refused.some((entry) => reason.test(entry.reason)), String(reason)).toBe(true);
    }
    expect(await auditOf('acme', 'login.refused_deactivated')).toHaveLength(1);
  });
});
