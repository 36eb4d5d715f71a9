import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityDbFor } from '../access/context.js';
import { identityStore } from '../access/identity.store.js';
import { checkToken } from '../access/tokens.js';
import { setUserAccess, setUserActive } from '../access/users.service.js';
import { runCli } from '../cli/test-support/run-cli.js';
import { tokenFor, TEST_PASSWORD } from '../http/test-support/harness.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { deactivateTenant } from './deactivation.js';
import { expectError, openTenancyHarness, PLATFORM_HOST, type TenancyHarness } from './test-support/tenancy-harness.js';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
/** Tables a deactivation and a reactivation may change: ended sessions, the audit logs, the suspension records. */
const CHANGING = new Set(['session', 'audit_entry', 'audit_chain_head', 'user_suspension']);
const sameData = (before: Record<string, number>, after: Record<string, number>): void => {
  const strip = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).filter(([table]) => !CHANGING.has(table)));
  expect(strip(after)).toEqual(strip(before));
};

describe('tenant deactivation', () => {
  let h: TenancyHarness;
  let pg: TestPostgresDatabase;
  type S = Awaited<ReturnType<TenancyHarness['signIn']>>;
  let ops: S;

  const track = (host: string, url: string) =>
    h.app.inject({ method: 'GET', url: `/matomo.php?idsite=1&rec=1&url=${encodeURIComponent(url)}&_id=0123456789abcdef&send_image=0`, headers: { host, 'user-agent': CHROME } });

  beforeAll(async () => {
    pg = await createTestPostgresDatabase('deact');
    h = await openTenancyHarness({ PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix });
    await h.addTenant('acme', ['acme.test']);
    await h.addTenant('globex', ['globex.test'], pg.url);
    await h.addTenant('initech', ['initech.test']);
    for (const slug of ['acme', 'globex', 'initech']) {
      await h.addSite(slug, `${slug}-shop`);
      await h.addUser(slug, `${slug}-root`, { superuser: true });
      await h.addUser(slug, `${slug}-ann`);
      await h.addUser(slug, `${slug}-bob`);
      await h.asOperator(slug, (ctx) => setUserAccess(ctx, `${slug}-ann`, 'view', [1]));
    }
    await h.addPlatformUser('ops', { admin: true });
    await h.addPlatformUser('analyst');
    ops = await h.signIn(PLATFORM_HOST, 'ops');
  });
  afterAll(async () => {
    await h?.close();
    await pg?.drop();
  });

  it.each([
    ['acme', 'acme.test', 'SQLite'],
    ['globex', 'globex.test', 'PostgreSQL'],
  ])('deactivating %s (%s) deactivates its users, ends sessions, refuses tokens and tracking, keeps every row; reactivating restores exactly the previous state', async (slug, host) => {
    // An admin deactivated bob before: he must stay deactivated through the whole round trip.
    await h.asOperator(slug, (ctx) => setUserActive(ctx, `${slug}-bob`, false));
    const bobBefore = await h.asOperator(slug, (ctx) => identityStore.findUserByLogin(identityDbFor(h.platform, ctx.scope), `${slug}-bob`));
    const token = await tokenFor(h.app, host, `${slug}-ann`);
    const ann = await h.signIn(host, `${slug}-ann`);
    const root = await h.signIn(host, `${slug}-root`);
    expect((await track(host, 'https://shop.example/before')).statusCode).toBe(204);
    expect((await h.call({ host, token }, 'GET', '/api/v1/me')).statusCode).toBe(200);
    const before = await h.rowCounts(slug);
    expect(before['visit']).toBeGreaterThan(0);

    const off = await h.call(ops, 'POST', `/api/v1/tenants/${slug}/deactivate`);
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json()).toEqual({ slug, status: 'deactivated', changed: true, usersDeactivated: [`${slug}-ann`, `${slug}-root`] });
    await h.refreshTenants();

    // Every surface of its hosts refuses, with a clear answer; tracking in its own format.
    const hit = await track(host, 'https://shop.example/after');
    expect(hit.statusCode).toBe(403);
    expect(hit.body).toContain('is deactivated');
    expectError(await h.call(ann, 'GET', '/api/v1/me'), 403, 'tenant_deactivated');
    expectError(await h.call({ host, token }, 'GET', '/api/v1/me'), 403, 'tenant_deactivated');
    expectError(await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host }, payload: { login: `${slug}-root`, password: TEST_PASSWORD } }), 403, 'tenant_deactivated');
    // Platform admins cannot act inside it either.
    expectError(await h.call(ops, 'GET', '/api/v1/users', undefined, { 'x-plura-tenant': slug }), 403, 'tenant_deactivated');

    // Beneath the host gate: the users are deactivated, their sessions gone, their tokens refused.
    await h.asOperator(slug, async (ctx) => {
      const db = identityDbFor(h.platform, ctx.scope);
      for (const login of [`${slug}-ann`, `${slug}-root`]) expect((await identityStore.findUserByLogin(db, login))?.deactivated_at).not.toBeNull();
      expect(await db.selectFrom('session').selectAll().execute()).toEqual([]);
      expect(await checkToken(db, h.platform.secret, token, true)).toEqual({ ok: false, reason: 'unknown' });
      expect(await identityStore.findUserByLogin(db, `${slug}-bob`)).toEqual(bobBefore);
    });
    sameData(before, await h.rowCounts(slug));

    // Other tenants carry on.
    expect((await track('initech.test', 'https://initech.example/')).statusCode).toBe(204);
    expect((await h.call(await h.signIn('initech.test', 'initech-ann'), 'GET', '/api/v1/me')).statusCode).toBe(200);

    // Deactivating again changes nothing.
    expect((await h.call(ops, 'POST', `/api/v1/tenants/${slug}/deactivate`)).json()).toMatchObject({ changed: false, usersDeactivated: [] });

    const on = await h.call(ops, 'POST', `/api/v1/tenants/${slug}/activate`);
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json()).toEqual({ slug, status: 'active', changed: true, usersReactivated: [`${slug}-ann`, `${slug}-root`], stillDeactivated: [`${slug}-bob`] });
    await h.refreshTenants();

    // The same token works again; sessions stay ended; bob stays exactly as the admin left him.
    expect((await h.call({ host, token }, 'GET', '/api/v1/me')).statusCode).toBe(200);
    expectError(await h.call(root, 'GET', '/api/v1/me'), 401);
    expect((await h.call(await h.signIn(host, `${slug}-root`), 'GET', '/api/v1/me')).statusCode).toBe(200);
    expectError(await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host }, payload: { login: `${slug}-bob`, password: TEST_PASSWORD } }), 403, 'user_deactivated');
    await h.asOperator(slug, async (ctx) => {
      const db = identityDbFor(h.platform, ctx.scope);
      expect(await identityStore.findUserByLogin(db, `${slug}-bob`)).toEqual(bobBefore);
      expect((await identityStore.findUserByLogin(db, `${slug}-ann`))?.deactivated_at).toBeNull();
      expect(await ctx.scope.store.db.selectFrom('user_suspension').selectAll().execute()).toEqual([]);
    });
    expect((await track(host, 'https://shop.example/again')).statusCode).toBe(204);
    const after = await h.rowCounts(slug);
    expect(after['visit_action']).toBe((before['visit_action'] ?? 0) + 1);

    // Audited on both sides: the platform's log and the tenant's own.
    const platformLog = await h.auditActions(null);
    expect(platformLog.filter((e) => e.tenant === slug && e.action.startsWith('tenant.'))).toEqual([
      { action: 'tenant.deactivated', actor: 'platform:ops', tenant: slug, after: { status: 'deactivated', usersDeactivated: [`${slug}-ann`, `${slug}-root`] } },
      { action: 'tenant.activated', actor: 'platform:ops', tenant: slug, after: { status: 'active', usersReactivated: [`${slug}-ann`, `${slug}-root`] } },
    ]);
    const tenantLog = await h.auditActions(slug);
    expect(tenantLog.filter((e) => e.action.startsWith('tenant.'))).toEqual([
      { action: 'tenant.deactivated', actor: 'platform:ops', tenant: slug, after: { usersDeactivated: [`${slug}-ann`, `${slug}-root`] } },
      { action: 'tenant.activated', actor: 'platform:ops', tenant: slug, after: { usersReactivated: [`${slug}-ann`, `${slug}-root`], stillDeactivated: [`${slug}-bob`] } },
    ]);
    // Nothing leaked into the bystander's log.
    expect((await h.auditActions('initech')).some((e) => e.action.startsWith('tenant.'))).toBe(false);
  });

  it('hits acknowledged before the deactivation are still stored', async () => {
    const before = await h.rowCounts('initech');
    expect((await track('initech.test', 'https://initech.example/late')).statusCode).toBe(204);
    await deactivateTenant(h.platform, { kind: 'system', name: 'test' }, 'initech');
    await h.refreshTenants();
    expect((await track('initech.test', 'https://initech.example/refused')).statusCode).toBe(403);
    const after = await h.rowCounts('initech');
    expect(after['visit_action']).toBe((before['visit_action'] ?? 0) + 1);
    expect((await h.call(ops, 'POST', '/api/v1/tenants/initech/activate')).statusCode).toBe(200);
    await h.refreshTenants();
  });

  it('only platform admins deactivate or activate tenants', async () => {
    const analyst = await h.signIn(PLATFORM_HOST, 'analyst');
    expectError(await h.call(analyst, 'POST', '/api/v1/tenants/acme/deactivate'), 403, 'forbidden');
    expectError(await h.call({ host: PLATFORM_HOST }, 'POST', '/api/v1/tenants/acme/deactivate'), 401, 'unauthenticated');
    const acmeRoot = await h.signIn('acme.test', 'acme-root');
    expectError(await h.call(acmeRoot, 'POST', '/api/v1/tenants/acme/deactivate'), 403, 'forbidden');
    expectError(await h.call(acmeRoot, 'POST', '/api/v1/tenants/globex/activate'), 403, 'forbidden');
    expectError(await h.call(ops, 'POST', '/api/v1/tenants/no-such-tenant/deactivate'), 404, 'unknown_tenant');
    expect((await h.platform.tenants.get('acme')).status).toBe('active');
  });

  it('plura tenant:deactivate and tenant:activate do the same at the shell', async () => {
    const off = await runCli(h.dataDir, 'tenant:deactivate', 'initech', '--format', 'json');
    expect(off.code, off.err).toBe(0);
    expect(JSON.parse(off.out)).toMatchObject({ slug: 'initech', status: 'deactivated', changed: true, usersDeactivated: ['initech-ann', 'initech-bob', 'initech-root'] });
    const on = await runCli(h.dataDir, 'tenant:activate', '--tenant', 'initech.test');
    expect(on.code, on.err).toBe(0);
    expect(on.out).toBe('Activated tenant initech.\nActive again (tokens work again): initech-ann, initech-bob, initech-root.');
    const log = await h.auditActions(null);
    expect(log.filter((e) => e.tenant === 'initech' && e.actor === 'cli').map((e) => e.action)).toEqual(['tenant.deactivated', 'tenant.activated']);
  });
});
