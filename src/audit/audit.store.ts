import { createHash } from 'node:crypto';
import { sql, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { AuditEntryTable, AuditTables } from './audit.tables.js';

export type AuditActorKind = 'tenant_user' | 'platform_user' | 'anonymous' | 'system';

export interface AuditEntryInput {
  readonly actor: string;
  readonly actorKind: AuditActorKind;
  readonly tenant: string | null;
  readonly siteId?: number | null;
  readonly ip?: string | null;
  readonly action: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

export interface AuditEntry {
  readonly id: number;
  readonly createdAt: string;
  readonly actor: string;
  readonly actorKind: string;
  readonly tenant: string | null;
  readonly siteId: number | null;
  readonly ip: string | null;
  readonly action: string;
  readonly before: unknown;
  readonly after: unknown;
  readonly hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

type Row = Selectable<AuditEntryTable>;

/** The hash covers every column but itself, in a fixed order. */
function entryHash(row: Omit<Row, 'hash'>): string {
  const canonical = JSON.stringify([
    row.prev_hash,
    Number(row.id),
    row.created_at,
    row.actor,
    row.actor_kind,
    row.tenant,
    row.site_id === null ? null : Number(row.site_id),
    row.ip,
    row.action,
    row.before_json,
    row.after_json,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

function toJson(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function present(row: Row): AuditEntry {
  return {
    id: Number(row.id),
    createdAt: row.created_at,
    actor: row.actor,
    actorKind: row.actor_kind,
    tenant: row.tenant,
    siteId: row.site_id === null ? null : Number(row.site_id),
    ip: row.ip,
    action: row.action,
    before: row.before_json === null ? null : (JSON.parse(row.before_json) as unknown),
    after: row.after_json === null ? null : (JSON.parse(row.after_json) as unknown),
    hash: row.hash,
  };
}

/**
 * Appends one entry, chained to the previous one. Runs inside the caller's
 * transaction when given one, so a change and its entry commit together. The head
 * row is updated first: on PostgreSQL its row lock serialises concurrent appends.
 */
export async function appendAuditEntry(db: Kysely<AuditTables>, input: AuditEntryInput, now = new Date()): Promise<AuditEntry> {
  const append = async (trx: Kysely<AuditTables>): Promise<AuditEntry> => {
    await trx.insertInto('audit_chain_head').values({ id: 1, last_id: 0, last_hash: GENESIS_HASH }).onConflict((oc) => oc.column('id').doNothing()).execute();
    // Take the lock before reading the head (no-op update on PostgreSQL holds the row).
    await trx.updateTable('audit_chain_head').set((eb) => ({ last_id: eb.ref('last_id') })).where('id', '=', 1).execute();
    const head = await trx.selectFrom('audit_chain_head').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
    const base = {
      created_at: now.toISOString(),
      actor: input.actor,
      actor_kind: input.actorKind,
      tenant: input.tenant,
      site_id: input.siteId ?? null,
      ip: input.ip ?? null,
      action: input.action,
      before_json: toJson(input.before),
      after_json: toJson(input.after),
      prev_hash: head.last_hash,
    };
    const inserted = await trx.insertInto('audit_entry').values({ ...base, hash: '' }).returning('id').executeTakeFirstOrThrow();
    const id = Number(inserted.id);
    const hash = entryHash({ ...base, id });
    await trx.updateTable('audit_entry').set({ hash }).where('id', '=', id).execute();
    await trx.updateTable('audit_chain_head').set({ last_id: id, last_hash: hash }).where('id', '=', 1).execute();
    return present({ ...base, id, hash });
  };
  if (db.isTransaction) return append(db);
  return db.transaction().execute((trx) => append(trx));
}

export interface AuditFilter {
  readonly user?: string | undefined;
  /** Inclusive; YYYY-MM-DD or an ISO time. */
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  /** Exact actions, or prefixes written `user.*`. */
  readonly actions?: readonly string[] | undefined;
  /** Case-insensitive substring of actor, action, before or after. */
  readonly pattern?: string | undefined;
  readonly siteId?: number | undefined;
  /** Default 100; -1 = all. */
  readonly limit?: number | undefined;
  readonly offset?: number | undefined;
}

/** `column LIKE pattern` where `%`, `_` and `!` in `text` match themselves (escaped with `!`, on both engines). */
function likeLiteral(column: string, before: string, text: string, after: string) {
  const pattern = `${before}${text.replace(/[!%_]/g, '!$&')}${after}`;
  return sql<SqlBool>`${sql.raw(column)} like ${pattern} escape '!'`;
}

function endOfDay(value: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T23:59:59.999Z` : new Date(value).toISOString();
}

function startOfDay(value: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00.000Z` : new Date(value).toISOString();
}

/** Entries matching a filter, newest first, with the total before paging. */
export async function findAuditEntries(db: Kysely<AuditTables>, filter: AuditFilter = {}): Promise<{ entries: AuditEntry[]; total: number }> {
  let query = db.selectFrom('audit_entry');
  if (filter.user) query = query.where('actor', '=', filter.user);
  if (filter.from) query = query.where('created_at', '>=', startOfDay(filter.from));
  if (filter.to) query = query.where('created_at', '<=', endOfDay(filter.to));
  if (filter.siteId !== undefined) query = query.where('site_id', '=', filter.siteId);
  if (filter.actions && filter.actions.length > 0) {
    const actions = filter.actions;
    query = query.where((eb) =>
      eb.or(actions.map((action) => (action.endsWith('*') ? likeLiteral('action', '', action.slice(0, -1), '%') : eb('action', '=', action)))),
    );
  }
  if (filter.pattern) {
    const text = filter.pattern.toLowerCase();
    query = query.where((eb) =>
      eb.or(['actor', 'action', 'before_json', 'after_json'].map((column) => likeLiteral(`lower(${column})`, '%', text, '%'))),
    );
  }
  const { total } = await query.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
  let page = query.selectAll().orderBy('id', 'desc');
  const limit = filter.limit ?? 100;
  if (limit >= 0) page = page.limit(limit).offset(filter.offset ?? 0);
  else if (filter.offset) page = page.offset(filter.offset).limit(Number.MAX_SAFE_INTEGER);
  return { entries: (await page.execute()).map(present), total: Number(total) };
}

export interface AuditVerification {
  readonly ok: boolean;
  readonly checked: number;
  readonly problem?: string;
  readonly entryId?: number;
}

/** Walks the whole chain in id order (in batches): detects changed, removed and truncated entries. */
export async function verifyAuditChain(db: Kysely<AuditTables>): Promise<AuditVerification> {
  let prevHash = GENESIS_HASH;
  let lastId = 0;
  let checked = 0;
  for (;;) {
    const batch = await db.selectFrom('audit_entry').selectAll().where('id', '>', lastId).orderBy('id').limit(1000).execute();
    for (const row of batch) {
      const id = Number(row.id);
      if (row.prev_hash !== prevHash) {
        return { ok: false, checked, entryId: id, problem: `Entry ${id} does not follow entry ${lastId}: an entry before it was deleted or changed.` };
      }
      if (entryHash(row) !== row.hash) {
        return { ok: false, checked, entryId: id, problem: `Entry ${id} was changed after it was written (its hash does not match its content).` };
      }
      prevHash = row.hash;
      lastId = id;
      checked += 1;
    }
    if (batch.length < 1000) break;
  }
  const head = await db.selectFrom('audit_chain_head').selectAll().where('id', '=', 1).executeTakeFirst();
  const headId = head ? Number(head.last_id) : 0;
  const headHash = head?.last_hash ?? GENESIS_HASH;
  if (headId !== lastId || headHash !== prevHash) {
    return { ok: false, checked, entryId: headId, problem: `The log ends at entry ${lastId}, but entry ${headId} was written last: entries at the end were deleted.` };
  }
  return { ok: true, checked };
}
