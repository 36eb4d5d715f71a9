import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { tokenFor } from '../http/test-support/harness.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { expectError, openTenancyHarness, PLATFORM_HOST, type TenancyHarness } from './test-support/tenancy-harness.js';

type S = Awaited<ReturnType<TenancyHarness['signIn']>>;

/** The smallest images of each kind whose first bytes are what their format says. */
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex');
const GIF = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00', 'latin1');
const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.from([0x1a, 0, 0, 0]), Buffer.from('WEBPVP8L'), Buffer.alloc(8)]);
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');

describe('tenant administration over REST', () => {
  let h: TenancyHarness;
  let pg: TestPostgresDatabase;
  let ops: S;
  let analyst: S;

  beforeAll(async () => {
    pg = await createTestPostgresDatabase('tadmin');
    h = await openTenancyHarness({ PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix });
    await h.addTenant('acme', ['acme.test']);
    await h.addTenant('globex', ['globex.test'], pg.url);
    for (const slug of ['acme', 'globex']) {
      await h.addUser(slug, `${slug}-root`, { superuser: true });
      await h.addUser(slug, `${slug}-ann`);
    }
    await h.addPlatformUser('ops', { admin: true });
    await h.addPlatformUser('analyst');
    ops = await h.signIn(PLATFORM_HOST, 'ops');
    analyst = await h.signIn(PLATFORM_HOST, 'analyst');
  });
  afterAll(async () => {
    await h?.close();
    await pg?.drop();
  });

  const put = (session: S | { host: string; token?: string }, url: string, contentType: string, body: Buffer, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> => {
    const auth = 'cookie' in session ? { cookie: session.cookie, 'x-csrf-token': session.csrf } : session.token ? { authorization: `Bearer ${session.token}` } : {};
    return h.app.inject({ method: 'PUT', url, headers: { host: session.host, 'content-type': contentType, ...auth, ...headers }, payload: body });
  };

  describe('GET /api/v1/tenant', () => {
    it('answers the platform face on the platform host and the tenant face elsewhere', async () => {
      const platform = await h.call({ host: PLATFORM_HOST }, 'GET', '/api/v1/tenant');
      expect(platform.statusCode, platform.body).toBe(200);
      expect(platform.json()).toEqual({ slug: '', name: 'Plura platform', platform: true, branding: { productName: 'Plura', logoUrl: null, primaryColor: null }, language: 'en' });
      const acme = await h.call({ host: 'acme.test' }, 'GET', '/api/v1/tenant');
      expect(acme.json()).toMatchObject({ slug: 'acme', platform: false });
    });
  });

  describe('platform admins: /api/v1/tenants', () => {
    it('lists every tenant with its storage described and never a password', async () => {
      const response = await h.call(ops, 'GET', '/api/v1/tenants');
      expect(response.statusCode, response.body).toBe(200);
      const { tenants } = response.json<{ tenants: Record<string, unknown>[] }>();
      const acme = tenants.find((t) => t['slug'] === 'acme');
      const globex = tenants.find((t) => t['slug'] === 'globex');
      expect(acme).toEqual({
        slug: 'acme',
        name: 'acme',
        hosts: ['acme.test'],
        status: 'active',
        attributes: {},
        limits: { maxUsers: null, maxSites: null },
        branding: { productName: null, primaryColor: null, logoUrl: null },
        language: null,
        timezone: null,
        storage: 'sqlite',
        createdAt: expect.any(String) as string,
        updatedAt: expect.any(String) as string,
      });
      expect(globex?.['storage']).toMatch(/^postgres(ql)?:\/\/.* \(schema .+\)$/);
      expect(response.body).not.toMatch(/password/i);
    });

    it.each([
      ['initech', 'sqlite', undefined],
      ['umbrella', 'PostgreSQL', 'pg'],
    ])('creates %s on %s: 201, its host answers at once, audited as tenant.created', async (slug, _label, storage) => {
      const body = { slug, hosts: [`${slug}.test`, `www.${slug}.test`], name: `${slug} Inc.`, ...(storage ? { storage: pg.url } : {}) };
      const response = await h.call(ops, 'POST', '/api/v1/tenants', body);
      expect(response.statusCode, response.body).toBe(201);
      expect(response.json()).toMatchObject({ slug, name: `${slug} Inc.`, hosts: [`${slug}.test`, `www.${slug}.test`], status: 'active', storage: storage ? expect.stringContaining('(schema ') as string : 'sqlite' });
      const face = await h.call({ host: `www.${slug}.test` }, 'GET', '/api/v1/tenant');
      expect(face.statusCode, face.body).toBe(200);
      expect(face.json()).toMatchObject({ slug, name: `${slug} Inc.`, platform: false });
      const created = (await h.auditActions(null)).filter((e) => e.action === 'tenant.created' && e.tenant === slug);
      expect(created).toEqual([{ action: 'tenant.created', actor: 'platform:ops', tenant: slug, after: { hosts: [`${slug}.test`, `www.${slug}.test`], name: `${slug} Inc.`, storage: expect.any(String) as string } }]);
      const got = await h.call(ops, 'GET', `/api/v1/tenants/${slug}`);
      expect(got.json()).toEqual(response.json());
    });

    it('refuses bad creations with a clear 4xx and creates nothing', async () => {
      const before = (await h.platform.tenants.list()).length;
      expectError(await h.call(ops, 'POST', '/api/v1/tenants', { slug: 'acme', hosts: ['acme2.test'] }), 409, 'duplicate_tenant');
      expectError(await h.call(ops, 'POST', '/api/v1/tenants', { slug: 'dup-host', hosts: ['acme.test'] }), 409, 'duplicate_host');
      expectError(await h.call(ops, 'POST', '/api/v1/tenants', { slug: 'Bad Slug', hosts: ['bad.test'] }), 400, 'invalid_slug');
      expectError(await h.call(ops, 'POST', '/api/v1/tenants', { slug: 'badhost', hosts: ['not a host!'] }), 400, 'invalid_host');
      expectError(await h.call(ops, 'POST', '/api/v1/tenants', { slug: 'nohosts', hosts: [] }), 400, 'invalid_input');
      expectError(await h.call(ops, 'POST', '/api/v1/tenants', { slug: 'noarray', hosts: 'x.test' }), 400, 'invalid_input');
      expectError(await h.call(ops, 'POST', '/api/v1/tenants', { slug: 'extra', hosts: ['extra.test'], colour: 'red' }), 400, 'invalid_input');
      expectError(await h.call(ops, 'POST', '/api/v1/tenants', { slug: 'mysql', hosts: ['mysql.test'], storage: 'mysql://u:secret@db/x' }), 400, 'invalid_input');
      expect(expectError(await h.call(ops, 'POST', '/api/v1/tenants', { slug: 'grab', hosts: [PLATFORM_HOST] }), 400, 'invalid_host')).toContain("platform's own host");
      expectError(await h.call(ops, 'POST', '/api/v1/tenants', { slug: 42, hosts: ['n.test'] }), 400, 'invalid_input');
      const notJson = await h.app.inject({ method: 'POST', url: '/api/v1/tenants', headers: { host: PLATFORM_HOST, cookie: ops.cookie, 'x-csrf-token': ops.csrf, 'content-type': 'application/json' }, payload: '{"slug":' });
      expectError(notJson, 400);
      expect((await h.platform.tenants.list()).length).toBe(before);
      expect(existsSync(`${h.dataDir}/tenants/extra`)).toBe(false);
    });

    it('is for platform admins on the platform host only', async () => {
      const root = await h.signIn('acme.test', 'acme-root');
      const rootToken = await tokenFor(h.app, 'acme.test', 'acme-root');
      const body = { slug: 'sneaky', hosts: ['sneaky.test'] };
      for (const [method, url, payload] of [
        ['GET', '/api/v1/tenants', undefined],
        ['POST', '/api/v1/tenants', body],
        ['GET', '/api/v1/tenants/acme', undefined],
        ['PATCH', '/api/v1/tenants/acme', { name: 'Taken' }],
      ] as const) {
        expectError(await h.call(analyst, method, url, payload), 403, 'forbidden');
        expectError(await h.call({ host: PLATFORM_HOST }, method, url, payload), 401, 'unauthenticated');
        expectError(await h.call(root, method, url, payload), 403, 'forbidden');
        expectError(await h.call({ host: 'acme.test', token: rootToken }, method, url, payload), 403, 'forbidden');
        expectError(await h.call({ host: 'globex.test', token: rootToken }, method, url, payload), 401, 'invalid_token');
      }
      expect((await h.platform.tenants.get('acme')).name).toBe('acme');
      await expect(h.platform.tenants.get('sneaky')).rejects.toMatchObject({ code: 'unknown_tenant' });
      expectError(await h.call(ops, 'GET', '/api/v1/tenants/no-such-tenant'), 404, 'unknown_tenant');
      expectError(await h.call(ops, 'PATCH', '/api/v1/tenants/no-such-tenant', { name: 'x' }), 404, 'unknown_tenant');
    });

    it.each([
      ['acme', 'SQLite'],
      ['globex', 'PostgreSQL'],
    ])('changes %s (%s): hosts answer at once, audited with before and after in both logs', async (slug) => {
      const response = await h.call(ops, 'PATCH', `/api/v1/tenants/${slug}`, {
        name: `${slug} GmbH`,
        addHosts: [`analytics.${slug}.test`],
        attributes: { region: 'eu', plan: 'gold' },
        maxUsers: 25,
        maxSites: 0,
        productName: `${slug} Insights`,
        primaryColor: '#1A73E8',
        language: 'de',
        timezone: 'Europe/Berlin',
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toMatchObject({
        slug,
        name: `${slug} GmbH`,
        hosts: [`${slug}.test`, `analytics.${slug}.test`],
        attributes: { region: 'eu', plan: 'gold' },
        limits: { maxUsers: 25, maxSites: 0 },
        branding: { productName: `${slug} Insights`, primaryColor: '#1a73e8', logoUrl: null },
        language: 'de',
        timezone: 'Europe/Berlin',
      });
      const face = await h.call({ host: `analytics.${slug}.test` }, 'GET', '/api/v1/tenant');
      expect(face.json()).toMatchObject({ slug, name: `${slug} GmbH`, language: 'de', branding: { productName: `${slug} Insights`, primaryColor: '#1a73e8' } });

      // null and false-y values mean what they say: back to the defaults, not coerced to "" or 0.
      const back = await h.call(ops, 'PATCH', `/api/v1/tenants/${slug}`, { removeHosts: [`${slug}.test`], removeAttributes: ['plan'], maxUsers: null, primaryColor: null, language: null, timezone: null, productName: null });
      expect(back.statusCode, back.body).toBe(200);
      expect(back.json()).toMatchObject({ hosts: [`analytics.${slug}.test`], attributes: { region: 'eu' }, limits: { maxUsers: null, maxSites: 0 }, branding: { productName: null, primaryColor: null }, language: null, timezone: null });
      expectError(await h.call({ host: `${slug}.test` }, 'GET', '/api/v1/tenant'), 404, 'unknown_host');
      // Restore the host the other tests use.
      expect((await h.call(ops, 'PATCH', `/api/v1/tenants/${slug}`, { addHosts: [`${slug}.test`], removeHosts: [`analytics.${slug}.test`], name: slug })).statusCode).toBe(200);
      expect((await h.call({ host: `${slug}.test` }, 'GET', '/api/v1/tenant')).statusCode).toBe(200);

      const platformLog = (await h.auditActions(null)).filter((e) => e.action === 'tenant.updated' && e.tenant === slug);
      const tenantLog = (await h.auditActions(slug)).filter((e) => e.action === 'tenant.updated');
      expect(platformLog).toHaveLength(3);
      expect(tenantLog).toEqual(platformLog);
      expect(platformLog[0]).toMatchObject({ actor: 'platform:ops', after: { name: `${slug} GmbH`, limits: { maxUsers: 25, maxSites: 0 }, language: 'de', timezone: 'Europe/Berlin' } });
      // Only what changed, and never where the data lives.
      expect(Object.keys(platformLog[1]?.after as object).sort()).toEqual(['attributes', 'branding', 'hosts', 'language', 'limits', 'timezone']);
      expect(JSON.stringify(platformLog)).not.toContain('storage');
    });

    it('refuses bad changes with a clear 4xx and changes nothing', async () => {
      const before = await h.platform.tenants.get('acme');
      const patch = (body: unknown) => h.call(ops, 'PATCH', '/api/v1/tenants/acme', body);
      expect(expectError(await patch({ primaryColor: 'red' }), 400, 'invalid_input')).toContain('#1a73e8');
      expectError(await patch({ maxUsers: -1 }), 400, 'invalid_input');
      expectError(await patch({ maxUsers: '5' }), 400, 'invalid_input');
      expectError(await patch({ maxUsers: 2.5 }), 400, 'invalid_input');
      expectError(await patch({ timezone: 'Mars/Olympus_Mons' }), 400, 'invalid_input');
      expectError(await patch({ language: 'english please' }), 400, 'invalid_input');
      expectError(await patch({ name: '' }), 400, 'invalid_input');
      expectError(await patch({ name: '   ' }), 400, 'invalid_input');
      expectError(await patch({ addHosts: ['globex.test'] }), 409, 'duplicate_host');
      expectError(await patch({ addHosts: [PLATFORM_HOST] }), 400, 'invalid_host');
      expectError(await patch({ removeHosts: ['acme.test'] }), 400, 'invalid_input');
      expectError(await patch({ attributes: { '@tenant.slug': 'globex' } }), 400, 'invalid_input');
      expectError(await patch({ attributes: { region: 5 } }), 400, 'invalid_input');
      expectError(await patch({ slug: 'renamed' }), 400, 'invalid_input');
      expectError(await patch({ status: 'deactivated' }), 400, 'invalid_input');
      expectError(await patch([]), 400, 'invalid_input');
      const after = await h.platform.tenants.get('acme');
      expect(after).toEqual(before);
    });
  });

  describe.each([
    ['acme', 'SQLite'],
    ['globex', 'PostgreSQL'],
  ])('the super users of %s (%s)', (slug) => {
    const host = `${slug}.test`;
    const other = slug === 'acme' ? 'globex' : 'acme';
    let root: S;

    beforeAll(async () => {
      root = await h.signIn(host, `${slug}-root`);
    });

    it('PATCH /api/v1/tenant changes branding and defaults of their own tenant, audited in both logs', async () => {
      const otherBefore = (await h.call({ host: `${other}.test` }, 'GET', '/api/v1/tenant')).json<unknown>();
      const response = await h.call(root, 'PATCH', '/api/v1/tenant', { productName: 'Own Analytics', primaryColor: '#00AA00', language: 'fr', timezone: 'Europe/Paris' });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toEqual({ slug, name: slug, hosts: [host], branding: { productName: 'Own Analytics', primaryColor: '#00aa00', logoUrl: null }, language: 'fr', timezone: 'Europe/Paris' });
      expect((await h.call({ host }, 'GET', '/api/v1/tenant')).json()).toMatchObject({ language: 'fr', branding: { productName: 'Own Analytics', primaryColor: '#00aa00' } });
      // GET /api/v1/tenant/profile reads the stored values back (super users only; anonymous callers are refused).
      expect((await h.call(root, 'GET', '/api/v1/tenant/profile')).json()).toEqual(response.json());
      expect((await h.call({ host }, 'GET', '/api/v1/tenant/profile')).statusCode).toBe(401);
      // The other tenant is untouched.
      expect((await h.call({ host: `${other}.test` }, 'GET', '/api/v1/tenant')).json()).toEqual(otherBefore);

      // A platform admin acting in the tenant does the same from the platform host.
      const acting = await h.call(ops, 'PATCH', '/api/v1/tenant', { productName: null, language: null }, { 'x-plura-tenant': slug });
      expect(acting.statusCode, acting.body).toBe(200);
      expect(acting.json()).toMatchObject({ slug, branding: { productName: null, primaryColor: '#00aa00' }, language: null, timezone: 'Europe/Paris' });

      const tenantLog = (await h.auditActions(slug)).filter((e) => e.action === 'tenant.updated').slice(-2);
      expect(tenantLog).toEqual([
        { action: 'tenant.updated', actor: `${slug}-root`, tenant: slug, after: { branding: { productName: 'Own Analytics', primaryColor: '#00aa00', logoUrl: null }, language: 'fr', timezone: 'Europe/Paris' } },
        { action: 'tenant.updated', actor: 'platform:ops', tenant: slug, after: { branding: { productName: null, primaryColor: '#00aa00', logoUrl: null }, language: null } },
      ]);
      expect((await h.auditActions(null)).filter((e) => e.action === 'tenant.updated' && e.tenant === slug).slice(-2)).toEqual(tenantLog);
      expect((await h.auditActions(other)).some((e) => e.actor === `${slug}-root`)).toBe(false);
    });

    it('PATCH /api/v1/tenant refuses other fields, bad values, other roles and other tenants', async () => {
      const before = await h.platform.tenants.get(slug);
      for (const body of [{ name: 'Renamed' }, { hosts: ['x.test'] }, { maxUsers: 1 }, { attributes: { a: 'b' } }, { primaryColor: 'green' }, { timezone: 'Nowhere/Land' }, { productName: 7 }]) {
        expectError(await h.call(root, 'PATCH', '/api/v1/tenant', body), 400, 'invalid_input');
      }
      const ann = await h.signIn(host, `${slug}-ann`);
      expectError(await h.call(ann, 'PATCH', '/api/v1/tenant', { productName: 'Mine' }), 403, 'forbidden');
      expectError(await h.call({ host }, 'PATCH', '/api/v1/tenant', { productName: 'Mine' }), 401, 'unauthenticated');
      const otherRoot = await tokenFor(h.app, `${other}.test`, `${other}-root`);
      expectError(await h.call({ host, token: otherRoot }, 'PATCH', '/api/v1/tenant', { productName: 'Mine' }), 401, 'invalid_token');
      // A platform user who is no admin holds nothing inside a tenant.
      expectError(await h.call(analyst, 'PATCH', '/api/v1/tenant', { productName: 'Mine' }, { 'x-plura-tenant': slug }), 403, 'forbidden');
      // On the platform host without naming a tenant, there is no "own" tenant.
      expect(expectError(await h.call(ops, 'PATCH', '/api/v1/tenant', { productName: 'Mine' }), 400, 'invalid_input')).toContain('X-Plura-Tenant');
      expect(await h.platform.tenants.get(slug)).toEqual(before);
    });

    it('PUT /api/v1/tenant/logo stores a checked image that GET serves with safe headers; DELETE removes it', async () => {
      const stored = await put(root, '/api/v1/tenant/logo', 'image/png', PNG);
      expect(stored.statusCode, stored.body).toBe(200);
      expect(stored.json()).toEqual({ logoUrl: '/api/v1/tenant/logo', contentType: 'image/png', bytes: PNG.length });
      expect((await h.call({ host }, 'GET', '/api/v1/tenant')).json()).toMatchObject({ branding: { logoUrl: expect.stringMatching(/^\/api\/v1\/tenant\/logo\?v=/) } });

      const served = await h.call({ host }, 'GET', '/api/v1/tenant/logo');
      expect(served.statusCode).toBe(200);
      expect(served.rawPayload.equals(PNG)).toBe(true);
      expect(served.headers).toMatchObject({ 'content-type': 'image/png', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
      const etag = served.headers['etag'];
      expect(typeof etag).toBe('string');
      expect((await h.call({ host }, 'GET', '/api/v1/tenant/logo', undefined, { 'if-none-match': String(etag) })).statusCode).toBe(304);

      // Platform admins see it from the platform host, as their tenant list links it.
      const listed = (await h.call(ops, 'GET', `/api/v1/tenants/${slug}`)).json<{ branding: { logoUrl: string } }>();
      expect(listed.branding.logoUrl).toBe(`/api/v1/tenant/logo?tenant=${slug}`);
      const fromPlatform = await h.call(ops, 'GET', listed.branding.logoUrl);
      expect(fromPlatform.statusCode).toBe(200);
      expect(fromPlatform.rawPayload.equals(PNG)).toBe(true);
      expectError(await h.call({ host: PLATFORM_HOST }, 'GET', listed.branding.logoUrl), 401, 'unauthenticated');
      expectError(await h.call(analyst, 'GET', listed.branding.logoUrl), 403, 'forbidden');
      expectError(await h.call({ host: PLATFORM_HOST }, 'GET', '/api/v1/tenant/logo'), 404);

      // Each format by its first bytes; a replaced logo leaves no file behind.
      for (const [type, bytes] of [['image/jpeg', JPEG], ['image/gif', GIF], ['image/webp; charset=binary', WEBP]] as const) {
        const response = await put(root, '/api/v1/tenant/logo', type, bytes);
        expect(response.statusCode, response.body).toBe(200);
        const again = await h.call({ host }, 'GET', '/api/v1/tenant/logo');
        expect(again.headers['content-type']).toBe(type.split(';')[0]);
        expect(again.rawPayload.equals(bytes)).toBe(true);
      }
      expect(readdirSync(h.platform.paths.tenantFilesDir(slug))).toEqual(['logo.webp']);

      // A platform admin acting in the tenant may upload too.
      expect((await put(ops, `/api/v1/tenant/logo?tenant=${slug}`, 'image/png', PNG)).statusCode).toBe(200);
      expect(readdirSync(h.platform.paths.tenantFilesDir(slug))).toEqual(['logo.png']);

      const removed = await h.call(root, 'DELETE', '/api/v1/tenant/logo');
      expect(removed.statusCode, removed.body).toBe(204);
      expectError(await h.call({ host }, 'GET', '/api/v1/tenant/logo'), 404, 'not_found');
      expect(readdirSync(h.platform.paths.tenantFilesDir(slug))).toEqual([]);
      expect((await h.call(root, 'DELETE', '/api/v1/tenant/logo')).statusCode).toBe(204);

      const log = (await h.auditActions(slug)).filter((e) => e.action.startsWith('tenant.logo_'));
      expect(log.map((e) => [e.action, e.actor])).toEqual([
        ['tenant.logo_changed', `${slug}-root`],
        ['tenant.logo_changed', `${slug}-root`],
        ['tenant.logo_changed', `${slug}-root`],
        ['tenant.logo_changed', `${slug}-root`],
        ['tenant.logo_changed', 'platform:ops'],
        ['tenant.logo_removed', `${slug}-root`],
      ]);
      expect(log[0]?.after).toMatchObject({ logo: 'logo.png', contentType: 'image/png', bytes: PNG.length, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as string });
      expect((await h.auditActions(null)).filter((e) => e.tenant === slug && e.action.startsWith('tenant.logo_'))).toEqual(log);
    });

    it('PUT /api/v1/tenant/logo refuses SVG, other types, mismatched or empty bodies, big files, and everyone but super users', async () => {
      expect(expectError(await put(root, '/api/v1/tenant/logo', 'image/svg+xml', SVG), 415, 'unsupported_media_type')).toContain('scripts');
      expectError(await put(root, '/api/v1/tenant/logo', 'text/html', SVG), 415, 'unsupported_media_type');
      expectError(await h.call(root, 'PUT', '/api/v1/tenant/logo', { image: 'base64...' }), 415, 'unsupported_media_type');
      expect(expectError(await put(root, '/api/v1/tenant/logo', 'image/png', JPEG), 400, 'invalid_input')).toContain('not a PNG image');
      expectError(await put(root, '/api/v1/tenant/logo', 'image/gif', SVG), 400, 'invalid_input');
      expectError(await put(root, '/api/v1/tenant/logo', 'image/png', Buffer.alloc(0)), 400, 'invalid_input');
      const big = Buffer.concat([PNG, Buffer.alloc(512 * 1024)]);
      expect(expectError(await put(root, '/api/v1/tenant/logo', 'image/png', big), 413, 'payload_too_large')).toContain('512 KB');
      const ann = await h.signIn(host, `${slug}-ann`);
      expectError(await put(ann, '/api/v1/tenant/logo', 'image/png', PNG), 403, 'forbidden');
      expectError(await h.call(ann, 'DELETE', '/api/v1/tenant/logo'), 403, 'forbidden');
      expectError(await put({ host }, '/api/v1/tenant/logo', 'image/png', PNG), 401, 'unauthenticated');
      const otherRoot = await tokenFor(h.app, `${other}.test`, `${other}-root`);
      expectError(await put({ host, token: otherRoot }, '/api/v1/tenant/logo', 'image/png', PNG), 401, 'invalid_token');
      // A session without its CSRF token cannot change the logo.
      expectError(await h.app.inject({ method: 'PUT', url: '/api/v1/tenant/logo', headers: { host, cookie: root.cookie, 'content-type': 'image/png' }, payload: PNG }), 403, 'csrf_failed');
      expect((await h.platform.tenants.get(slug)).branding.logoFile).toBeNull();
      expect(readdirSync(h.platform.paths.tenantFilesDir(slug))).toEqual([]);
    });
  });
});
