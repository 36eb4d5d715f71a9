import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityDbFor, type ActContext } from '../access/context.js';
import { identityStore, type IdentityDb } from '../access/identity.store.js';
import { hashRecoveryCode } from '../access/recovery-codes.js';
import { currentTotp, generateTotpSecret } from '../access/totp.js';
import { setUserAccess } from '../access/users.service.js';
import { runCli } from '../cli/test-support/run-cli.js';
import { tokenFor, TEST_PASSWORD } from '../http/test-support/harness.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { createGroup, setGroupMembership } from '../workspace/groups.service.js';
import { assignUser } from './assignment.js';
import { activateTenant, deactivateTenant } from './deactivation.js';
import { switchStrategy } from './strategy.js';
import { expectError, openTenancyHarness, PLATFORM_HOST, type TenancyHarness } from './test-support/tenancy-harness.js';

describe('assigning users between the platform and tenants', () => {
  let h: TenancyHarness;
  let pg: TestPostgresDatabase;
  type S = Awaited<ReturnType<TenancyHarness['signIn']>>;
  let ops: S;
  let platformDb: IdentityDb;
  const totpSecret = generateTotpSecret();
  const system = { kind: 'system', name: 'test' } as const;
  const platformCtx = (): ActContext => ({ platform: h.platform, scope: { kind: 'platform' }, actor: system, ip: null });
  let editors = 0;

  const assign = (login: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => h.call(ops, 'POST', `/api/v1/platform/users/${login}/assign`, body, headers);
  const tenantUser = (slug: string, login: string) => h.asOperator(slug, (ctx) => identityStore.findUserByLogin(identityDbFor(h.platform, ctx.scope), login));
  const signInAt = (host: string, login: string, totp?: string) =>
    h.app.inject({ method: 'POST', url: '/auth/login', headers: { host }, payload: { login, password: TEST_PASSWORD, ...(totp ? { totp } : {}) } });
  const usersSeenBy = async (session: S) => (await h.call(session, 'GET', '/api/v1/users')).json<{ users: { login: string }[] }>().users.map((u) => u.login);

  beforeAll(async () => {
    pg = await createTestPostgresDatabase('assign');
    h = await openTenancyHarness({ PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix });
    platformDb = identityDbFor(h.platform, { kind: 'platform' });
    await h.addTenant('acme', ['acme.test']);
    await h.addTenant('globex', ['globex.test'], pg.url);
    for (const slug of ['acme', 'globex']) {
      await h.addSite(slug, `${slug}-shop`);
      await h.addUser(slug, `${slug}-root`, { superuser: true });
      await h.addUser(slug, `${slug}-ann`);
      await h.asOperator(slug, (ctx) => setUserAccess(ctx, `${slug}-ann`, 'view', [1]));
    }
    await h.addPlatformUser('ops', { admin: true });
    for (const login of ['carol', 'erin', 'frank', 'gina', 'hank', 'ivy', 'analyst', 'acme-ann']) await h.addPlatformUser(login);
    ops = await h.signIn(PLATFORM_HOST, 'ops');
    const staff = await createGroup(h.platform, system, { kind: 'internal', name: 'Staff' });
    editors = (await createGroup(h.platform, system, { kind: 'tenant', name: 'Editors' })).id;
    await setGroupMembership(platformCtx(), staff.id, 'carol', true);
    await platformDb.updateTable('user').set({ first_name: 'Carol', last_name: 'Jones' }).where('login', '=', 'carol').execute();
  });
  afterAll(async () => {
    await h?.close();
    await pg?.drop();
  });

  it('a platform user joins a tenant keeping login, email, names, password and MFA; its groups, platform rights, sessions and tokens stay behind', async () => {
    const token = await tokenFor(h.app, PLATFORM_HOST, 'carol');
    const session = await h.signIn(PLATFORM_HOST, 'carol');
    const carol = await identityStore.findUserByLogin(platformDb, 'carol');
    await platformDb.updateTable('user').set({ totp_secret: totpSecret, totp_enabled: 1 }).where('login', '=', 'carol').execute();
    await platformDb.insertInto('mfa_recovery_code').values({ user_id: carol?.id ?? 0, code_hash: hashRecoveryCode('abcd-efgh'), used_at: null }).execute();

    const moved = await assign('carol', { tenant: 'acme' });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toEqual({ login: 'carol', from: null, to: 'acme', droppedGroups: ['Staff'], droppedRights: [], endedSessions: 2, endedTokens: 1, active: true });

    // Gone from the platform: its session and token end with it.
    expectError(await h.call(session, 'GET', '/api/v1/me'), 401);
    expectError(await h.call({ host: PLATFORM_HOST, token }, 'GET', '/api/v1/me'), 401, 'invalid_token');
    expect(await identityStore.findUserByLogin(platformDb, 'carol')).toBeUndefined();
    expect(await platformDb.selectFrom('group_member').selectAll().where('user_id', '=', carol?.id ?? 0).execute()).toEqual([]);

    // In acme: the same person, no right and no group it did not get there.
    const inAcme = await tenantUser('acme', 'carol');
    expect(inAcme).toMatchObject({ login: 'carol', email: 'carol@platform.example', first_name: 'Carol', last_name: 'Jones', password_hash: carol?.password_hash, totp_secret: totpSecret, totp_enabled: 1, superuser: 0, deactivated_at: null });
    await h.asOperator('acme', async (ctx) => {
      const db = ctx.scope.store.db;
      expect(await db.selectFrom('site_access').selectAll().where('user_id', '=', inAcme?.id ?? 0).execute()).toEqual([]);
      expect(await db.selectFrom('group_member').selectAll().where('user_id', '=', inAcme?.id ?? 0).execute()).toEqual([]);
      expect((await db.selectFrom('mfa_recovery_code').select('code_hash').where('user_id', '=', inAcme?.id ?? 0).execute()).map((r) => r.code_hash)).toEqual([hashRecoveryCode('abcd-efgh')]);
    });
    expect((await signInAt('acme.test', 'carol')).json()).toMatchObject({ status: 'mfa_required' });
    expect((await signInAt('acme.test', 'carol', currentTotp(totpSecret))).json()).toMatchObject({ status: 'signed_in' });
    expectError(await signInAt(PLATFORM_HOST, 'carol'), 401);
    expect(await usersSeenBy(await h.signIn('acme.test', 'acme-root'))).toContain('carol');
    expect(await usersSeenBy(await h.signIn('globex.test', 'globex-root'))).not.toContain('carol');

    // Audited on both sides.
    expect((await h.auditActions(null)).filter((e) => e.action.startsWith('user.moved'))).toEqual([
      { action: 'user.moved_out', actor: 'platform:ops', tenant: null, after: { login: 'carol', from: 'platform', to: 'acme', droppedGroups: ['Staff'], droppedRights: [], endedSessions: 2, endedTokens: 1 } },
    ]);
    expect((await h.auditActions('acme')).filter((e) => e.action.startsWith('user.moved'))).toEqual([
      { action: 'user.moved_in', actor: 'platform:ops', tenant: 'acme', after: { login: 'carol', from: 'platform', to: 'acme', droppedGroups: ['Staff'], droppedRights: [] } },
    ]);
  });

  it('a tenant user moves back to the platform (X-Plura-Tenant names its tenant); its tenant groups and site rights stay behind', async () => {
    await h.asOperator('acme', async (ctx) => {
      await setUserAccess(ctx, 'carol', 'view', [1]);
      await setGroupMembership(ctx, editors, 'carol', true);
    });
    const acmeSession = await h.signIn('acme.test', 'acme-ann');
    const before = await tenantUser('acme', 'carol');
    const moved = await assign('carol', { tenant: null }, { 'x-plura-tenant': 'acme' });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toMatchObject({ login: 'carol', from: 'acme', to: null, droppedGroups: ['Editors'], droppedRights: ['view on site 1'], active: true });
    expect(await tenantUser('acme', 'carol')).toBeUndefined();
    const back = await identityStore.findUserByLogin(platformDb, 'carol');
    expect(back).toMatchObject({ password_hash: before?.password_hash, totp_secret: totpSecret, superuser: 0 });
    expect(await platformDb.selectFrom('group_member').selectAll().where('user_id', '=', back?.id ?? 0).execute()).toEqual([]);
    expect((await signInAt(PLATFORM_HOST, 'carol', currentTotp(totpSecret, Date.now() + 30_000))).json()).toMatchObject({ status: 'signed_in' });
    expectError(await signInAt('acme.test', 'carol'), 401);
    // Others of acme are untouched.
    expect((await h.call(acmeSession, 'GET', '/api/v1/me')).statusCode).toBe(200);
    expect((await h.auditActions('acme')).filter((e) => e.action.startsWith('user.moved')).map((e) => e.action)).toEqual(['user.moved_in', 'user.moved_out']);
    expect((await h.auditActions(null)).filter((e) => e.action.startsWith('user.moved')).map((e) => [e.action, e.tenant])).toEqual([
      ['user.moved_out', null],
      ['user.moved_in', null],
    ]);
  });

  it('on a PostgreSQL tenant too, both ways ("from" names the tenant a user leaves)', async () => {
    expect((await assign('erin', { tenant: 'globex' })).json()).toMatchObject({ from: null, to: 'globex', droppedGroups: [] });
    expect((await signInAt('globex.test', 'erin')).json()).toMatchObject({ status: 'signed_in' });
    expect(await tenantUser('acme', 'erin')).toBeUndefined();
    const token = await tokenFor(h.app, 'globex.test', 'globex-ann');
    const moved = await assign('globex-ann', { tenant: null, from: 'globex' });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toMatchObject({ from: 'globex', to: null, droppedRights: ['view on site 1'], endedTokens: 1 });
    expectError(await h.call({ host: 'globex.test', token }, 'GET', '/api/v1/me'), 401, 'invalid_token');
    expect((await signInAt(PLATFORM_HOST, 'globex-ann')).json()).toMatchObject({ status: 'signed_in' });
    expect(await tenantUser('globex', 'globex-ann')).toBeUndefined();
  });

  it('refuses taken logins and emails, full tenants, tenant-to-tenant moves, the last admin, personal content, deactivated tenants and non-admins; nothing moves', async () => {
    const acmeCount = async () => (await h.asOperator('acme', (ctx) => identityStore.countUsers(identityDbFor(h.platform, ctx.scope))));
    const count = await acmeCount();
    expect(expectError(await assign('acme-ann', { tenant: 'acme' }), 409, 'duplicate_user')).toContain("Username 'acme-ann' already exists in tenant acme");
    await platformDb.updateTable('user').set({ email: 'acme-root@acme.example' }).where('login', '=', 'hank').execute();
    expect(expectError(await assign('hank', { tenant: 'acme' }), 409, 'duplicate_user')).toContain("email 'acme-root@acme.example' already exists in tenant acme");
    await h.platform.tenants.update('acme', { maxUsers: count });
    expect(expectError(await assign('ivy', { tenant: 'acme' }), 409, 'limit_reached')).toContain(`limit of ${count} users`);
    await h.platform.tenants.update('acme', { maxUsers: null });
    expectError(await assign('acme-root', { tenant: 'globex' }, { 'x-plura-tenant': 'acme' }), 400, 'invalid_input');
    expectError(await assign('ivy', { tenant: null }), 400, 'invalid_input');
    expect(expectError(await assign('ops', { tenant: 'acme' }), 403, 'forbidden')).toContain('last active platform admin');
    expect(expectError(await assign('globex-root', { tenant: null }, { 'x-plura-tenant': 'globex' }), 403, 'forbidden')).toContain('last active super user of tenant globex');
    expectError(await assign('nobody', { tenant: 'acme' }), 404, 'unknown_user');
    expectError(await assign('ivy', { tenant: 'no-such-tenant' }), 404, 'unknown_tenant');

    const gina = await h.signIn(PLATFORM_HOST, 'gina');
    const personal = (await h.call(gina, 'GET', '/api/v1/collections')).json<{ collections: { id: string; kind: string }[] }>().collections.find((c) => c.kind === 'personal')?.id;
    expect((await h.call(gina, 'POST', '/api/v1/items', { collectionId: personal, kind: 'saved_report', name: 'Mine', definition: { method: 'API.getMatomoVersion', params: {}, visualization: 'number' } })).statusCode).toBe(201);
    expect(expectError(await assign('gina', { tenant: 'acme' }), 400, 'invalid_input')).toContain('personal content never crosses');

    await deactivateTenant(h.platform, system, 'globex');
    expectError(await assign('ivy', { tenant: 'globex' }), 403, 'tenant_deactivated');
    await activateTenant(h.platform, system, 'globex');

    const analyst = await h.signIn(PLATFORM_HOST, 'analyst');
    expectError(await h.call(analyst, 'POST', '/api/v1/platform/users/ivy/assign', { tenant: 'acme' }), 403, 'forbidden');
    expectError(await h.call({ host: PLATFORM_HOST }, 'POST', '/api/v1/platform/users/ivy/assign', { tenant: null, from: 'acme' }), 401, 'unauthenticated');
    expectError(await h.call(await h.signIn('acme.test', 'acme-root'), 'POST', '/api/v1/platform/users/acme-ann/assign', { tenant: null }), 403, 'forbidden');
    expectError(await h.call(ops, 'POST', '/api/v1/platform/users/ivy/assign', { to: 'acme' }), 400);

    expect(await acmeCount()).toBe(count);
    for (const login of ['acme-ann', 'hank', 'ivy', 'ops', 'gina']) expect(await identityStore.findUserByLogin(platformDb, login)).toBeDefined();
    expect(await tenantUser('globex', 'globex-root')).toBeDefined();
  });

  it('undoes the copy when the source cannot be deleted: all or nothing across the two databases', async () => {
    await sql`create trigger keep_frank before delete on "user" when old.login = 'frank' begin select raise(abort, 'frank stays'); end`.execute(h.platform.registry.db);
    try {
      await expect(assignUser(h.platform, system, { login: 'frank', from: null, to: 'acme' })).rejects.toMatchObject({ code: 'storage_unavailable' });
    } finally {
      await sql`drop trigger keep_frank`.execute(h.platform.registry.db);
    }
    expect(await identityStore.findUserByLogin(platformDb, 'frank')).toBeDefined();
    expect(await tenantUser('acme', 'frank')).toBeUndefined();
    expect((await h.auditActions('acme')).filter((e) => (e.after as { login?: string } | null)?.login === 'frank').map((e) => e.action)).toEqual(['user.moved_in', 'user.move_undone']);
    expect((await h.auditActions(null)).some((e) => e.action === 'user.moved_out' && (e.after as { login: string }).login === 'frank')).toBe(false);
  });

  it('while single-tenant, a tenant user the strategy deactivated can still be kept by moving it to the platform, where it is active', async () => {
    await h.addUser('acme', 'acme-zoe');
    await switchStrategy(h.platform, system, 'single-tenant');
    try {
      expect((await tenantUser('acme', 'acme-zoe'))?.deactivated_at).not.toBeNull();
      const moved = await assign('acme-zoe', { tenant: null, from: 'acme' });
      expect(moved.statusCode, moved.body).toBe(200);
      expect(moved.json()).toMatchObject({ from: 'acme', to: null, active: true });
      expect((await signInAt(PLATFORM_HOST, 'acme-zoe')).json()).toMatchObject({ status: 'signed_in' });
    } finally {
      await switchStrategy(h.platform, system, 'multi-tenant');
    }
  });

  it('plura user:assign moves users at the shell', async () => {
    const into = await runCli(h.dataDir, 'user:assign', 'frank', '--to-tenant', 'acme.test');
    expect(into.code, into.err).toBe(0);
    expect(into.out).toContain('Moved frank from the platform to acme.');
    const back = await runCli(h.dataDir, 'user:assign', 'frank', '--tenant', 'acme', '--to-platform', '--format', 'json');
    expect(back.code, back.err).toBe(0);
    expect(JSON.parse(back.out)).toMatchObject({ login: 'frank', from: 'acme', to: null });
    const neither = await runCli(h.dataDir, 'user:assign', 'frank');
    expect(neither.code).toBe(1);
    expect(neither.err).toContain('--to-tenant <tenant> or --to-platform');
  });
});
