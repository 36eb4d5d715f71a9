import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './test-support/run-cli.js';

const plura = runCli;

describe('plura CLI', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'plura-cli-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('creates, lists, shows, updates, deactivates and deletes a tenant', async () => {
    expect(await plura(dataDir, 'tenant:create', 'acme', '--host', 'acme.test', '--host', 'www.acme.test', '--name', 'Acme')).toMatchObject({ code: 0 });
    expect(existsSync(join(dataDir, 'tenants/acme/plura.db'))).toBe(true);
    expect(existsSync(join(dataDir, 'tenants/acme/files'))).toBe(true);
    expect(existsSync(join(dataDir, 'tenants/acme/tmp'))).toBe(true);

    const list = await plura(dataDir, 'tenant:list', '--format', 'json');
    expect(JSON.parse(list.out)).toMatchObject([{ slug: 'acme', name: 'Acme', hosts: ['acme.test', 'www.acme.test'], status: 'active' }]);

    const update = await plura(dataDir, 'tenant:update', 'www.acme.test', '--attribute', 'plan=gold', '--max-sites', '1', '--primary-color', '#AABBCC', '--remove-host', 'www.acme.test', '--add-host', 'stats.acme.test');
    expect(update).toMatchObject({ code: 0 });
    const shown = JSON.parse((await plura(dataDir, 'tenant:show', '--matomo-domain', 'acme', '--format', 'json')).out) as Record<string, unknown>;
    expect(shown).toMatchObject({ hosts: ['acme.test', 'stats.acme.test'], attributes: { plan: 'gold' }, limits: { maxSites: 1 }, branding: { primaryColor: '#aabbcc' } });

    expect(await plura(dataDir, 'tenant:deactivate', 'acme')).toMatchObject({ code: 0, out: 'Deactivated tenant acme.' });
    expect(await plura(dataDir, 'tenant:delete', 'acme')).toMatchObject({ code: 1, err: expect.stringContaining('--force') as string });
    expect(await plura(dataDir, 'tenant:delete', 'acme', '--force')).toMatchObject({ code: 0 });
    expect(existsSync(join(dataDir, 'tenants/acme'))).toBe(false);
    expect(await plura(dataDir, 'tenant:show', 'acme')).toMatchObject({ code: 1, err: 'Error: No tenant is known by the slug or hostname "acme".' });
  });

  it('refuses bad input with one clear sentence, a non-zero exit and nothing half-created', async () => {
    expect(await plura(dataDir, 'tenant:create', 'Bad Slug', '--host', 'x.test')).toMatchObject({ code: 1, err: expect.stringContaining('not a valid tenant slug') as string });
    expect(await plura(dataDir, 'tenant:create', 'a', '--host', 'a.test')).toMatchObject({ code: 0 });
    const duplicate = await plura(dataDir, 'tenant:create', 'b', '--host', 'A.TEST.');
    expect(duplicate).toMatchObject({ code: 1, err: 'Error: The hostname a.test already belongs to tenant "a".' });
    expect(readdirSync(join(dataDir, 'tenants'))).toEqual(['a']);
    const unreachable = await plura(dataDir, 'tenant:create', 'c', '--host', 'c.test', '--storage', 'postgres://postgres@127.0.0.1:1/none');
    expect(unreachable.code).toBe(1);
    expect(unreachable.err).toContain('Cannot reach PostgreSQL at postgres://postgres@127.0.0.1:1/none');
    expect(readdirSync(join(dataDir, 'tenants'))).toEqual(['a']);
    expect(await plura(dataDir, 'tenant:create', 'd', '--host', 'not a host')).toMatchObject({ code: 1, err: expect.stringContaining('is not a valid hostname') as string });
    expect((await plura(dataDir, 'tenant:list', '--format', 'json')).out).not.toContain('"d"');
  });

  it('adds sites with per-tenant ids and enforces the site limit', async () => {
    await plura(dataDir, 'tenant:create', 'a', '--host', 'a.test');
    await plura(dataDir, 'tenant:create', 'b', '--host', 'b.test');
    expect(await plura(dataDir, 'site:add', '--tenant', 'a', '--name', 'A1', '--url', 'https://a.example')).toMatchObject({ code: 0, out: 'Added site 1 (A1) to tenant a.' });
    expect(await plura(dataDir, 'site:add', '--tenant', 'b.test', '--name', 'B1', '--url', 'https://b.example', '--timezone', 'Europe/Paris', '--currency', 'eur')).toMatchObject({ code: 0, out: 'Added site 1 (B1) to tenant b.' });
    const sites = JSON.parse((await plura(dataDir, 'site:list', '--tenant', 'b', '--format', 'json')).out) as unknown;
    expect(sites).toMatchObject([{ id: 1, name: 'B1', mainUrl: 'https://b.example', timezone: 'Europe/Paris', currency: 'EUR' }]);
    expect(await plura(dataDir, 'site:add', '--tenant', 'a', '--name', 'bad', '--url', 'ftp://x')).toMatchObject({ code: 1 });
    expect(await plura(dataDir, 'site:add', '--tenant', 'a', '--name', 'bad', '--url', 'https://x', '--timezone', 'Mars/Base')).toMatchObject({ code: 1, err: expect.stringContaining('not a known time zone') as string });
    await plura(dataDir, 'tenant:update', 'a', '--max-sites', '1');
    expect(await plura(dataDir, 'site:add', '--tenant', 'a', '--name', 'A2', '--url', 'https://a2.example')).toMatchObject({ code: 1, err: expect.stringContaining('limit of 1 sites') as string });
  });

  it('clears only the named tenant cache and updates every tenant', async () => {
    await plura(dataDir, 'tenant:create', 'a', '--host', 'a.test');
    await plura(dataDir, 'tenant:create', 'b', '--host', 'b.test');
    writeFileSync(join(dataDir, 'tenants/a/tmp/x.cache'), 'a');
    writeFileSync(join(dataDir, 'tenants/b/tmp/x.cache'), 'b');
    expect(await plura(dataDir, 'cache:clear', '--tenant', 'a.test')).toMatchObject({ code: 0 });
    expect(existsSync(join(dataDir, 'tenants/a/tmp/x.cache'))).toBe(false);
    expect(existsSync(join(dataDir, 'tenants/b/tmp/x.cache'))).toBe(true);
    const update = await plura(dataDir, 'core:update');
    expect(update).toMatchObject({ code: 0 });
    expect(update.out).toContain('a: up to date');
    expect(update.out).toContain('b: up to date');
  });

  it('reports a tenant whose store cannot be migrated and still updates the others', async () => {
    await plura(dataDir, 'tenant:create', 'a', '--host', 'a.test');
    await plura(dataDir, 'tenant:create', 'b', '--host', 'b.test');
    rmSync(join(dataDir, 'tenants/a/plura.db'));
    const update = await plura(dataDir, 'core:update');
    expect(update.code).toBe(1);
    expect(update.err).toContain('a: FAILED');
    expect(update.out).toContain('b: up to date');
  });

  it('shows settings with their layer and refuses platform-only keys for a tenant', async () => {
    await plura(dataDir, 'tenant:create', 'a', '--host', 'a.test');
    mkdirSync(join(dataDir, 'config'), { recursive: true });
    writeFileSync(join(dataDir, 'config/common.ini'), '[Tracker]\nvisit_standard_length = 900\n');
    expect(await plura(dataDir, 'config:set', 'Tracker.visit_standard_length', '600', '--tenant', 'a')).toMatchObject({ code: 0 });
    const list = JSON.parse((await plura(dataDir, 'config:list', '--tenant', 'a', '--format', 'json')).out) as { name: string; value: unknown; layer: string }[];
    expect(list.find((s) => s.name === 'Tracker.visit_standard_length')).toMatchObject({ value: 600, layer: 'tenant' });
    expect(await plura(dataDir, 'config:get', 'Tracker.visit_standard_length')).toMatchObject({ code: 0, out: '900' });
    const refused = await plura(dataDir, 'config:set', 'database.max_open_stores', '3', '--tenant', 'a');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('database.max_open_stores');
  });

  it('answers --help for every command', async () => {
    for (const command of ['serve', 'tenant:create', 'tenant:update', 'site:add', 'core:update', 'config:list', 'cache:clear']) {
      const help = await plura(dataDir, command, '--help');
      expect(help.code).toBe(0);
      expect(help.out).toContain(`Usage: plura ${command}`);
    }
  });
});
