import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityDbFor } from '../access/context.js';
import { identityStore } from '../access/identity.store.js';
import { createToken } from '../access/tokens.js';
import { currentTotp } from '../access/totp.js';
import { createUser, setUserAccess } from '../access/users.service.js';
import { findAuditEntries } from '../audit/audit.store.js';
import { platformAuditDb, scopeAuditDb } from '../audit/audit.service.js';
import { openHarness, TEST_PASSWORD, type Harness } from '../http/test-support/harness.js';

const HOST = 'shop.test';

describe('Matomo API surface: UsersManager, SitesManager, formats, errors', () => {
  let h: Harness;
  let superToken: string;
  let viewToken: string;

  const api = (params: Record<string, string>, options: { get?: boolean; host?: string } = {}) => {
    const body = new URLSearchParams(params).toString();
    return options.get
      ? h.app.inject({ method: 'GET', url: `/index.php?${body}`, headers: { host: options.host ?? HOST } })
      : h.app.inject({ method: 'POST', url: '/', headers: { host: options.host ?? HOST, 'content-type': 'application/x-www-form-urlencoded' }, payload: body });
  };

  beforeAll(async () => {
    h = await openHarness({ PLURA_GENERAL_PLATFORM_HOST: 'ops.test' });
    await h.addTenant('shop', [HOST]);
    await h.addSite('shop', 'store');
    await h.addUser('shop', 'boss', { superuser: true });
    await h.addUser('shop', 'viewer');
    await h.asOperator('shop', async (ctx) => {
      await setUserAccess(ctx, 'viewer', 'view', [1]);
      const db = identityDbFor(ctx.platform, ctx.scope);
      superToken = (await createToken(db, ctx.platform.secret, (await identityStore.findUserByLogin(db, 'boss'))?.id ?? 0, { description: 't' })).token;
      viewToken = (await createToken(db, ctx.platform.secret, (await identityStore.findUserByLogin(db, 'viewer'))?.id ?? 0, { description: 't' })).token;
    });
  });
  afterAll(() => h.close());

  it('answers at / and /index.php, GET and POST, in json, xml, csv and tsv', async () => {
    const json = await api({ module: 'API', method: 'API.getMatomoVersion', format: 'json', token_auth: viewToken });
    expect(json.json()).toEqual({ value: '5.2.0' });
    const xml = await api({ module: 'API', method: 'SitesManager.getSiteFromId', idSite: '1', token_auth: viewToken }, { get: true });
    expect(xml.headers['content-type']).toContain('text/xml');
    expect(xml.body).toContain('<name>store</name>');
    const csv = await api({ module: 'API', method: 'SitesManager.getSitesWithViewAccess', format: 'csv', convertToUnicode: '0', token_auth: viewToken });
    expect(csv.body.split('\n')[0]).toContain('idsite,name,main_url');
    const tsv = await api({ module: 'API', method: 'SitesManager.getSitesIdWithAtLeastViewAccess', format: 'tsv', convertToUnicode: '0', token_auth: viewToken });
    expect(tsv.body).toBe('value\n1');
  });

  it('adds, reads, updates and deletes users and sites with Matomo semantics', async () => {
    const added = await api({ module: 'API', method: 'UsersManager.addUser', format: 'json', userLogin: 'newbie', password: TEST_PASSWORD, email: 'newbie@shop.test', token_auth: superToken });
    expect(added.json()).toEqual({ result: 'success', message: 'ok' });
    const duplicate = await api({ module: 'API', method: 'UsersManager.addUser', format: 'json', userLogin: 'newbie', password: TEST_PASSWORD, email: 'x@shop.test', token_auth: superToken });
    expect(duplicate.json()).toEqual({ result: 'error', message: "Username 'newbie' already exists." });
    const missing = await api({ module: 'API', method: 'UsersManager.addUser', format: 'json', userLogin: 'n2', token_auth: superToken });
    expect(missing.json()).toEqual({ result: 'error', message: "Please specify a value for 'password'." });
    await api({ module: 'API', method: 'UsersManager.setUserAccess', format: 'json', userLogin: 'newbie', access: 'write', idSites: '1', token_auth: superToken });
    const plus = await api({ module: 'API', method: 'UsersManager.getUsersPlusRole', format: 'json', idSite: '1', token_auth: superToken });
    expect(plus.headers['x-matomo-total-results']).toBeDefined();
    expect(plus.json()).toEqual(expect.arrayContaining([expect.objectContaining({ login: 'newbie', role: 'write' }), expect.objectContaining({ login: 'boss', role: 'superuser' })]));
    const siteId = (await api({ module: 'API', method: 'SitesManager.addSite', format: 'json', siteName: 'blog', urls: 'https://blog.example,https://www.blog.example', timezone: 'Europe/Paris', currency: 'EUR', token_auth: superToken })).json<{ value: number }>().value;
    expect(siteId).toBe(2);
    const site = (await api({ module: 'API', method: 'SitesManager.getSiteFromId', format: 'json', idSite: String(siteId), token_auth: superToken })).json();
    expect(site).toMatchObject({ idsite: 2, name: 'blog', main_url: 'https://blog.example', timezone: 'Europe/Paris', currency: 'EUR', currency_name: 'Euro' });
    expect((await api({ module: 'API', method: 'SitesManager.getSiteUrlsFromId', format: 'json', idSite: '2', token_auth: superToken })).json()).toEqual(['https://blog.example', 'https://www.blog.example']);
    const tag = (await api({ module: 'API', method: 'SitesManager.getJavascriptTag', format: 'json', idSite: '2', token_auth: superToken })).json<{ value: string }>().value;
    expect(tag).toContain('&lt;script&gt;');
    expect(tag).toContain("_paq.push([&#039;setSiteId&#039;, &#039;2&#039;]);");
    expect((await api({ module: 'API', method: 'SitesManager.deleteSite', format: 'json', idSite: '2', token_auth: superToken })).json()).toEqual({ result: 'success', message: 'ok' });
    expect((await api({ module: 'API', method: 'SitesManager.getSiteFromId', format: 'json', idSite: '2', token_auth: superToken })).json<{ message: string }>().message).toContain('website id = 2 not found');
    expect((await api({ module: 'API', method: 'SitesManager.deleteSite', format: 'json', idSite: '1', token_auth: superToken })).json<{ message: string }>().message).toContain('only website');
    expect((await api({ module: 'API', method: 'UsersManager.deleteUser', format: 'json', userLogin: 'newbie', token_auth: superToken })).json()).toEqual({ result: 'success', message: 'ok' });
    expect((await api({ module: 'API', method: 'UsersManager.getUser', format: 'json', userLogin: 'newbie', token_auth: superToken })).json()).toEqual({ result: 'error', message: "User 'newbie' doesn't exist." });
  });

  it('grants capabilities only on top of a role, and lists them', async () => {
    const caps = (await api({ module: 'API', method: 'UsersManager.getAvailableCapabilities', format: 'json', token_auth: superToken })).json<{ id: string }[]>();
    expect(caps.map((c) => c.id)).toEqual(['create_reports', 'manage_goals', 'manage_custom_dimensions']);
    await api({ module: 'API', method: 'UsersManager.addUser', format: 'json', userLogin: 'cap', password: TEST_PASSWORD, email: 'cap@shop.test', token_auth: superToken });
    const noRole = await api({ module: 'API', method: 'UsersManager.addCapabilities', format: 'json', userLogin: 'cap', 'capabilities[]': 'manage_goals', idSites: '1', token_auth: superToken });
    expect(noRole.json<{ message: string }>().message).toContain('no role on site 1');
    await api({ module: 'API', method: 'UsersManager.setUserAccess', format: 'json', userLogin: 'cap', access: 'view', idSites: '1', token_auth: superToken });
    await api({ module: 'API', method: 'UsersManager.addCapabilities', format: 'json', userLogin: 'cap', 'capabilities[]': 'manage_goals', idSites: '1', token_auth: superToken });
    const access = (await api({ module: 'API', method: 'UsersManager.getSitesAccessFromUser', format: 'json', userLogin: 'cap', token_auth: superToken })).json();
    expect(access).toEqual([{ site: 1, access: 'view', capabilities: ['manage_goals'] }]);
  });

  it('refuses the last super user\'s removal and needs the password to change super user access', async () => {
    const noConfirmation = await api({ module: 'API', method: 'UsersManager.setSuperUserAccess', format: 'json', userLogin: 'viewer', hasSuperUserAccess: '1', token_auth: superToken });
    expect(noConfirmation.json<{ message: string }>().message).toContain('passwordConfirmation');
    const last = await api({ module: 'API', method: 'UsersManager.setSuperUserAccess', format: 'json', userLogin: 'boss', hasSuperUserAccess: '0', passwordConfirmation: TEST_PASSWORD, token_auth: superToken });
    expect(last.json<{ message: string }>().message).toContain('no super user');
  });

  it('creates an app token from a password (and the 2FA code when enabled)', async () => {
    const created = await api({ module: 'API', method: 'UsersManager.createAppSpecificTokenAuth', format: 'json', userLogin: 'viewer@shop.example', passwordConfirmation: TEST_PASSWORD, description: 'laptop' });
    const token = created.json<{ value: string }>().value;
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect((await api({ module: 'API', method: 'API.getMatomoVersion', format: 'json', token_auth: token })).json()).toEqual({ value: '5.2.0' });
    const wrong = await api({ module: 'API', method: 'UsersManager.createAppSpecificTokenAuth', format: 'json', userLogin: 'viewer', passwordConfirmation: 'nope', description: 'x' });
    expect(wrong.statusCode).toBe(401);
    const secret = await h.asOperator('shop', async (ctx) => {
      const db = identityDbFor(ctx.platform, ctx.scope);
      await db.updateTable('user').set({ totp_secret: 'JBSWY3DPEHPK3PXP', totp_enabled: 1 }).where('login', '=', 'viewer').execute();
      return 'JBSWY3DPEHPK3PXP';
    });
    const without = await api({ module: 'API', method: 'UsersManager.createAppSpecificTokenAuth', format: 'json', userLogin: 'viewer', passwordConfirmation: TEST_PASSWORD, description: 'x' });
    expect(without.json<{ message: string }>().message).toContain('authCode');
    const withCode = await api({ module: 'API', method: 'UsersManager.createAppSpecificTokenAuth', format: 'json', userLogin: 'viewer', passwordConfirmation: TEST_PASSWORD, description: 'x', authCode: currentTotp(secret) });
    expect(withCode.json<{ value: string }>().value).toMatch(/^[0-9a-f]{32}$/);
  });

  it('rotates a user\'s tokens when the role rises, if the tenant asks for it', async () => {
    h.platform.settings.set('Security.rotate_tokens_on_role_rise', '1', { tenant: 'shop' });
    h.platform.settings.forgetTenant('shop');
    await api({ module: 'API', method: 'UsersManager.addUser', format: 'json', userLogin: 'riser', password: TEST_PASSWORD, email: 'riser@shop.test', token_auth: superToken });
    await api({ module: 'API', method: 'UsersManager.setUserAccess', format: 'json', userLogin: 'riser', access: 'view', idSites: '1', token_auth: superToken });
    const token = (await api({ module: 'API', method: 'UsersManager.createAppSpecificTokenAuth', format: 'json', userLogin: 'riser', passwordConfirmation: TEST_PASSWORD, description: 'x' })).json<{ value: string }>().value;
    expect((await api({ module: 'API', method: 'API.getMatomoVersion', format: 'json', token_auth: token })).statusCode).toBe(200);
    await api({ module: 'API', method: 'UsersManager.setUserAccess', format: 'json', userLogin: 'riser', access: 'view', idSites: '1', token_auth: superToken });
    expect((await api({ module: 'API', method: 'API.getMatomoVersion', format: 'json', token_auth: token })).statusCode).toBe(200);
    await api({ module: 'API', method: 'UsersManager.setUserAccess', format: 'json', userLogin: 'riser', access: 'admin', idSites: '1', token_auth: superToken });
    expect((await api({ module: 'API', method: 'API.getMatomoVersion', format: 'json', token_auth: token })).statusCode).toBe(401);
    h.platform.settings.unset('Security.rotate_tokens_on_role_rise', { tenant: 'shop' });
    h.platform.settings.forgetTenant('shop');
  });

  it('answers bulk requests entry by entry, errors included', async () => {
    const response = await api({
      module: 'API',
      method: 'API.getBulkRequest',
      format: 'json',
      token_auth: viewToken,
      'urls[0]': 'method=SitesManager.getSiteFromId&idSite=1',
      'urls[1]': 'method=SitesManager.getAllSites',
      'urls[2]': 'method=API.getMatomoVersion',
    });
    const [site, all, version] = response.json<unknown[]>();
    expect(site).toMatchObject({ idsite: 1 });
    expect(all).toEqual({ result: 'error', message: "You can't access this resource as it requires a 'superuser' access." });
    expect(version).toBe('5.2.0');
  });

  it('gives clear errors for bad methods, formats and ids, never a 500', async () => {
    expect((await api({ module: 'API', method: 'Nope.get', format: 'json', token_auth: viewToken })).json<{ message: string }>().message).toContain('plugin Nope is not enabled');
    expect((await api({ module: 'API', method: 'SitesManager.nope', format: 'json', token_auth: viewToken })).json<{ message: string }>().message).toContain("method 'nope' does not exist");
    expect((await api({ module: 'API', method: 'SitesManager.getSiteFromId', format: 'json', idSite: 'abc', token_auth: viewToken })).json<{ message: string }>().message).toContain("'idSite' must be a site id");
    const badFormat = await api({ module: 'API', method: 'API.getMatomoVersion', format: 'yaml', token_auth: viewToken });
    expect(badFormat.json<{ message: string }>().message).toContain("format 'yaml' is not supported");
    const xmlError = await api({ module: 'API', method: 'SitesManager.getAllSites', token_auth: viewToken });
    expect(xmlError.statusCode).toBe(401);
    expect(xmlError.body).toContain('<error message="You can&apos;t access this resource');
    const anonymous = await api({ module: 'API', method: 'SitesManager.getSiteFromId', idSite: '1', format: 'json' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('lets a platform admin act inside a tenant from the platform host, audited on both sides', async () => {
    const platformCtx = { platform: h.platform, scope: { kind: 'platform' } as const, actor: { kind: 'system', name: 'test' } as const, ip: null };
    await createUser(platformCtx, { login: 'ops', email: 'ops@ops.test', password: TEST_PASSWORD, superuser: true });
    const registry = identityDbFor(h.platform, { kind: 'platform' });
    const ops = await identityStore.findUserByLogin(registry, 'ops');
    const token = (await createToken(registry, h.platform.secret, ops?.id ?? 0, { description: 'ops' })).token;
    const acted = await api({ module: 'API', method: 'UsersManager.addUser', format: 'json', tenant: 'shop', userLogin: 'fromops', password: TEST_PASSWORD, email: 'fromops@shop.test', token_auth: token }, { host: 'ops.test' });
    expect(acted.json()).toEqual({ result: 'success', message: 'ok' });
    // Its token means nothing at the tenant's own host.
    expect((await api({ module: 'API', method: 'API.getMatomoVersion', format: 'json', token_auth: token })).statusCode).toBe(401);
    const tenantLog = await h.asOperator('shop', (ctx) => findAuditEntries(scopeAuditDb(ctx), { actions: ['user.created'], pattern: 'fromops' }));
    const platformLog = await findAuditEntries(platformAuditDb(h.platform), { actions: ['user.created'], pattern: 'fromops' });
    expect(tenantLog.entries[0]).toMatchObject({ actor: 'platform:ops', actorKind: 'platform_user', tenant: 'shop' });
    expect(platformLog.entries[0]).toMatchObject({ actor: 'platform:ops', tenant: 'shop' });
    // A tenant user's token at the platform host is nobody there.
    expect((await api({ module: 'API', method: 'UsersManager.getUsers', format: 'json', tenant: 'shop', token_auth: superToken }, { host: 'ops.test' })).statusCode).toBe(401);
  });

  it('reads the audit log through AuditLog.getAuditLog with filters, as CSV too', async () => {
    const json = await api({ module: 'API', method: 'AuditLog.getAuditLog', format: 'json', filter_pattern: 'newbie', eventTypes: 'user.*', token_auth: superToken });
    const rows = json.json<{ action: string; actor: string }[]>();
    expect(rows.map((row) => row.action)).toEqual(['user.deleted', 'user.created']);
    expect(json.headers['x-matomo-total-results']).toBe('2');
    const csv = await api({ module: 'API', method: 'AuditLog.getAuditLog', format: 'CSV', convertToUnicode: '0', filter_pattern: 'newbie', token_auth: superToken });
    expect(csv.headers['content-type']).toContain('application/vnd.ms-excel');
    expect(csv.body.split('\n')[0]).toContain('id,time,actor,actor_kind,tenant,idsite,ip,action');
    const denied = await api({ module: 'API', method: 'AuditLog.getAuditLog', format: 'json', token_auth: viewToken });
    expect(denied.statusCode).toBe(401);
  });

  it('signs platform users in only at the platform host', async () => {
    const atPlatform = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: 'ops.test' }, payload: { login: 'ops', password: TEST_PASSWORD } });
    expect(atPlatform.json()).toMatchObject({ status: 'signed_in' });
    const atTenant = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: HOST }, payload: { login: 'ops', password: TEST_PASSWORD } });
    expect(atTenant.statusCode).toBe(401);
    const tenantUserAtPlatform = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: 'ops.test' }, payload: { login: 'boss', password: TEST_PASSWORD } });
    expect(tenantUserAtPlatform.statusCode).toBe(401);
  });
});
