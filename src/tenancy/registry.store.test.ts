import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPaths } from '../core/paths.js';
import { RegistryStore, type TenantRowValues } from './registry.store.js';

const serverUrl = process.env.PLURA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const values: TenantRowValues = {
  name: 'Acme',
  status: 'active',
  storage: { kind: 'sqlite' },
  attributes: { plan: 'gold' },
  maxUsers: 5,
  maxSites: null,
  productName: null,
  logoFile: null,
  primaryColor: '#112233',
  language: 'de',
  timezone: 'Europe/Berlin',
};

// The same registry behaviour, proven on both engines.
describe.each(['sqlite', 'postgres'] as const)('RegistryStore on %s', (engine) => {
  const dir = mkdtempSync(join(tmpdir(), 'plura-registry-'));
  const database = `plura_test_${randomBytes(4).toString('hex')}`;
  let registry: RegistryStore;

  beforeAll(async () => {
    let url = '';
    if (engine === 'postgres') {
      const admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      await admin.query(`create database ${database}`);
      await admin.end();
      const parsed = new URL(serverUrl);
      parsed.pathname = `/${database}`;
      url = parsed.toString();
    }
    registry = await RegistryStore.open(url, dataPaths(dir));
  });

  afterAll(async () => {
    await registry?.close();
    if (engine === 'postgres') {
      const admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      await admin.query(`drop database if exists ${database} with (force)`);
      await admin.end();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('inserts, finds and lists tenants with their hosts in order', async () => {
    const before = await registry.generation();
    const tenant = await registry.insertTenant('acme', ['acme.test', 'www.acme.test'], values);
    expect(tenant).toMatchObject({ slug: 'acme', hosts: ['acme.test', 'www.acme.test'], attributes: { plan: 'gold' }, limits: { maxUsers: 5, maxSites: null } });
    expect(await registry.generation()).toBe(before + 1);
    expect(await registry.findSlugByHost('www.acme.test')).toBe('acme');
    expect((await registry.listTenants()).map((t) => t.slug)).toEqual(['acme']);
  });

  it('refuses a taken slug or host and writes nothing of the refused tenant', async () => {
    await expect(registry.insertTenant('acme', ['other.test'], values)).rejects.toMatchObject({ code: 'duplicate_tenant' });
    await expect(registry.insertTenant('beta', ['new.test', 'acme.test'], values)).rejects.toMatchObject({
      code: 'duplicate_host',
      message: 'The hostname acme.test already belongs to tenant "acme".',
    });
    expect(await registry.findTenant('beta')).toBeUndefined();
    expect(await registry.findSlugByHost('new.test')).toBeUndefined();
  });

  it('updates values, replaces hosts, and deletes with the hosts', async () => {
    const updated = await registry.updateTenant('acme', { ...values, status: 'deactivated' }, ['stats.acme.test']);
    expect(updated).toMatchObject({ status: 'deactivated', hosts: ['stats.acme.test'] });
    expect(await registry.findSlugByHost('acme.test')).toBeUndefined();
    await registry.deleteTenant('acme');
    expect(await registry.findTenant('acme')).toBeUndefined();
    expect(await registry.findSlugByHost('stats.acme.test')).toBeUndefined();
    await expect(registry.deleteTenant('acme')).rejects.toMatchObject({ code: 'unknown_tenant' });
  });

  it('lets exactly one caller create the demo tenant, ever', async () => {
    expect(await registry.claimDemoCreation()).toBe(true);
    expect(await registry.claimDemoCreation()).toBe(false);
  });
});
