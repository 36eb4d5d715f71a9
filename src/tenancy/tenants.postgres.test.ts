import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlatform, type Platform } from '../platform/platform.js';
import { addSite, listSites } from '../sites/sites.service.js';
import { tenantRolePassword } from '../storage/postgres-tenant.js';
import type { Tenant } from './tenant.js';

const serverUrl = process.env.PLURA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Tenants on real PostgreSQL, with the registry there too: each tenant gets a schema
 * owned by its own role, and that role cannot read another tenant's tables.
 */
describe('tenants on PostgreSQL', () => {
  const suffix = randomBytes(4).toString('hex');
  const database = `plura_test_${suffix}`;
  const prefix = `pt${suffix}_`;
  const dbUrl = (() => {
    const url = new URL(serverUrl);
    url.pathname = `/${database}`;
    return url.toString();
  })();
  let dataDir: string;
  let platform: Platform;
  let a: Tenant;
  let b: Tenant;

  beforeAll(async () => {
    await admin(serverUrl, (c) => c.query(`create database ${database}`));
    dataDir = mkdtempSync(join(tmpdir(), 'plura-pg-'));
    platform = await openPlatform({
      dataDir,
      env: { PLURA_DATABASE_REGISTRY_URL: dbUrl, PLURA_DATABASE_TENANT_STORAGE: dbUrl, PLURA_DATABASE_POSTGRES_ROLE_PREFIX: prefix },
    });
    a = await platform.tenants.create({ slug: 'alpha', hosts: ['alpha.test'] });
    b = await platform.tenants.create({ slug: 'beta-co', hosts: ['beta.test'] });
  });

  afterAll(async () => {
    await platform?.close();
    await admin(serverUrl, async (c) => {
      await c.query(`drop database if exists ${database} with (force)`);
      const roles = await c.query<{ rolname: string }>(`select rolname from pg_roles where rolname like $1`, [`${prefix}%`]);
      for (const { rolname } of roles.rows) await c.query(`drop role "${rolname}"`);
    });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores the location without a password and keeps the registry in PostgreSQL', async () => {
    expect(a.storage).toEqual({ kind: 'postgres', url: dbUrl, schema: `${prefix}alpha`, role: `${prefix}alpha` });
    expect(b.storage).toMatchObject({ schema: `${prefix}beta_co` });
    expect(platform.registry.dialect).toBe('postgres');
    expect((await platform.tenants.get('beta.test')).slug).toBe('beta-co');
  });

  it('gives each tenant its own site 1', async () => {
    const input = { url: 'https://example.com', timezone: 'UTC', currency: 'USD' };
    await platform.withStore(a, (store) => addSite(a, store, { ...input, name: 'Alpha site' }));
    await platform.withStore(b, (store) => addSite(b, store, { ...input, name: 'Beta site' }));
    expect(await platform.withStore(a, listSites)).toMatchObject([{ id: 1, name: 'Alpha site' }]);
    expect(await platform.withStore(b, listSites)).toMatchObject([{ id: 1, name: 'Beta site' }]);
  });

  it("denies tenant A's role any access to tenant B's tables and to the registry", async () => {
    if (a.storage.kind !== 'postgres' || b.storage.kind !== 'postgres') throw new Error('expected postgres storage');
    const secret = platform.settings.get('database.secret') || (await import('node:fs')).readFileSync(platform.paths.secretFile, 'utf8').trim();
    const server = new URL(dbUrl);
    // Explicit fields: in pg, a connectionString would override `user`.
    const client = new pg.Client({
      host: server.hostname,
      port: Number(server.port || 5432),
      database,
      user: a.storage.role,
      password: tenantRolePassword(secret, a.storage.role),
    });
    await client.connect();
    try {
      expect((await client.query<{ who: string }>('select current_user as who')).rows[0]?.who).toBe(a.storage.role);
      const own = await client.query<{ name: string }>(`select name from "${a.storage.schema}".site`);
      expect(own.rows.map((r) => r.name)).toEqual(['Alpha site']);
      await expect(client.query(`select * from "${b.storage.schema}".site`)).rejects.toMatchObject({ code: '42501' });
      await expect(client.query(`create table "${b.storage.schema}".intruder (id int)`)).rejects.toMatchObject({ code: '42501' });
      await expect(client.query(`select * from plura_registry.tenant`)).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.end();
    }
  });

  it('deletes a tenant with its schema and role, and leaves the other intact', async () => {
    await platform.tenants.delete('alpha', { force: true });
    const left = await admin(dbUrl, (c) =>
      c.query(`select (select count(*) from pg_roles where rolname = $1)::int as roles, (select count(*) from pg_namespace where nspname = $1)::int as schemas`, [`${prefix}alpha`]),
    );
    expect(left.rows[0]).toEqual({ roles: 0, schemas: 0 });
    expect(existsSync(platform.paths.tenantDir('alpha'))).toBe(false);
    expect(await platform.withStore(b, listSites)).toHaveLength(1);
  });

  it('reports an unreachable PostgreSQL in one sentence and leaves nothing behind', async () => {
    await expect(platform.tenants.create({ slug: 'gamma', hosts: ['gamma.test'], storage: 'postgres://postgres@127.0.0.1:1/x' })).rejects.toMatchObject({
      code: 'storage_unavailable',
      message: expect.stringContaining('Cannot reach PostgreSQL at postgres://postgres@127.0.0.1:1/x') as string,
    });
    expect(existsSync(platform.paths.tenantDir('gamma'))).toBe(false);
    await expect(platform.tenants.get('gamma')).rejects.toMatchObject({ code: 'unknown_tenant' });
  });
});
