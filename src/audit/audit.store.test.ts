import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPostgres, openSqlite, parsePostgresUrl, type OpenDatabase } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrations.js';
import { auditEntriesToCsv, auditEntriesToJson } from './audit.export.js';
import { auditMigrations } from './audit.migrations.js';
import { appendAuditEntry, findAuditEntries, GENESIS_HASH, verifyAuditChain, type AuditEntry, type AuditEntryInput } from './audit.store.js';
import type { AuditTables } from './audit.tables.js';

const serverUrl = process.env.PLURA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

function entry(overrides: Partial<AuditEntryInput> = {}): AuditEntryInput {
  return { actor: 'alice', actorKind: 'tenant_user', tenant: 'acme', action: 'user.create', ...overrides };
}

describe.each(['sqlite', 'postgres'] as const)('audit store on %s', (engine) => {
  const dir = mkdtempSync(join(tmpdir(), 'plura-audit-'));
  const schema = `plura_audit_${randomBytes(4).toString('hex')}`;
  let open: OpenDatabase<AuditTables>;

  beforeAll(async () => {
    if (engine === 'postgres') {
      await admin(`create schema ${schema}`);
      open = openPostgres<AuditTables>({ ...parsePostgresUrl(serverUrl), searchPath: schema, poolSize: 4 });
      await migrateToLatest(open.db, open.dialect, auditMigrations, { label: 'test', schema });
    } else {
      open = openSqlite<AuditTables>(join(dir, 'audit.sqlite'));
      await migrateToLatest(open.db, open.dialect, auditMigrations, { label: 'test' });
    }
  });

  afterAll(async () => {
    await open?.close();
    if (engine === 'postgres') await admin(`drop schema if exists ${schema} cascade`);
    rmSync(dir, { recursive: true, force: true });
  });

  // Every test starts from an empty log (ids keep counting up, which the chain does not mind).
  beforeEach(async () => {
    await open.db.deleteFrom('audit_entry').execute();
    await open.db.deleteFrom('audit_chain_head').execute();
  });

  /** Five entries over three days, oldest first. */
  async function seed(): Promise<AuditEntry[]> {
    const written: AuditEntry[] = [];
    written.push(await appendAuditEntry(open.db, entry({ action: 'user.create', after: { login: 'bob' } }), new Date('2024-03-01T08:00:00Z')));
    written.push(await appendAuditEntry(open.db, entry({ actor: 'bob', action: 'user.delete', before: { login: 'carol' } }), new Date('2024-03-01T20:00:00Z')));
    written.push(await appendAuditEntry(open.db, entry({ action: 'site.create', siteId: 3, after: { name: 'Shop' } }), new Date('2024-03-02T12:00:00Z')));
    written.push(await appendAuditEntry(open.db, entry({ actor: 'bob', action: 'access.role_changed', siteId: 3, ip: '10.0.0.1', before: { role: 'view' }, after: { role: 'admin' } }), new Date('2024-03-03T00:00:00Z')));
    written.push(await appendAuditEntry(open.db, entry({ actor: 'root', actorKind: 'platform_user', tenant: null, action: 'site.delete', siteId: 4 }), new Date('2024-03-03T23:59:59Z')));
    return written;
  }

  const ids = (result: { entries: AuditEntry[] }): number[] => result.entries.map((e) => e.id);

  it('appends chained entries and reads them back newest first with the total', async () => {
    const written = await seed();
    expect(written[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(written[1]?.id).toBeGreaterThan(written[0]?.id ?? Infinity);
    const all = await findAuditEntries(open.db);
    expect(all.total).toBe(5);
    expect(ids(all)).toEqual(written.map((e) => e.id).reverse());
    expect(all.entries[1]).toEqual(written[3]);
    expect(all.entries[1]).toMatchObject({
      actor: 'bob',
      actorKind: 'tenant_user',
      tenant: 'acme',
      siteId: 3,
      ip: '10.0.0.1',
      action: 'access.role_changed',
      before: { role: 'view' },
      after: { role: 'admin' },
      createdAt: '2024-03-03T00:00:00.000Z',
    });
    expect(all.entries[0]).toMatchObject({ tenant: null, ip: null, before: null, after: null, actorKind: 'platform_user' });
  });

  it('filters by user', async () => {
    const written = await seed();
    const result = await findAuditEntries(open.db, { user: 'bob' });
    expect(result.total).toBe(2);
    expect(ids(result)).toEqual([written[3]?.id, written[1]?.id]);
    expect((await findAuditEntries(open.db, { user: 'nobody' })).total).toBe(0);
  });

  it('filters by from/to days, both inclusive', async () => {
    const written = await seed();
    expect(ids(await findAuditEntries(open.db, { from: '2024-03-02' }))).toEqual([written[4]?.id, written[3]?.id, written[2]?.id]);
    expect(ids(await findAuditEntries(open.db, { to: '2024-03-01' }))).toEqual([written[1]?.id, written[0]?.id]);
    const day3 = await findAuditEntries(open.db, { from: '2024-03-03', to: '2024-03-03' });
    expect(ids(day3)).toEqual([written[4]?.id, written[3]?.id]);
    expect(day3.total).toBe(2);
    // An ISO time is used as given.
    expect(ids(await findAuditEntries(open.db, { from: '2024-03-01T12:00:00Z', to: '2024-03-02T12:00:00Z' }))).toEqual([written[2]?.id, written[1]?.id]);
  });

  it('filters by exact actions and by prefix.*', async () => {
    const written = await seed();
    expect(ids(await findAuditEntries(open.db, { actions: ['user.delete'] }))).toEqual([written[1]?.id]);
    expect(ids(await findAuditEntries(open.db, { actions: ['user.delete', 'site.create'] }))).toEqual([written[2]?.id, written[1]?.id]);
    expect(ids(await findAuditEntries(open.db, { actions: ['site.*'] }))).toEqual([written[4]?.id, written[2]?.id]);
    expect(ids(await findAuditEntries(open.db, { actions: ['user.*', 'access.*'] }))).toEqual([written[3]?.id, written[1]?.id, written[0]?.id]);
    // `_` and `%` in a prefix are literal, not LIKE wildcards.
    expect(ids(await findAuditEntries(open.db, { actions: ['access.role_c*'] }))).toEqual([written[3]?.id]);
    expect((await findAuditEntries(open.db, { actions: ['access.role%*'] })).total).toBe(0);
    // Exact means exact: a prefix without * matches nothing.
    expect((await findAuditEntries(open.db, { actions: ['user'] })).total).toBe(0);
    // An empty list is no filter.
    expect((await findAuditEntries(open.db, { actions: [] })).total).toBe(5);
  });

  it('filters by a case-insensitive pattern over actor, action, before and after', async () => {
    const written = await seed();
    expect(ids(await findAuditEntries(open.db, { pattern: 'ROOT' }))).toEqual([written[4]?.id]);
    expect(ids(await findAuditEntries(open.db, { pattern: 'Delete' }))).toEqual([written[4]?.id, written[1]?.id]);
    expect(ids(await findAuditEntries(open.db, { pattern: 'carol' }))).toEqual([written[1]?.id]);
    expect(ids(await findAuditEntries(open.db, { pattern: 'shop' }))).toEqual([written[2]?.id]);
    expect(ids(await findAuditEntries(open.db, { pattern: 'role_changed' }))).toEqual([written[3]?.id]);
    expect((await findAuditEntries(open.db, { pattern: 'zzz' })).total).toBe(0);
    // LIKE wildcards in the pattern are literal.
    expect((await findAuditEntries(open.db, { pattern: 'user_create' })).total).toBe(0);
    expect((await findAuditEntries(open.db, { pattern: 'user%' })).total).toBe(0);
  });

  it('filters by siteId and combines filters', async () => {
    const written = await seed();
    expect(ids(await findAuditEntries(open.db, { siteId: 3 }))).toEqual([written[3]?.id, written[2]?.id]);
    expect(ids(await findAuditEntries(open.db, { siteId: 3, user: 'bob' }))).toEqual([written[3]?.id]);
    expect((await findAuditEntries(open.db, { siteId: 99 })).total).toBe(0);
  });

  it('pages with limit/offset, reporting the total before paging; limit -1 is all', async () => {
    const written = await seed();
    const newestFirst = written.map((e) => e.id).reverse();
    const page = await findAuditEntries(open.db, { limit: 2, offset: 1 });
    expect(page.total).toBe(5);
    expect(ids(page)).toEqual(newestFirst.slice(1, 3));
    expect(ids(await findAuditEntries(open.db, { limit: 2 }))).toEqual(newestFirst.slice(0, 2));
    expect(ids(await findAuditEntries(open.db, { limit: 2, offset: 4 }))).toEqual(newestFirst.slice(4));
    expect(ids(await findAuditEntries(open.db, { limit: -1 }))).toEqual(newestFirst);
    expect(ids(await findAuditEntries(open.db, { limit: -1, offset: 3 }))).toEqual(newestFirst.slice(3));
    const none = await findAuditEntries(open.db, { limit: 0 });
    expect(none.entries).toEqual([]);
    expect(none.total).toBe(5);
  });

  it('verifies an empty and an intact chain', async () => {
    expect(await verifyAuditChain(open.db)).toEqual({ ok: true, checked: 0 });
    await seed();
    expect(await verifyAuditChain(open.db)).toEqual({ ok: true, checked: 5 });
  });

  it('detects an entry whose action was changed, naming its id', async () => {
    const written = await seed();
    const target = written[2]?.id ?? 0;
    await open.db.updateTable('audit_entry').set({ action: 'site.view' }).where('id', '=', target).execute();
    const result = await verifyAuditChain(open.db);
    expect(result.ok).toBe(false);
    expect(result.entryId).toBe(target);
    expect(result.checked).toBe(2);
    expect(result.problem).toContain(`Entry ${target}`);
  });

  it('detects a deleted entry in the middle', async () => {
    const written = await seed();
    await open.db.deleteFrom('audit_entry').where('id', '=', written[2]?.id ?? 0).execute();
    const result = await verifyAuditChain(open.db);
    expect(result.ok).toBe(false);
    expect(result.entryId).toBe(written[3]?.id);
    expect(result.problem).toContain('deleted');
  });

  it('detects the newest entry deleted (the head no longer matches)', async () => {
    const written = await seed();
    const newest = written[4]?.id ?? 0;
    await open.db.deleteFrom('audit_entry').where('id', '=', newest).execute();
    const result = await verifyAuditChain(open.db);
    expect(result.ok).toBe(false);
    expect(result.checked).toBe(4);
    expect(result.entryId).toBe(newest);
    expect(result.problem).toContain(`entry ${newest} was written last`);
  });

  it('leaves no entry and a valid chain when the caller\'s transaction rolls back', async () => {
    const written = await seed();
    await expect(
      open.db.transaction().execute(async (trx) => {
        const inside = await appendAuditEntry(trx, entry({ action: 'user.update' }));
        expect(inside.id).toBeGreaterThan(written[4]?.id ?? Infinity);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await findAuditEntries(open.db, { actions: ['user.update'] })).total).toBe(0);
    expect(await verifyAuditChain(open.db)).toEqual({ ok: true, checked: 5 });
    // The next append chains to the last committed entry.
    const next = await appendAuditEntry(open.db, entry({ action: 'user.update' }));
    expect(await verifyAuditChain(open.db)).toEqual({ ok: true, checked: 6 });
    const rows = await open.db.selectFrom('audit_entry').select(['id', 'prev_hash']).where('id', '=', next.id).executeTakeFirstOrThrow();
    expect(rows.prev_hash).toBe(written[4]?.hash);
  });

  it('commits an entry appended inside a caller\'s transaction that commits', async () => {
    await open.db.transaction().execute(async (trx) => {
      await appendAuditEntry(trx, entry({ action: 'user.create' }));
      await appendAuditEntry(trx, entry({ action: 'user.delete' }));
    });
    expect(await verifyAuditChain(open.db)).toEqual({ ok: true, checked: 2 });
    const first = await open.db.selectFrom('audit_entry').select('prev_hash').orderBy('id').executeTakeFirstOrThrow();
    expect(first.prev_hash).toBe(GENESIS_HASH);
  });

  it.runIf(engine === 'postgres')('keeps the chain valid under 20 concurrent appends', async () => {
    const appended = await Promise.all(Array.from({ length: 20 }, (_, i) => appendAuditEntry(open.db, entry({ actor: `user${i}`, action: 'user.login' }))));
    expect(new Set(appended.map((e) => e.id)).size).toBe(20);
    expect(await verifyAuditChain(open.db)).toEqual({ ok: true, checked: 20 });
    expect((await findAuditEntries(open.db, { limit: -1 })).total).toBe(20);
  });

  it('exports entries as CSV with a header and one line per entry', async () => {
    await seed();
    const { entries } = await findAuditEntries(open.db, { limit: -1 });
    const csv = auditEntriesToCsv(entries);
    const lines = csv.split('\n').filter((line) => line !== '');
    expect(lines[0]).toBe('id,created_at,actor,actor_kind,tenant,site_id,ip,action,before,after,hash');
    expect(lines).toHaveLength(6);
    expect(lines[1]).toMatch(new RegExp(`^${entries[0]?.id},2024-03-03T23:59:59.000Z,root,platform_user,,4,,site.delete,,,[0-9a-f]{64}$`));
    // JSON values are quoted CSV cells.
    expect(csv).toContain('"{""role"":""view""}"');
    expect(auditEntriesToCsv([]).split('\n').filter((line) => line !== '')).toEqual(['id,created_at,actor,actor_kind,tenant,site_id,ip,action,before,after,hash']);
  });

  it('exports entries as JSON', async () => {
    await seed();
    const { entries } = await findAuditEntries(open.db, { limit: -1 });
    const json = auditEntriesToJson(entries);
    expect(json.endsWith('\n')).toBe(true);
    const parsed = JSON.parse(json) as AuditEntry[];
    expect(parsed).toHaveLength(5);
    expect(parsed).toEqual(entries);
    expect(Object.keys(parsed[0] ?? {})).toEqual(['id', 'createdAt', 'actor', 'actorKind', 'tenant', 'siteId', 'ip', 'action', 'before', 'after', 'hash']);
  });
});
