/**
 * Signed embedding over HTTP: tokens made with jose as an embedding application
 * would, dashboards in a shared collection and in each tenant's own collection, data
 * tracked through /matomo.php, on a SQLite tenant (acme) and a PostgreSQL tenant
 * (globex).
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { openHarness, TEST_PASSWORD, type Harness } from '../http/test-support/harness.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { identityDbFor } from '../access/context.js';
import { identityStore } from '../access/identity.store.js';
import { createToken } from '../access/tokens.js';
import { createUser, setUserAccess, setUserActive } from '../access/users.service.js';
import { setGroupMembership } from './groups.service.js';
import { can, decideDataPolicy, decideEmbed, embedViewerActor, type TenantUserActor } from '../access/policy.js';

const PLATFORM = 'platform.test';
const SECRET = 'embedding-secret-for-tests-0123456789abcdef';
const TENANTS = [
  { slug: 'acme', host: 'acme.test' },
  { slug: 'globex', host: 'globex.test' },
] as const;
type Slug = (typeof TENANTS)[number]['slug'];
const hostOf = (slug: Slug): string => (slug === 'acme' ? 'acme.test' : 'globex.test');
const urlsOf = (slug: Slug) => ({ v1: `https://${slug}.example.com/eu/a`, v2: `https://${slug}.example.com/us/a`, v3: 'https://other.example.com/x' });

const sign = async (claims: Record<string, unknown>, options: { secret?: string; expiresIn?: string | number | null } = {}): Promise<string> => {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (options.expiresIn !== null) jwt.setExpirationTime(options.expiresIn ?? '5m');
  return jwt.sign(new TextEncoder().encode(options.secret ?? SECRET));
};
const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('embedding rules in the policy module (pure)', () => {
  const facts = { enabled: true, hostTenant: 'acme', tokenTenant: 'acme', collectionKind: 'shared', collectionTenant: null } as const;
  it('embeds shared dashboards and the host tenant\'s own, for a token of that tenant, while enabled', () => {
    expect(decideEmbed(facts).allowed).toBe(true);
    expect(decideEmbed({ ...facts, collectionKind: 'tenant', collectionTenant: 'acme' }).allowed).toBe(true);
    expect(decideEmbed({ ...facts, collectionKind: 'tenant', collectionTenant: 'globex' }).allowed).toBe(false);
    expect(decideEmbed({ ...facts, collectionKind: 'personal' }).allowed).toBe(false);
    expect(decideEmbed({ ...facts, collectionKind: 'internal' }).allowed).toBe(false);
    expect(decideEmbed({ ...facts, tokenTenant: 'globex' }).allowed).toBe(false);
    expect(decideEmbed({ ...facts, enabled: false }).allowed).toBe(false);
  });
  it('the embed viewer views only the dashboard\'s sites (and the named user\'s), in its tenant only, never sensitive data', () => {
    const user: TenantUserActor = { kind: 'tenant_user', tenant: 'acme', userId: 7, login: 'ann', superuser: false, sites: new Map([[1, { role: 'admin', capabilities: new Set() }]]) };
    const viewer = embedViewerActor('acme', [1, 2], null);
    expect([...viewer.sites.keys()]).toEqual([1, 2]);
    expect([...embedViewerActor('acme', [1, 2], user).sites.keys()]).toEqual([1]);
    expect(can(viewer, 'view_reports', { kind: 'site', tenant: 'acme', siteId: 1 })).toBe(true);
    expect(can(viewer, 'view_reports', { kind: 'site', tenant: 'globex', siteId: 1 })).toBe(false);
    expect(can(viewer, 'view_sensitive_data', { kind: 'site', tenant: 'acme', siteId: 1, sensitiveData: 'write' })).toBe(false);
    expect(can(viewer, 'create_reports', { kind: 'site', tenant: 'acme', siteId: 1 })).toBe(false);
  });
  it('data policies restrict tenant users (super users too) and anonymous viewers, not platform users or the console', () => {
    expect(decideDataPolicy({ kind: 'tenant_user', tenant: 'acme', userId: 1, login: 'root', superuser: true, sites: new Map() }).allowed).toBe(true);
    expect(decideDataPolicy(embedViewerActor('acme', [], null)).allowed).toBe(true);
    expect(decideDataPolicy({ kind: 'platform_user', userId: 1, login: 'ops', platformAdmin: true, actingIn: 'acme' }).allowed).toBe(false);
    expect(decideDataPolicy({ kind: 'system', name: 'cli' }).allowed).toBe(false);
  });
});

describe('signed embedding of dashboards', () => {
  let h: Harness;
  let pg: TestPostgresDatabase;
  const tokens = new Map<string, string>();
  const boards = new Map<string, string>();
  let regionalGroup = 0;

  const embed = (host: string, id: string, token: string | undefined, headers: Record<string, string> = {}, extra = ''): Promise<LightMyRequestResponse> =>
    h.app.inject({ method: 'GET', url: `/embed/dashboard/${encodeURIComponent(id)}${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}${extra}`, headers: { host, ...headers } });
  const rest = (host: string, token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown): Promise<LightMyRequestResponse> =>
    h.app.inject({ method, url, headers: { host, authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
  const tokenOf = (key: string): string => tokens.get(key) ?? '';
  /** What an embedded page shows: the visits number and which of v1..v3 the visit log lists. */
  const shown = (slug: Slug, html: string): { visits: number | null; rows: string[] } => {
    const number = /<b>(\d+)<\/b><span>nb_visits<\/span>/.exec(html);
    const rows = Object.entries(urlsOf(slug)).filter(([, url]) => html.includes(url)).map(([label]) => label);
    return { visits: number ? Number(number[1]) : html.includes('No data.') ? 0 : null, rows };
  };
  const okPage = async (slug: Slug, id: string, claims: Record<string, unknown>): Promise<{ visits: number | null; rows: string[]; html: string }> => {
    const response = await embed(hostOf(slug), id, await sign({ '@tenant': slug, ...claims }));
    expect(response.statusCode, response.body).toBe(200);
    return { ...shown(slug, response.body), html: response.body };
  };

  beforeAll(async () => {
    pg = await createTestPostgresDatabase('embed');
    h = await openHarness({ PLURA_GENERAL_PLATFORM_HOST: PLATFORM, PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix });
    h.platform.settings.set('Embedding.enabled', '1');
    h.platform.settings.set('Embedding.secret', SECRET);
    const system = { platform: h.platform, scope: { kind: 'platform' } as const, actor: { kind: 'system', name: 'test' } as const, ip: null };
    await createUser(system, { login: 'ops', email: 'ops@platform.example', password: TEST_PASSWORD, superuser: true });
    const registryDb = identityDbFor(h.platform, { kind: 'platform' });
    const opsRow = await identityStore.findUserByLogin(registryDb, 'ops');
    tokens.set('ops', (await createToken(registryDb, h.platform.secret, opsRow?.id ?? 0, { description: 'test' })).token);

    const group = await rest(PLATFORM, tokenOf('ops'), 'POST', '/api/v1/groups', { kind: 'tenant', name: 'Regional' });
    regionalGroup = group.json<{ id: number }>().id;
    expect((await rest(PLATFORM, tokenOf('ops'), 'PUT', `/api/v1/groups/${regionalGroup}/policy`, { template: 'pageUrl=@/{{region}}/' })).statusCode).toBe(200);

    const widgets = [
      { id: 'visits', title: 'Visits', report: { method: 'VisitsSummary.get', params: { idSite: '1', period: 'day', date: 'today' }, visualization: 'number' }, x: 0, y: 0, w: 4, h: 2 },
      { id: 'log', title: 'Visit log', report: { method: 'Live.getLastVisitsDetails', params: { idSite: '1', period: 'day', date: 'today', filter_limit: '-1' }, visualization: 'table' }, x: 4, y: 0, w: 8, h: 4 },
    ];
    const shared = await rest(PLATFORM, tokenOf('ops'), 'POST', '/api/v1/items', { collectionId: 'shared', kind: 'dashboard', name: 'Shared <b>overview</b>', definition: { widgets } });
    expect(shared.statusCode, shared.body).toBe(201);
    boards.set('shared', shared.json<{ id: string }>().id);
    const internal = await rest(PLATFORM, tokenOf('ops'), 'POST', '/api/v1/items', { collectionId: 'internal', kind: 'dashboard', name: 'Internal', definition: { widgets } });
    boards.set('internal', internal.json<{ id: string }>().id);

    for (const { slug, host } of TENANTS) {
      await h.addTenant(slug, [host], slug === 'globex' ? pg.url : 'sqlite');
      await h.platform.tenants.update(slug, { attributes: { region: 'eu' } });
      await h.addSite(slug, `${slug}-shop`);
      await h.addSite(slug, `${slug}-blog`);
      for (const [login, superuser] of [['root', true], ['viewer', false], ['outsider', false], ['gone', false]] as const) {
        await h.addUser(slug, login, { superuser });
        await h.asOperator(slug, async (ctx) => {
          if (login === 'viewer' || login === 'gone') await setUserAccess(ctx, login, 'view', [1]);
          if (login === 'outsider') await setUserAccess(ctx, login, 'view', [2]);
          if (login === 'viewer') await setGroupMembership(ctx, regionalGroup, login, true);
          const db = identityDbFor(ctx.platform, ctx.scope);
          const user = await identityStore.findUserByLogin(db, login);
          tokens.set(`${slug}:${login}`, (await createToken(db, ctx.platform.secret, user?.id ?? 0, { description: 'test' })).token);
        });
      }
      await h.asOperator(slug, (ctx) => setUserActive(ctx, 'gone', false));
      let n = 0;
      for (const url of Object.values(urlsOf(slug))) {
        n += 1;
        const response = await h.app.inject({
          method: 'GET',
          url: `/matomo.php?idsite=1&rec=1&send_image=0&_id=${n.toString(16).padStart(16, '0')}&uid=user${n}&action_name=Page&url=${encodeURIComponent(url)}`,
          headers: { host, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0' },
        });
        expect(response.statusCode).toBe(204);
      }
      const own = await rest(host, tokenOf(`${slug}:root`), 'POST', '/api/v1/items', { collectionId: 'tenant', kind: 'dashboard', name: `${slug} board`, definition: { widgets } });
      expect(own.statusCode, own.body).toBe(201);
      boards.set(slug, own.json<{ id: string }>().id);
      const collections = await rest(host, tokenOf(`${slug}:root`), 'GET', '/api/v1/collections');
      const personal = collections.json<{ collections: { id: string; kind: string }[] }>().collections.find((c) => c.kind === 'personal');
      const mine = await rest(host, tokenOf(`${slug}:root`), 'POST', '/api/v1/items', { collectionId: personal?.id, kind: 'dashboard', name: 'Mine', definition: { widgets } });
      expect(mine.statusCode, mine.body).toBe(201);
      boards.set(`${slug}:personal`, mine.json<{ id: string }>().id);
    }
  });
  afterAll(async () => {
    await h?.close();
    await pg?.drop();
  });

  it("renders a shared and a tenant dashboard read-only, as self-contained HTML, with each tenant's own data", async () => {
    for (const { slug, host } of TENANTS) {
      for (const board of ['shared', slug]) {
        const response = await embed(host, boards.get(board) ?? '', await sign({ '@tenant': slug }));
        expect(response.statusCode, response.body).toBe(200);
        expect(response.headers['content-type']).toContain('text/html');
        expect(response.headers['content-security-policy']).toContain("default-src 'none'");
        expect(response.headers['cache-control']).toBe('no-store');
        expect(response.body).not.toMatch(/<script/i);
        expect(shown(slug, response.body)).toEqual({ visits: 3, rows: ['v1', 'v2', 'v3'] });
        const other = slug === 'acme' ? 'globex' : 'acme';
        expect(response.body).not.toContain(`${other}.example.com`);
        // Read-only viewers never see sensitive columns.
        expect(response.body).not.toContain('user1');
        expect(response.body).not.toContain('127.0.0');
      }
      const shared = await embed(host, boards.get('shared') ?? '', await sign({ '@tenant': slug }));
      expect(shared.body).toContain('Shared &lt;b&gt;overview&lt;/b&gt;');
      // The viewer may choose the period; the data stay the tenant's.
      const week = await embed(host, boards.get('shared') ?? '', await sign({ '@tenant': slug }), {}, '&period=week&date=today');
      expect(shown(slug, week.body).visits).toBe(3);
    }
  });

  it("applies the named user's groups and attributes, bounded by the user's sites, and the token's attributes narrow the data", async () => {
    for (const { slug } of TENANTS) {
      const board = boards.get('shared') ?? '';
      expect(await okPage(slug, board, { user: 'viewer' })).toMatchObject({ visits: 1, rows: ['v1'] });
      expect(await okPage(slug, board, { user: 'viewer', attributes: { region: 'us' } })).toMatchObject({ visits: 1, rows: ['v2'] });
      expect(await okPage(slug, board, { user: 'viewer', attributes: { region: 'asia' } })).toMatchObject({ visits: 0, rows: [] });
      expect(await okPage(slug, board, { user: 'root' })).toMatchObject({ visits: 3 });
      // A user without access to the dashboard's site sees no data, only the refusal in each widget.
      const outsider = await okPage(slug, board, { user: 'outsider' });
      expect(outsider.rows).toEqual([]);
      expect(outsider.html).toContain('requires view access');
    }
    // A policy on every tenant user applies to token views without a user too; token attributes fill it in.
    const everyone = (await rest(PLATFORM, tokenOf('ops'), 'GET', '/api/v1/groups')).json<{ groups: { id: number; name: string }[] }>().groups.find((g) => g.name === 'All tenant users');
    expect((await rest(PLATFORM, tokenOf('ops'), 'PUT', `/api/v1/groups/${everyone?.id ?? 0}/policy`, { template: 'pageUrl=^https://{{@tenant.slug}}.example.com/{{region}}' })).statusCode).toBe(200);
    try {
      for (const { slug } of TENANTS) {
        const board = boards.get(slug) ?? '';
        expect(await okPage(slug, board, {})).toMatchObject({ visits: 1, rows: ['v1'] });
        expect(await okPage(slug, board, { attributes: { region: 'us' } })).toMatchObject({ visits: 1, rows: ['v2'] });
        // An attribute value cannot widen the policy by injecting segment syntax.
        expect(await okPage(slug, board, { attributes: { region: 'eu,pageUrl=@http' } })).toMatchObject({ visits: 0, rows: [] });
      }
    } finally {
      await rest(PLATFORM, tokenOf('ops'), 'DELETE', `/api/v1/groups/${everyone?.id ?? 0}/policy`);
    }
  });

  it('refuses expired, forged, unsigned (alg none), malformed and foreign-tenant tokens with a clear 4xx', async () => {
    const board = boards.get('shared') ?? '';
    const expect4xx = async (response: LightMyRequestResponse, status: number, text: string): Promise<void> => {
      expect(response.statusCode, response.body).toBe(status);
      expect(response.headers['content-type']).toContain('text/html');
      expect(response.body).toContain(text);
      expect(response.body).not.toContain('nb_visits');
    };
    await expect4xx(await embed('acme.test', board, await sign({ '@tenant': 'acme' }, { expiresIn: Math.floor(Date.now() / 1000) - 120 })), 401, 'expired');
    await expect4xx(await embed('acme.test', board, await sign({ '@tenant': 'acme' }, { secret: 'another-secret-that-is-long-enough-0123456789' })), 401, 'signature is not valid');
    const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ '@tenant': 'acme', exp: Math.floor(Date.now() / 1000) + 300 })}.`;
    await expect4xx(await embed('acme.test', board, unsigned), 401, 'algorithm &quot;none&quot; is not accepted');
    const hs512 = await new SignJWT({ '@tenant': 'acme' }).setProtectedHeader({ alg: 'HS512' }).setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
    await expect4xx(await embed('acme.test', board, hs512), 401, 'HS512');
    await expect4xx(await embed('acme.test', board, undefined), 401, 'needs a signed token');
    await expect4xx(await embed('acme.test', board, 'not-a-jwt'), 401, 'not a JWT');
    await expect4xx(await embed('acme.test', board, await sign({ '@tenant': 'acme' }, { expiresIn: null })), 401, '&quot;exp&quot; claim');
    await expect4xx(await embed('acme.test', board, await sign({})), 401, '@tenant');
    await expect4xx(await embed('acme.test', board, await sign({ '@tenant': 'acme', attributes: { '@tenant.slug': 'globex' } })), 401, 'cannot be set or overridden');
    await expect4xx(await embed('acme.test', board, await sign({ '@tenant': 'acme', attributes: ['x'] })), 401, 'object of strings');
    // A token for globex shown at acme's host: refused, whatever the dashboard.
    await expect4xx(await embed('acme.test', board, await sign({ '@tenant': 'globex' })), 403, 'another tenant');
    await expect4xx(await embed('globex.test', boards.get('globex') ?? '', await sign({ '@tenant': 'acme' })), 403, 'another tenant');
    // Users the token names must be active users of the tenant.
    await expect4xx(await embed('acme.test', board, await sign({ '@tenant': 'acme', user: 'nobody' })), 403, 'not a user of acme');
    await expect4xx(await embed('acme.test', board, await sign({ '@tenant': 'acme', user: 'gone' })), 403, 'deactivated');
    // JSON for clients that ask for it.
    const json = await embed('acme.test', board, 'not-a-jwt', { accept: 'application/json' });
    expect(json.statusCode).toBe(401);
    expect(json.json()).toMatchObject({ error: { code: 'invalid_token', message: expect.stringContaining('not a JWT') } });
  });

  it("never embeds another tenant's dashboard, a personal or internal one, or on the platform host", async () => {
    const acmeToken = await sign({ '@tenant': 'acme' });
    for (const id of [boards.get('globex') ?? '', boards.get('acme:personal') ?? '', boards.get('internal') ?? '', 'no-such-dashboard']) {
      const response = await embed('acme.test', id, acmeToken);
      expect(response.statusCode, id).toBe(404);
      expect(response.body).toContain('no dashboard');
      expect(response.body).not.toContain('nb_visits');
    }
    const globex = await embed('globex.test', boards.get('acme') ?? '', await sign({ '@tenant': 'globex' }));
    expect(globex.statusCode).toBe(404);
    const platform = await embed(PLATFORM, boards.get('shared') ?? '', acmeToken);
    expect(platform.statusCode).toBe(404);
    expect(platform.body).toContain('tenant&#39;s own host');
  });

  it('refuses every embed while embedding is disabled, or enabled without a long enough secret', async () => {
    const token = await sign({ '@tenant': 'acme' });
    try {
      h.platform.settings.set('Embedding.enabled', '0');
      const disabled = await embed('acme.test', boards.get('acme') ?? '', token);
      expect(disabled.statusCode).toBe(403);
      expect(disabled.body).toContain('not enabled');
      h.platform.settings.set('Embedding.enabled', '1');
      h.platform.settings.set('Embedding.secret', 'short');
      const unconfigured = await embed('acme.test', boards.get('acme') ?? '', await sign({ '@tenant': 'acme' }, { secret: 'short' }));
      expect(unconfigured.statusCode).toBe(403);
      expect(unconfigured.body).toContain('at least 32 characters');
    } finally {
      h.platform.settings.set('Embedding.enabled', '1');
      h.platform.settings.set('Embedding.secret', SECRET);
    }
    expect((await embed('acme.test', boards.get('acme') ?? '', token)).statusCode).toBe(200);
  });
});
