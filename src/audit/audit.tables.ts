import type { Generated } from 'kysely';

/** One audit entry; entries are chained by hash so a changed or deleted entry is detected. */
export interface AuditEntryTable {
  id: Generated<number>;
  created_at: string;
  actor: string;
  actor_kind: string;
  tenant: string | null;
  site_id: number | null;
  ip: string | null;
  action: string;
  before_json: string | null;
  after_json: string | null;
  prev_hash: string;
  hash: string;
}

/** The newest entry's id and hash: detects deletion at the end, and serialises appends (row lock). */
export interface AuditChainHeadTable {
  id: number;
  last_id: number;
  last_hash: string;
}

/** Held by the registry (the platform's log) and by every tenant store (that tenant's log). */
export interface AuditTables {
  audit_entry: AuditEntryTable;
  audit_chain_head: AuditChainHeadTable;
}
