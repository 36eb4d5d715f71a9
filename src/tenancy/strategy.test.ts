import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityDbFor } from '../access/context.js';
import { identityStore } from '../access/identity.store.js';
import { collectionShownUnderStrategy, decideUserMove, type Actor } from '../access/policy.js';
import { setUserAccess, setUserActive } from '../access/users.service.js';
import { runCli } from '../cli/test-support/run-cli.js';
import { SignJWT } from 'jose';
import { tokenFor, TEST_PASSWORD } from '../http/test-support/harness.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { expectError, openTenancyHarness, PLATFORM_HOST, type TenancyHarness } from './test-support/tenancy-harness.js';

const admin: Actor = { kind: 'platform_user', userId: 1, login: 'ops', platformAdmin: true, actingIn: null };
const analyst: Actor = { kind: 'platform_user', userId: 2, login: 'analyst', platformAdmin: false, actingIn: null };
const tenantRoot: Actor = { kind: 'tenant_user', tenant: 'acme', userId: 1, login: 'root', superuser: true, sites: new Map() };
const system: Actor = { kind: 'system', name: 'cli' };

describe('tenant strategy rules (policy)', () => {
  it('hides shared and tenant collections from every user while single-tenant, and only then', () => {
    for (const actor of [admin, analyst, tenantRoot]) {
      for (const kind of ['shared', 'tenant'] as const) {
        expect(collectionShownUnderStrategy(actor, kind, 'single-tenant').allowed).toBe(false);
        expect(collectionShownUnderStrategy(actor, kind, 'multi-tenant').allowed).toBe(true);
      }
      for (const kind of ['internal', 'personal'] as const) expect(collectionShownUnderStrategy(actor, kind, 'single-tenant').allowed).toBe(true);
    }
    expect(collectionShownUnderStrategy(system, 'shared', 'single-tenant').allowed).toBe(true);
  });

  it('lets only platform admins move users, never tenant to tenant, never into a tenant while single-tenant', () => {
    expect(decideUserMove(admin, { from: null, to: 'acme', strategy: 'multi-tenant' }).allowed).toBe(true);
    expect(decideUserMove(admin, { from: 'acme', to: null, strategy: 'single-tenant' }).allowed).toBe(true);
    expect(decideUserMove(analyst, { from: null, to: 'acme', strategy: 'multi-tenant' })).toMatchObject({ allowed: false, refusal: 'actor' });
    expect(decideUserMove(tenantRoot, { from: 'acme', to: null, strategy: 'multi-tenant' })).toMatchObject({ allowed: false, refusal: 'actor' });
    expect(decideUserMove(admin, { from: 'acme', to: 'globex', strategy: 'multi-tenant' })).toMatchObject({ allowed: false, refusal: 'rule' });
    expect(decideUserMove(admin, { from: 'acme', to: 'acme', strategy: 'multi-tenant' })).toMatchObject({ allowed: false, refusal: 'rule' });
    expect(decideUserMove(admin, { from: null, to: 'acme', strategy: 'single-tenant' })).toMatchObject({ allowed: false, refusal: 'rule' });
  });
});

describe('tenant strategy switch', () => {
  let h: TenancyHarness;
  let pg: TestPostgresDatabase;
  type S = Awaited<ReturnType<TenancyHarness['signIn']>>;
  let ops: S;
  let analystSession: S;
  const items: Record<string, string> = {};
  const report = { method: 'SitesManager.getSiteFromId', params: { idSite: '1' }, visualization: 'table' };

  const kindsSeen = async (session: S, headers: Record<string, string> = {}): Promise<string[]> => {
    const response = await h.call(session, 'GET', '/api/v1/collections', undefined, headers);
    expect(response.statusCode, response.body).toBe(200);
    return [...new Set(response.json<{ collections: { kind: string }[] }>().collections.map((c) => c.kind))].sort();
  };
  const signInRefused = async (host: string, login: string) =>
    expectError(await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host }, payload: { login, password: TEST_PASSWORD } }), 403, 'user_deactivated');

  beforeAll(async () => {
    pg = await createTestPostgresDatabase('strategy');
    h = await openTenancyHarness({ PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix });
    await h.addTenant('acme', ['acme.test']);
    await h.addTenant('globex', ['globex.test'], pg.url);
    for (const slug of ['acme', 'globex']) {
      await h.addSite(slug, `${slug}-shop`);
      await h.addUser(slug, `${slug}-root`, { superuser: true });
      await h.addUser(slug, `${slug}-ann`);
      await h.addUser(slug, `${slug}-bob`);
      await h.asOperator(slug, (ctx) => setUserAccess(ctx, `${slug}-ann`, 'view', [1]));
    }
    await h.asOperator('acme', (ctx) => setUserActive(ctx, 'acme-bob', false));
    await h.addPlatformUser('ops', { admin: true });
    await h.addPlatformUser('analyst');
    ops = await h.signIn(PLATFORM_HOST, 'ops');
    analystSession = await h.signIn(PLATFORM_HOST, 'analyst');

    // A shared dashboard for every tenant user, a tenant report, an internal one, a personal one.
    const groups = (await h.call(ops, 'GET', '/api/v1/groups')).json<{ groups: { id: number; name: string }[] }>().groups;
    const allTenant = groups.find((g) => g.name === 'All tenant users')?.id;
    const allInternal = groups.find((g) => g.name === 'All internal users')?.id;
    expect((await h.call(ops, 'PUT', '/api/v1/collections/shared/permissions', { groupId: allTenant, level: 'view' })).statusCode).toBe(200);
    expect((await h.call(ops, 'PUT', '/api/v1/collections/shared/permissions', { groupId: allInternal, level: 'view' })).statusCode).toBe(200);
    expect((await h.call(ops, 'PUT', '/api/v1/collections/internal/permissions', { groupId: allInternal, level: 'view' })).statusCode).toBe(200);
    const create = async (session: S, collectionId: string, name: string) => {
      const response = await h.call(session, 'POST', '/api/v1/items', { collectionId, kind: 'saved_report', name, definition: report });
      expect(response.statusCode, response.body).toBe(201);
      return response.json<{ id: string }>().id;
    };
    items['shared'] = await create(ops, 'shared', 'Shared report');
    items['internal'] = await create(ops, 'internal', 'Internal report');
    items['acme'] = await create(await h.signIn('acme.test', 'acme-ann'), 'tenant', 'Acme report');
    const personal = (await h.call(analystSession, 'GET', '/api/v1/collections')).json<{ collections: { id: string; kind: string }[] }>().collections.find((c) => c.kind === 'personal')?.id ?? '';
    items['personal'] = await create(analystSession, personal, 'Mine');
  });
  afterAll(async () => {
    await h?.close();
    await pg?.drop();
  });

  it('is multi-tenant by default; only platform admins read or switch it', async () => {
    expect((await h.call(ops, 'GET', '/api/v1/platform/strategy')).json()).toEqual({ strategy: 'multi-tenant', changedAt: null });
    expectError(await h.call(analystSession, 'GET', '/api/v1/platform/strategy'), 403, 'forbidden');
    expectError(await h.call(analystSession, 'PUT', '/api/v1/platform/strategy', { strategy: 'single' }), 403, 'forbidden');
    expectError(await h.call({ host: PLATFORM_HOST }, 'PUT', '/api/v1/platform/strategy', { strategy: 'single' }), 401, 'unauthenticated');
    expectError(await h.call(await h.signIn('acme.test', 'acme-root'), 'PUT', '/api/v1/platform/strategy', { strategy: 'single' }), 403, 'forbidden');
    expectError(await h.call(ops, 'PUT', '/api/v1/platform/strategy', { strategy: 'dual' }), 400);
    expect((await h.call(ops, 'GET', '/api/v1/platform/strategy')).json()).toMatchObject({ strategy: 'multi-tenant' });
  });

  it('single-tenant deactivates tenant users and hides tenant and shared collections; multi-tenant restores exactly them and keeps platform users as they are', async () => {
    const annToken = await tokenFor(h.app, 'globex.test', 'globex-ann');
    const ann = await h.signIn('acme.test', 'acme-ann');
    expect(await kindsSeen(ann)).toEqual(['personal', 'shared', 'tenant']);
    expect(await kindsSeen(ops)).toEqual(['internal', 'personal', 'shared']);
    const bobBefore = await h.asOperator('acme', (ctx) => identityStore.findUserByLogin(identityDbFor(h.platform, ctx.scope), 'acme-bob'));
    const before = { acme: await h.rowCounts('acme'), globex: await h.rowCounts('globex') };

    const single = await h.call(ops, 'PUT', '/api/v1/platform/strategy', { strategy: 'single-tenant' });
    expect(single.statusCode, single.body).toBe(200);
    expect(single.json()).toMatchObject({
      strategy: 'single-tenant',
      previous: 'multi-tenant',
      tenants: [
        { tenant: 'acme', deactivated: ['acme-ann', 'acme-root'] },
        { tenant: 'globex', deactivated: ['globex-ann', 'globex-bob', 'globex-root'] },
      ],
    });

    // Tenant users: sessions ended, tokens refused, sign-in refused (their hosts still serve, e.g. tracking).
    expectError(await h.call(ann, 'GET', '/api/v1/me'), 401);
    expectError(await h.call({ host: 'globex.test', token: annToken }, 'GET', '/api/v1/me'), 401, 'invalid_token');
    await signInRefused('acme.test', 'acme-root');
    await signInRefused('globex.test', 'globex-ann');

    // Platform users carry on; shared and tenant collections are hidden from them too, names included.
    expect(await kindsSeen(ops)).toEqual(['internal', 'personal']);
    expect(await kindsSeen(ops, { 'x-plura-tenant': 'acme' })).toEqual(['internal']);
    expectError(await h.call(ops, 'GET', '/api/v1/collections/shared'), 404, 'not_found');
    expectError(await h.call(ops, 'GET', `/api/v1/items/${items['shared'] ?? ''}`), 404, 'not_found');
    expectError(await h.call(ops, 'GET', '/api/v1/collections/tenant', undefined, { 'x-plura-tenant': 'acme' }), 404, 'not_found');
    expectError(await h.call(ops, 'GET', `/api/v1/items/${items['acme'] ?? ''}`, undefined, { 'x-plura-tenant': 'acme' }), 404, 'not_found');
    expectError(await h.call(ops, 'POST', '/api/v1/items', { collectionId: 'shared', kind: 'saved_report', name: 'x', definition: report }), 404, 'not_found');
    expect((await h.call(ops, 'GET', `/api/v1/items/${items['internal'] ?? ''}`)).statusCode).toBe(200);
    expect((await h.call(analystSession, 'GET', `/api/v1/items/${items['personal'] ?? ''}`)).statusCode).toBe(200);
    expect(await kindsSeen(analystSession)).toEqual(['internal', 'personal']);
    // Nobody is assigned to a tenant while single-tenant.
    expectError(await h.call(ops, 'POST', '/api/v1/platform/users/analyst/assign', { tenant: 'acme' }), 400, 'invalid_input');

    // Asking again finishes (and changes) nothing.
    expect((await h.call(ops, 'PUT', '/api/v1/platform/strategy', { strategy: 'single' })).json()).toMatchObject({ previous: 'single-tenant', tenants: [{ tenant: 'acme', deactivated: [] }, { tenant: 'globex', deactivated: [] }] });

    const multi = await h.call(ops, 'PUT', '/api/v1/platform/strategy', { strategy: 'multi' });
    expect(multi.statusCode, multi.body).toBe(200);
    expect(multi.json()).toMatchObject({
      strategy: 'multi-tenant',
      previous: 'single-tenant',
      tenants: [
        { tenant: 'acme', reactivated: ['acme-ann', 'acme-root'], stillDeactivated: ['acme-bob'] },
        { tenant: 'globex', reactivated: ['globex-ann', 'globex-bob', 'globex-root'], stillDeactivated: [] },
      ],
    });

    // Everything is back as it was: the token, the collections and their items, bob's own deactivation.
    expect((await h.call({ host: 'globex.test', token: annToken }, 'GET', '/api/v1/me')).statusCode).toBe(200);
    const annAgain = await h.signIn('acme.test', 'acme-ann');
    expect(await kindsSeen(annAgain)).toEqual(['personal', 'shared', 'tenant']);
    expect((await h.call(annAgain, 'GET', `/api/v1/items/${items['shared'] ?? ''}`)).statusCode).toBe(200);
    expect((await h.call(annAgain, 'GET', `/api/v1/items/${items['acme'] ?? ''}`)).statusCode).toBe(200);
    expect(await kindsSeen(ops)).toEqual(['internal', 'personal', 'shared']);
    await signInRefused('acme.test', 'acme-bob');
    expect(await h.asOperator('acme', (ctx) => identityStore.findUserByLogin(identityDbFor(h.platform, ctx.scope), 'acme-bob'))).toEqual(bobBefore);
    // Besides sessions, logs and suspension records, only the refused sign-ins above wrote rows.
    const strip = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).filter(([t]) => !['session', 'audit_entry', 'audit_chain_head', 'user_suspension', 'login_failure'].includes(t)));
    expect(strip(await h.rowCounts('acme'))).toEqual(strip(before.acme));
    expect(strip(await h.rowCounts('globex'))).toEqual(strip(before.globex));

    // Platform users stayed platform users: in the registry, signing in at the platform host, in no tenant.
    const platformDb = identityDbFor(h.platform, { kind: 'platform' });
    expect((await identityStore.listUsers(platformDb)).map((u) => u.login)).toEqual(['analyst', 'ops']);
    expect((await h.call(await h.signIn(PLATFORM_HOST, 'analyst'), 'GET', '/api/v1/me')).statusCode).toBe(200);
    for (const slug of ['acme', 'globex']) {
      expect(await h.asOperator(slug, (ctx) => identityStore.findUserByLogin(identityDbFor(h.platform, ctx.scope), 'ops'))).toBeUndefined();
    }

    // Audited on both sides.
    const platformLog = (await h.auditActions(null)).filter((e) => e.action === 'platform.strategy_changed');
    expect(platformLog.map((e) => e.after)).toEqual([
      { strategy: 'single-tenant', tenants: { acme: ['acme-ann', 'acme-root'], globex: ['globex-ann', 'globex-bob', 'globex-root'] } },
      { strategy: 'multi-tenant', tenants: { acme: ['acme-ann', 'acme-root'], globex: ['globex-ann', 'globex-bob', 'globex-root'] } },
    ]);
    for (const slug of ['acme', 'globex']) {
      const log = (await h.auditActions(slug)).filter((e) => e.action === 'platform.strategy_changed');
      expect(log.map((e) => (e.after as { strategy: string }).strategy)).toEqual(['single-tenant', 'multi-tenant']);
      expect(log.every((e) => e.actor === 'platform:ops' && e.tenant === slug)).toBe(true);
    }
  });

  it('a deactivated tenant keeps its users deactivated through a strategy round trip, until it is activated', async () => {
    expect((await h.call(ops, 'POST', '/api/v1/tenants/globex/deactivate')).json()).toMatchObject({ usersDeactivated: ['globex-ann', 'globex-bob', 'globex-root'] });
    expect((await h.call(ops, 'PUT', '/api/v1/platform/strategy', { strategy: 'single' })).json()).toMatchObject({ tenants: [{ tenant: 'acme' }, { tenant: 'globex', deactivated: [] }] });
    const multi = (await h.call(ops, 'PUT', '/api/v1/platform/strategy', { strategy: 'multi' })).json<{ tenants: unknown[] }>();
    expect(multi.tenants[1]).toEqual({ tenant: 'globex', reactivated: [], stillDeactivated: ['globex-ann', 'globex-bob', 'globex-root'] });
    // Single again, then the tenant comes back first: its users wait for the strategy.
    await h.call(ops, 'PUT', '/api/v1/platform/strategy', { strategy: 'single' });
    expect((await h.call(ops, 'POST', '/api/v1/tenants/globex/activate')).json()).toMatchObject({ usersReactivated: [], stillDeactivated: ['globex-ann', 'globex-bob', 'globex-root'] });
    expect((await h.call(ops, 'PUT', '/api/v1/platform/strategy', { strategy: 'multi' })).json<{ tenants: unknown[] }>().tenants[1]).toEqual({ tenant: 'globex', reactivated: ['globex-ann', 'globex-bob', 'globex-root'], stillDeactivated: [] });
    await h.refreshTenants();
    expect((await h.call(await h.signIn('globex.test', 'globex-root'), 'GET', '/api/v1/me')).statusCode).toBe(200);
  });

  it('creates no tenant user while single-tenant: not by an admin acting in a tenant, not by SSO provisioning', async () => {
    await h.call(ops, 'PUT', '/api/v1/platform/strategy', { strategy: 'single' });
    const created = await h.call(ops, 'POST', '/api/v1/users', { login: 'newbie', email: 'newbie@acme.example', password: TEST_PASSWORD }, { 'x-plura-tenant': 'acme' });
    expectError(created, 403, 'forbidden');
    expect(created.json<{ error: { message: string } }>().error.message).toContain('single-tenant strategy');
    h.platform.settings.set('JWT.enabled', '1', { tenant: 'acme' });
    h.platform.settings.set('JWT.shared_secret', 'a-shared-secret-of-at-least-32-characters!', { tenant: 'acme' });
    h.platform.settings.set('JWT.user_provisioning', '1', { tenant: 'acme' });
    const token = await new SignJWT({ email: 'sso-newbie@acme.example', '@tenant': 'acme' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('1m')
      .setJti('single-tenant-jti')
      .sign(new TextEncoder().encode('a-shared-secret-of-at-least-32-characters!'));
    const sso = await h.app.inject({ method: 'GET', url: `/auth/sso/jwt?jwt=${token}`, headers: { host: 'acme.test' } });
    expectError(sso, 401, 'sso_refused');
    expect(sso.json<{ error: { message: string } }>().error.message).toContain('single-tenant strategy');
    await h.call(ops, 'PUT', '/api/v1/platform/strategy', { strategy: 'multi' });
    expect((await h.call(ops, 'POST', '/api/v1/users', { login: 'newbie', email: 'newbie@acme.example', password: TEST_PASSWORD }, { 'x-plura-tenant': 'acme' })).statusCode).toBe(201);
  });

  it('a user an admin deactivates while the strategy holds it stays deactivated when the strategy lets go', async () => {
    await h.call(ops, 'PUT', '/api/v1/platform/strategy', { strategy: 'single' });
    await h.asOperator('acme', (ctx) => setUserActive(ctx, 'newbie', false));
    const multi = (await h.call(ops, 'PUT', '/api/v1/platform/strategy', { strategy: 'multi' })).json<{ tenants: { tenant: string; reactivated?: string[]; stillDeactivated?: string[] }[] }>();
    const acme = multi.tenants.find((t) => t.tenant === 'acme');
    expect(acme?.reactivated).not.toContain('newbie');
    expect(acme?.stillDeactivated).toContain('newbie');
  });

  it('plura platform:strategy shows and switches it', async () => {
    const show = await runCli(h.dataDir, 'platform:strategy');
    expect(show.code, show.err).toBe(0);
    expect(show.out).toMatch(/^The platform runs multi-tenant \(since .+\)\.$/);
    const single = await runCli(h.dataDir, 'platform:strategy', 'single');
    expect(single.code, single.err).toBe(0);
    expect(single.out).toContain('Switched the platform from multi-tenant to single-tenant.');
    expect(single.out).toContain('acme: deactivated acme-ann, acme-root');
    const json = await runCli(h.dataDir, 'platform:strategy', 'multi', '--format', 'json');
    expect(json.code, json.err).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({ strategy: 'multi-tenant', previous: 'single-tenant' });
    const bad = await runCli(h.dataDir, 'platform:strategy', 'both');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('single-tenant (single) or multi-tenant (multi)');
    expect((await h.auditActions(null)).filter((e) => e.action === 'platform.strategy_changed' && e.actor === 'cli')).toHaveLength(2);
  });
});
