import { stringify } from 'csv-stringify/sync';
import type { AuditEntry } from './audit.store.js';

const columns = ['id', 'created_at', 'actor', 'actor_kind', 'tenant', 'site_id', 'ip', 'action', 'before', 'after', 'hash'];

export function auditEntriesToCsv(entries: readonly AuditEntry[]): string {
  return stringify(
    entries.map((entry) => [
      entry.id,
      entry.createdAt,
      entry.actor,
      entry.actorKind,
      entry.tenant ?? '',
      entry.siteId ?? '',
      entry.ip ?? '',
      entry.action,
      entry.before === null ? '' : JSON.stringify(entry.before),
      entry.after === null ? '' : JSON.stringify(entry.after),
      entry.hash,
    ]),
    { header: true, columns },
  );
}

export function auditEntriesToJson(entries: readonly AuditEntry[]): string {
  return `${JSON.stringify(entries, null, 2)}\n`;
}
