import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dataPaths, type DataPaths } from '../core/paths.js';
import { openSqlite } from './database.js';
import { TenantStores, type TenantStoreTarget } from './tenant-stores.js';

describe('TenantStores (bounded pool of open tenant stores)', () => {
  let dir: string;
  let paths: DataPaths;
  let stores: TenantStores;
  const target = (slug: string): TenantStoreTarget => ({ slug, storage: { kind: 'sqlite' }, createdAt: '2026-01-01T00:00:00.000Z' });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'plura-stores-'));
    paths = dataPaths(dir);
    for (const slug of ['t1', 't2', 't3']) {
      mkdirSync(paths.tenantDir(slug), { recursive: true });
      await openSqlite(paths.tenantDatabaseFile(slug)).close();
    }
    stores = new TenantStores({ paths, secret: 's', maxOpen: 2, postgresPoolSize: 1 });
  });
  afterEach(async () => {
    await stores.closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens lazily, migrates on first use and keeps at most maxOpen stores open', async () => {
    expect(stores.openCount).toBe(0);
    for (const slug of ['t1', 't2', 't3']) {
      const sites = await stores.use(target(slug), (store) => store.db.selectFrom('site').selectAll().execute());
      expect(sites).toEqual([]);
    }
    expect(stores.openCount).toBe(2);
  });

  it('never closes a store under an operation that is still using it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const longRunning = stores.use(target('t1'), async (store) => {
      await gate;
      return store.db.selectFrom('site').selectAll().execute();
    });
    await stores.use(target('t2'), async () => undefined);
    await stores.use(target('t3'), async () => undefined); // evicts t1 while it is in use
    release();
    await expect(longRunning).resolves.toEqual([]);
  });

  it('refuses a tenant whose database file is missing instead of creating an empty one', async () => {
    await expect(stores.use(target('ghost'), async () => undefined)).rejects.toMatchObject({ code: 'storage_unavailable' });
    expect(stores.openCount).toBe(0);
  });

  it('closes one store or all of them', async () => {
    await stores.use(target('t1'), async () => undefined);
    await stores.use(target('t2'), async () => undefined);
    await stores.close('t1');
    expect(stores.openCount).toBe(1);
    await stores.closeAll();
    expect(stores.openCount).toBe(0);
  });
  it('stamps a store with its tenant and refuses an earlier or later tenant of the same slug', async () => {
    await stores.use(target('t1'), async () => undefined);
    const later = { ...target('t1'), createdAt: '2026-06-01T00:00:00.000Z' };
    await expect(stores.use(later, async () => undefined)).rejects.toMatchObject({ code: 'tenant_gone' });
    // The store held open for the first tenant still serves it.
    await expect(stores.use(target('t1'), (store) => store.db.selectFrom('store_identity').select('tenant_created_at').execute())).resolves.toEqual([
      { tenant_created_at: '2026-01-01T00:00:00.000Z' },
    ]);
  });
});
