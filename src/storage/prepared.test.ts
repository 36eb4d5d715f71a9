import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, openSqlite, parsePostgresUrl, type OpenDatabase } from './database.js';
import { PreparedInsertMany, PreparedQuery } from './prepared.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from './test-support/postgres-database.js';

interface Db {
  item: { id: number; name: string; size: number | null; kind: string };
}

const insertItems = new PreparedInsertMany<Db, Db['item']>(['id', 'name', 'size', 'kind'], (db, rows) => db.insertInto('item').values(rows));
// Placeholders in another order than their arguments, next to constants of the query.
const findItems = new PreparedQuery<Db, { kind: string; minSize: number; name: string }, { id: number; name: string }>(['kind', 'minSize', 'name'], (db, p) =>
  db
    .selectFrom('item')
    .select(['id', 'name'])
    .where((eb) => eb.or([eb('name', '=', p.name), eb.and([eb('size', '>=', p.minSize), eb('kind', '=', p.kind), eb('name', '!=', 'ignored')])]))
    .orderBy('id'),
);
const growItem = new PreparedQuery<Db, { id: number; by: number }, never>(['id', 'by'], (db, p) => db.updateTable('item').set((eb) => ({ size: eb('size', '+', p.by) })).where('id', '=', p.id));

async function exercise(db: Kysely<Db>): Promise<void> {
  await db.schema.createTable('item').addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('name', 'text', (c) => c.notNull()).addColumn('size', 'integer').addColumn('kind', 'text', (c) => c.notNull()).execute();
  const rows = Array.from({ length: 300 }, (_, i) => ({ id: i + 1, name: i === 7 ? 'ignored' : `item-${i + 1}`, size: i % 10 === 0 ? null : i, kind: i % 2 === 0 ? 'even' : 'odd' }));
  // Chunks of 128, 64, 32, 8, 4, 1... and an empty call.
  await insertItems.execute(db, rows.slice(0, 0));
  await insertItems.execute(db, rows.slice(0, 1));
  await insertItems.execute(db, rows.slice(1, 300));
  expect(Number((await db.selectFrom('item').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)).toBe(300);
  expect(await db.selectFrom('item').selectAll().orderBy('id').execute()).toEqual(rows);

  const direct = await db
    .selectFrom('item')
    .select(['id', 'name'])
    .where((eb) => eb.or([eb('name', '=', 'item-3'), eb.and([eb('size', '>=', 295), eb('kind', '=', 'odd'), eb('name', '!=', 'ignored')])]))
    .orderBy('id')
    .execute();
  expect(await findItems.rows(db, { kind: 'odd', minSize: 295, name: 'item-3' })).toEqual(direct);
  expect((await findItems.rows(db, { kind: 'even', minSize: 1000, name: 'item-8' })).map((r) => r.id)).toEqual([]);
  expect(await findItems.first(db, { kind: 'even', minSize: 0, name: 'nothing' })).toEqual({ id: 3, name: 'item-3' });

  await db.transaction().execute(async (trx) => {
    await growItem.execute(trx, { id: 2, by: 10 });
  });
  expect((await db.selectFrom('item').select('size').where('id', '=', 2).executeTakeFirstOrThrow()).size).toBe(11);
}

describe('prepared queries', () => {
  let dir: string;
  let pg: TestPostgresDatabase;
  const opened: OpenDatabase<Db>[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'plura-prepared-'));
    pg = await createTestPostgresDatabase('prepared');
  });

  afterAll(async () => {
    for (const database of opened) await database.close();
    await pg.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bind each value to its slot, on SQLite', async () => {
    const database = openSqlite<Db>(join(dir, 'prepared.db'));
    opened.push(database);
    await exercise(database.db);
  });

  it('bind each value to its slot, on PostgreSQL (same compiled forms reused per dialect)', async () => {
    const database = openPostgres<Db>(parsePostgresUrl(pg.url));
    opened.push(database);
    await exercise(database.db);
  });
  it('insert through the direct SQLite runner inside the caller\'s transaction (rolled back with it)', async () => {
    const database = openSqlite<Db>(join(dir, 'direct.db'));
    opened.push(database);
    const { db, direct } = database;
    expect(direct).toBeDefined();
    await db.schema.createTable('item').addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('name', 'text', (c) => c.notNull()).addColumn('size', 'integer').addColumn('kind', 'text', (c) => c.notNull()).execute();
    const rows = Array.from({ length: 5 }, (_, i) => ({ id: i + 1, name: `item-${i + 1}`, size: i === 2 ? null : i, kind: 'k' }));
    await db.transaction().execute(async (trx) => insertItems.execute(trx, rows, direct));
    expect(await db.selectFrom('item').selectAll().orderBy('id').execute()).toEqual(rows);
    await expect(
      db.transaction().execute(async (trx) => {
        await insertItems.execute(trx, [{ id: 10, name: 'gone', size: 1, kind: 'k' }], direct);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await db.selectFrom('item').select('id').where('id', '=', 10).execute()).toEqual([]);

    // Rows as arrays, from a query Kysely compiled; the shared statement still gives objects to Kysely afterwards.
    const query = db.selectFrom('item').select(['id', 'name']).where('id', '<=', 2).orderBy('id');
    expect(direct?.rows(query.compile())).toEqual([[1, 'item-1'], [2, 'item-2']]);
    expect(await query.execute()).toEqual([{ id: 1, name: 'item-1' }, { id: 2, name: 'item-2' }]);
  });
});
