import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPlatform } from '../platform/platform.js';
import { runCli } from './test-support/run-cli.js';

const plura = runCli;

describe('identity console commands', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'plura-cli-identity-'));
    expect((await plura(dataDir, 'tenant:create', 'acme', '--host', 'acme.test')).code).toBe(0);
    expect((await plura(dataDir, 'site:add', '--tenant', 'acme', '--name', 'Shop', '--url', 'https://shop.example')).code).toBe(0);
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints a setup link until a super user exists', async () => {
    const link = await plura(dataDir, 'tenant:setup-link', '--tenant', 'acme');
    expect(link).toMatchObject({ code: 0, out: expect.stringMatching(/^http:\/\/acme\.test:8080\/setup\?token=[\w-]{20,}$/) as string });
    await plura(dataDir, 'usermanager:create-user', '--tenant', 'acme', '--login', 'root', '--password', 'a long password', '--email', 'root@acme.test', '--superuser');
    const none = await plura(dataDir, 'tenant:setup-link', '--tenant', 'acme');
    expect(none).toMatchObject({ code: 1, err: expect.stringContaining('already has a super user') as string });
  });

  it('creates, lists, sets permissions, regenerates tokens and deletes users', async () => {
    expect(await plura(dataDir, 'usermanager:create-user', '--tenant', 'acme', '--login', 'root', '--password', 'a long password', '--email', 'root@acme.test', '--superuser')).toMatchObject({ code: 0, out: 'Created user root in tenant acme with super user access.' });
    expect(await plura(dataDir, 'usermanager:create-user', '--matomo-domain', 'acme.test', '--login', 'ann', '--password', 'another long one', '--email', 'ann@acme.test', '--alias', 'Ann')).toMatchObject({ code: 0 });
    expect((await plura(dataDir, 'usermanager:create-user', '--tenant', 'acme', '--login', 'weak', '--password', 'x', '--email', 'w@acme.test')).err).toContain('at least 8 characters');
    expect(await plura(dataDir, 'usermanager:set-site-permission', '--tenant', 'acme', '--login', 'ann', '--site-id', '1', '--access', 'write')).toMatchObject({ code: 0 });
    expect((await plura(dataDir, 'usermanager:set-site-permission', '--tenant', 'acme', '--login', 'ann', '--site-id', '9', '--access', 'view')).err).toContain('website id = 9');
    const list = JSON.parse((await plura(dataDir, 'usermanager:list-users', '--tenant', 'acme', '--format', 'json')).out) as { login: string; last_seen: string | null; sites: unknown[] }[];
    expect(list).toEqual([expect.objectContaining({ login: 'ann', last_seen: null, sites: [{ site: 1, role: 'write', capabilities: [] }] }), expect.objectContaining({ login: 'root' })]);
    expect((await plura(dataDir, 'usermanager:list-users', '--tenant', 'acme')).out).toContain('last seen never');
    const token = await plura(dataDir, 'usermanager:regenerate-token', 'ann', '--tenant', 'acme');
    expect(token.out).toMatch(/^[0-9a-f]{32}$/);
    expect(await plura(dataDir, 'usermanager:set-superuser-access', 'ann', '1', '--tenant', 'acme')).toMatchObject({ code: 0 });
    expect(await plura(dataDir, 'usermanager:set-superuser-access', 'ann', '0', '--tenant', 'acme')).toMatchObject({ code: 0 });
    expect((await plura(dataDir, 'usermanager:set-superuser-access', 'root', '0', '--tenant', 'acme')).err).toContain('no super user');
    expect(await plura(dataDir, 'usermanager:delete-user', 'ann', '--tenant', 'acme')).toMatchObject({ code: 0, out: 'Deleted user ann from tenant acme.' });
    expect((await plura(dataDir, 'usermanager:delete-user', 'ann', '--tenant', 'acme')).err).toBe("Error: User 'ann' doesn't exist.");
  });

  it('creates platform admins without --tenant, apart from every tenant', async () => {
    expect(await plura(dataDir, 'usermanager:create-user', '--login', 'ops', '--password', 'platform password', '--email', 'ops@ops.test', '--superuser')).toMatchObject({ code: 0, out: 'Created user ops in the platform with super user access.' });
    expect(JSON.parse((await plura(dataDir, 'usermanager:list-users', '--format', 'json')).out)).toEqual([expect.objectContaining({ login: 'ops', superuser_access: true })]);
    expect(JSON.parse((await plura(dataDir, 'usermanager:list-users', '--tenant', 'acme', '--format', 'json')).out)).toEqual([]);
  });

  it('unblocks an IP, verifies and exports the audit log, and detects tampering', async () => {
    await plura(dataDir, 'usermanager:create-user', '--tenant', 'acme', '--login', 'root', '--password', 'a long password', '--email', 'root@acme.test', '--superuser');
    expect(await plura(dataDir, 'security:unblock-ip', '203.0.113.9', '--tenant', 'acme')).toMatchObject({ code: 0 });
    const verify = await plura(dataDir, 'auditlog:verify', '--tenant', 'acme');
    expect(verify).toMatchObject({ code: 0, out: expect.stringContaining('is intact') as string });
    const file = join(dataDir, 'audit.csv');
    expect((await plura(dataDir, 'auditlog:export', '--tenant', 'acme', '--output-file', file)).code).toBe(0);
    const csv = readFileSync(file, 'utf8');
    expect(csv).toContain('site.created');
    expect(csv).toContain('security.ip_unblocked');
    const jsonFile = join(dataDir, 'audit.json');
    await plura(dataDir, 'auditlog:export', '--tenant', 'acme', '--output-file', jsonFile, '--action', 'user.*');
    expect((JSON.parse(readFileSync(jsonFile, 'utf8')) as { action: string }[]).map((e) => e.action)).toEqual(['user.created']);

    const platform = await openPlatform({ dataDir });
    const tenant = await platform.tenants.get('acme');
    await platform.withStore(tenant, (store) => store.db.deleteFrom('audit_entry').where('id', '=', 1).execute());
    await platform.close();
    const broken = await plura(dataDir, 'auditlog:verify', '--tenant', 'acme');
    expect(broken).toMatchObject({ code: 1, err: expect.stringContaining('tampered') as string });
  });

  it('audits tenant lifecycle and settings changes in the platform log (secrets redacted)', async () => {
    await plura(dataDir, 'tenant:update', 'acme', '--name', 'Acme Inc');
    await plura(dataDir, 'tenant:deactivate', 'acme');
    await plura(dataDir, 'config:set', 'Security.password_min_length', '12', '--tenant', 'acme');
    await plura(dataDir, 'config:set', 'database.redis_url', 'redis://user:pw@127.0.0.1:6379');
    const file = join(dataDir, 'platform-audit.json');
    expect((await plura(dataDir, 'auditlog:export', '--output-file', file)).code).toBe(0);
    const entries = JSON.parse(readFileSync(file, 'utf8')) as { action: string; tenant: string | null; after: unknown }[];
    expect(entries.map((e) => e.action)).toEqual(['settings.changed', 'settings.changed', 'tenant.deactivated', 'tenant.updated', 'tenant.created']);
    expect(JSON.stringify(entries)).not.toContain('user:pw');
    expect((await plura(dataDir, 'auditlog:verify')).out).toContain('The audit log of the platform is intact (5 entries checked).');
  });
});
