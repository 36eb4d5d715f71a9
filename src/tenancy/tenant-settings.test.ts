import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settingDefinitions } from '../settings/definitions.js';
import { tokenFor } from '../http/test-support/harness.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { expectError, openTenancyHarness, PLATFORM_HOST, type TenancyHarness } from './test-support/tenancy-harness.js';

type S = Awaited<ReturnType<TenancyHarness['signIn']>>;
interface SettingRow {
  name: string;
  section: string;
  value: unknown;
  layer: string;
  default: unknown;
  type: string;
  description: string;
  secret: boolean;
  set?: boolean;
}

const SMTP_PASSWORD = 'hunter2-smtp-Pa55';

describe('tenant settings over REST', () => {
  let h: TenancyHarness;
  let pg: TestPostgresDatabase;
  let ops: S;

  beforeAll(async () => {
    pg = await createTestPostgresDatabase('tsettings');
    h = await openTenancyHarness({ PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix, PLURA_GENERAL_DEFAULT_CURRENCY: 'CHF' });
    await h.addTenant('acme', ['acme.test']);
    await h.addTenant('globex', ['globex.test'], pg.url);
    for (const slug of ['acme', 'globex']) {
      await h.addUser(slug, `${slug}-root`, { superuser: true });
      await h.addUser(slug, `${slug}-ann`);
    }
    await h.addPlatformUser('ops', { admin: true });
    ops = await h.signIn(PLATFORM_HOST, 'ops');
    // The operator's common.ini: a lower layer the tenant can override and fall back to.
    h.platform.settings.set('Tracker.honor_do_not_track', '1');
  });
  afterAll(async () => {
    await h?.close();
    await pg?.drop();
  });

  describe.each([
    ['acme', 'SQLite'],
    ['globex', 'PostgreSQL'],
  ])('%s (%s)', (slug) => {
    const host = `${slug}.test`;
    const other = slug === 'acme' ? 'globex' : 'acme';
    const configIni = (): string => join(h.platform.paths.tenantDir(slug), 'config.ini');
    let root: S;
    const settingsOf = async (session: S | { host: string; token?: string }, headers: Record<string, string> = {}): Promise<Map<string, SettingRow>> => {
      const response = await h.call(session, 'GET', '/api/v1/tenant/settings', undefined, headers);
      expect(response.statusCode, response.body).toBe(200);
      return new Map(response.json<{ settings: SettingRow[] }>().settings.map((row) => [row.name, row]));
    };
    const putSettings = (session: S | { host: string; token?: string }, settings: Record<string, unknown>, headers: Record<string, string> = {}) =>
      h.call(session, 'PUT', '/api/v1/tenant/settings', { settings }, headers);

    beforeAll(async () => {
      root = await h.signIn(host, `${slug}-root`);
    });

    it('GET lists every setting a tenant may override, with its value, layer and default, and nothing platform-only', async () => {
      const settings = await settingsOf(root);
      const tenantScoped = Object.entries(settingDefinitions).filter(([name, d]) => d.scope === 'tenant' && !name.startsWith('database.')).map(([name]) => name);
      expect([...settings.keys()].sort()).toEqual(tenantScoped.sort());
      expect(settings.has('database.secret')).toBe(false);
      expect(settings.has('General.platform_host')).toBe(false);
      expect(settings.get('Security.password_min_length')).toEqual({
        name: 'Security.password_min_length',
        section: 'Security',
        value: 8,
        layer: 'default',
        default: 8,
        type: 'int',
        description: settingDefinitions['Security.password_min_length'].description,
        secret: false,
      });
      expect(settings.get('General.default_currency')).toMatchObject({ value: 'CHF', layer: 'environment', default: 'USD' });
      expect(settings.get('Tracker.honor_do_not_track')).toMatchObject({ value: true, layer: 'common', default: false, type: 'bool' });
      expect(settings.get('Security.login_allowlist_ip')).toMatchObject({ value: [], type: 'list' });
      expect(settings.get('Mail.smtp_password')).toMatchObject({ value: null, default: null, secret: true, set: false });
    });

    it('PUT writes typed values to config.ini, round-trips lists, and null falls back to the lower layer', async () => {
      const response = await putSettings(root, {
        'Security.password_min_length': 12,
        'Security.login_allowlist_ip': ['10.0.0.0/8', '127.0.0.1'],
        'Tracker.honor_do_not_track': false,
        'General.default_currency': 'EUR',
        'SSO.break_glass_users': [`${slug}-root`],
      });
      expect(response.statusCode, response.body).toBe(200);
      const answered = new Map(response.json<{ settings: SettingRow[] }>().settings.map((row) => [row.name, row]));
      expect(answered.get('Security.password_min_length')).toMatchObject({ value: 12, layer: 'tenant' });
      expect(answered.get('Security.login_allowlist_ip')).toMatchObject({ value: ['10.0.0.0/8', '127.0.0.1'], layer: 'tenant' });
      expect(answered.get('Tracker.honor_do_not_track')).toMatchObject({ value: false, layer: 'tenant' });
      const ini = readFileSync(configIni(), 'utf8');
      expect(ini).toContain('login_allowlist_ip[] = "10.0.0.0/8"\nlogin_allowlist_ip[] = "127.0.0.1"');
      expect(ini).toContain('password_min_length = 12');
      expect(ini).toContain('honor_do_not_track = 0');
      // The same values through a fresh read, and in force for the tenant only.
      const again = await settingsOf(root);
      expect(again.get('Security.login_allowlist_ip')?.value).toEqual(['10.0.0.0/8', '127.0.0.1']);
      expect(again.get('SSO.break_glass_users')?.value).toEqual([`${slug}-root`]);
      expect(h.platform.settings.forTenant(slug).get('Security.password_min_length')).toBe(12);
      expect(h.platform.settings.forTenant(other).get('Security.password_min_length')).toBe(8);
      // The allowlist is in force: the tenant's own addresses only.
      expectError(await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host, cookie: root.cookie }, remoteAddress: '192.0.2.7' }), 403, 'ip_not_allowed');

      const back = await putSettings(root, { 'Security.password_min_length': null, 'Security.login_allowlist_ip': null, 'Tracker.honor_do_not_track': null, 'General.default_currency': null, 'SSO.break_glass_users': null });
      expect(back.statusCode, back.body).toBe(200);
      const fallen = await settingsOf(root);
      expect(fallen.get('Security.password_min_length')).toMatchObject({ value: 8, layer: 'default' });
      expect(fallen.get('Security.login_allowlist_ip')).toMatchObject({ value: [], layer: 'default' });
      expect(fallen.get('Tracker.honor_do_not_track')).toMatchObject({ value: true, layer: 'common' });
      expect(fallen.get('General.default_currency')).toMatchObject({ value: 'CHF', layer: 'environment' });
      expect(readFileSync(configIni(), 'utf8')).not.toMatch(/password_min_length|login_allowlist_ip|honor_do_not_track|default_currency|break_glass/);
    });

    it('PUT is all or nothing: one bad value refuses the whole change, naming the setting', async () => {
      const before = existsSync(configIni()) ? readFileSync(configIni(), 'utf8') : null;
      const cases: [Record<string, unknown>, number, string, string][] = [
        [{ 'Security.password_min_length': 'twelve' }, 400, 'invalid_input', 'Security.password_min_length'],
        [{ 'Security.password_min_length': 12.5 }, 400, 'invalid_input', 'Security.password_min_length'],
        [{ 'Security.password_min_length': 100000 }, 400, 'invalid_input', 'out of range'],
        [{ 'Tracker.honor_do_not_track': 'perhaps' }, 400, 'invalid_input', 'Tracker.honor_do_not_track'],
        [{ 'Security.login_allowlist_ip': ['10.0.0.0/8', 'not-an-ip'] }, 400, 'invalid_input', 'not-an-ip'],
        [{ 'Security.login_allowlist_ip': 'nonsense' }, 400, 'invalid_input', 'Security.login_allowlist_ip'],
        [{ 'Security.login_allowlist_ip': ['10.0.0.0/8'] }, 400, 'invalid_input', 'lock you out'],
        [{ 'General.default_timezone': 'Mars/Olympus_Mons' }, 400, 'invalid_input', 'General.default_timezone'],
        [{ 'General.default_language': 'klingon!' }, 400, 'invalid_input', 'General.default_language'],
        [{ 'General.default_currency': 'XYZW' }, 400, 'invalid_input', 'General.default_currency'],
        [{ 'General.default_currency': 5 }, 400, 'invalid_input', 'General.default_currency'],
        [{ 'JWT.shared_secret': 'short' }, 400, 'invalid_input', '32 characters'],
        [{ 'SAML.idp_metadata_file': '/etc/passwd' }, 400, 'invalid_input', "tenant's own folder"],
        [{ 'LDAP.tls_ca_file': `../${other}/ca.pem` }, 400, 'invalid_input', "tenant's own folder"],
        [{ 'Mail.from_name': 'Acme\r\nBcc: everyone@example.com' }, 400, 'invalid_input', 'line break'],
        [{ 'OIDC.token_endpoint_auth_method': 'telepathy' }, 400, 'invalid_input', 'OIDC.token_endpoint_auth_method'],
        [{ 'General.no_such_setting': 1 }, 400, 'unknown_setting', 'General.no_such_setting'],
        [{ 'database.secret': 'x'.repeat(40) }, 400, 'config_refused', 'database.secret'],
        [{ 'General.platform_host': 'evil.test' }, 400, 'config_refused', 'General.platform_host'],
        [{ 'Embedding.secret': 'x'.repeat(40) }, 400, 'config_refused', 'Embedding.secret'],
        [{ 'Security.password_min_length': { min: 12 } }, 400, 'invalid_input', 'wrong type'],
      ];
      for (const [bad, status, code, mention] of cases) {
        const message = expectError(await putSettings(root, { 'General.default_language': 'it', 'Security.require_mfa': true, ...bad }), status, code);
        expect(message, JSON.stringify(bad)).toContain(mention);
        // The operator's paths never reach a tenant.
        expect(message).not.toContain(h.dataDir);
      }
      expectError(await h.call(root, 'PUT', '/api/v1/tenant/settings', { 'General.default_language': 'it' }), 400, 'invalid_input');
      expect(existsSync(configIni()) ? readFileSync(configIni(), 'utf8') : null).toBe(before);
      expect(h.platform.settings.forTenant(slug).get('Security.require_mfa')).toBe(false);
      // Files inside the tenant's own folder are fine.
      expect((await putSettings(root, { 'SAML.idp_metadata_file': 'saml/idp.xml' })).statusCode).toBe(200);
      expect((await putSettings(root, { 'SAML.idp_metadata_file': null })).statusCode).toBe(200);
    });

    it('secrets are written but never shown, and audited redacted in both logs', async () => {
      const response = await putSettings(root, { 'Mail.smtp_password': SMTP_PASSWORD, 'Mail.smtp_host': `smtp.${slug}.example` });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.body).not.toContain(SMTP_PASSWORD);
      const settings = await settingsOf(root);
      expect(settings.get('Mail.smtp_password')).toMatchObject({ value: null, default: null, secret: true, set: true, layer: 'tenant' });
      expect(h.platform.settings.forTenant(slug).get('Mail.smtp_password')).toBe(SMTP_PASSWORD);

      const tenantLog = (await h.auditActions(slug)).filter((e) => e.action === 'settings.changed');
      const platformLog = (await h.auditActions(null)).filter((e) => e.action === 'settings.changed' && e.tenant === slug);
      expect(tenantLog.at(-1)).toEqual({ action: 'settings.changed', actor: `${slug}-root`, tenant: slug, after: { 'Mail.smtp_password': '(redacted)', 'Mail.smtp_host': `smtp.${slug}.example` } });
      expect(platformLog.at(-1)).toEqual(tenantLog.at(-1));
      expect(JSON.stringify([...tenantLog, ...platformLog])).not.toContain(SMTP_PASSWORD);
      expect(JSON.stringify(await h.auditActions(other))).not.toContain(`smtp.${slug}.example`);

      // The earlier round trip is in the logs with its values before and after.
      expect(tenantLog.some((e) => JSON.stringify(e.after) === JSON.stringify({ 'Security.password_min_length': 12, 'Security.login_allowlist_ip': ['10.0.0.0/8', '127.0.0.1'], 'Tracker.honor_do_not_track': false, 'General.default_currency': 'EUR', 'SSO.break_glass_users': [`${slug}-root`] }))).toBe(true);

      expect((await putSettings(root, { 'Mail.smtp_password': null })).statusCode).toBe(200);
      expect((await settingsOf(root)).get('Mail.smtp_password')).toMatchObject({ set: false, layer: 'default' });
    });

    it('is for super users and platform admins acting in the tenant, never across tenants', async () => {
      const acting = await putSettings(ops, { 'General.default_language': 'pt-BR' }, { 'x-plura-tenant': slug });
      expect(acting.statusCode, acting.body).toBe(200);
      expect((await settingsOf(ops, { 'x-plura-tenant': slug })).get('General.default_language')).toMatchObject({ value: 'pt-BR', layer: 'tenant' });
      // A platform admin is not held to the tenant's allowlist (the platform's applies), so no lock-out check binds it.
      expect((await h.auditActions(slug)).filter((e) => e.action === 'settings.changed').at(-1)).toMatchObject({ actor: 'platform:ops' });
      expect((await putSettings(ops, { 'General.default_language': null }, { 'x-plura-tenant': slug })).statusCode).toBe(200);

      const ann = await h.signIn(host, `${slug}-ann`);
      expectError(await h.call(ann, 'GET', '/api/v1/tenant/settings'), 403, 'forbidden');
      expectError(await putSettings(ann, { 'General.default_language': 'it' }), 403, 'forbidden');
      expectError(await h.call({ host }, 'GET', '/api/v1/tenant/settings'), 401, 'unauthenticated');
      const otherRoot = await tokenFor(h.app, `${other}.test`, `${other}-root`);
      expectError(await h.call({ host, token: otherRoot }, 'GET', '/api/v1/tenant/settings'), 401, 'invalid_token');
      expectError(await putSettings({ host, token: otherRoot }, { 'General.default_language': 'it' }), 401, 'invalid_token');
      expect(expectError(await h.call(ops, 'GET', '/api/v1/tenant/settings'), 400, 'invalid_input')).toContain('X-Plura-Tenant');
      expect(h.platform.settings.forTenant(slug).get('General.default_language')).toBe('en');
    });
  });
});
