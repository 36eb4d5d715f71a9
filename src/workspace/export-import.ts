import { lstat, mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Selectable, Transaction } from 'kysely';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { PluraError, describeError, isPluraError } from '../core/errors.js';
import { appendAuditEntry } from '../audit/audit.store.js';
import { auditDbOf } from '../audit/audit.service.js';
import type { IdentityDb } from '../access/identity.store.js';
import type { Platform } from '../platform/platform.js';
import type { RegistryDatabase } from '../tenancy/registry.tables.js';
import { validateDefinition, type DashboardDefinition, type ItemKind } from './workspace.service.js';
import { INTERNAL_ROOT, SHARED_ROOT, TENANT_ROOT } from './workspace.migrations.js';
import type { UserGroupTable } from './workspace.tables.js';

/**
 * Shared collections as plain files, for version control. One `_collection.<ext>` per
 * collection (id, name, description, permissions by group name) in a folder named after
 * it, and one `<name>.<kind>.<ext>` per dashboard and saved report. Ids are in the files,
 * so an import is idempotent: it creates, updates or moves what differs, and a second
 * import changes nothing. Nothing is deleted by an import.
 */

export type ExportFormat = 'yaml' | 'json';
export const MAX_IMPORT_FILE_BYTES = 256 * 1024;
export const MAX_IMPORT_FILES = 5000;
const MAX_IMPORT_DEPTH = 32;

const FileId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' });
const GroupLevel = Type.Union([Type.Literal('view'), Type.Literal('curate')]);
const CollectionFile = Type.Object(
  {
    id: FileId,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    archived: Type.Optional(Type.Boolean()),
    permissions: Type.Optional(
      Type.Array(
        Type.Object({ group: Type.String({ minLength: 1, maxLength: 100 }), kind: Type.Optional(Type.Union([Type.Literal('tenant'), Type.Literal('internal')])), level: GroupLevel }, { additionalProperties: false }),
        { maxItems: 200 },
      ),
    ),
  },
  { additionalProperties: false },
);
type CollectionFile = Static<typeof CollectionFile>;
const ItemFile = Type.Object(
  {
    id: FileId,
    kind: Type.Union([Type.Literal('dashboard'), Type.Literal('saved_report')]),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    archived: Type.Optional(Type.Boolean()),
    definition: Type.Unknown(),
  },
  { additionalProperties: false },
);
type ItemFile = Static<typeof ItemFile>;

const COLLECTION_FILE = /^_collection\.(ya?ml|json)$/;
const ITEM_FILE = /^(.+)\.(dashboard|saved_report)\.(ya?ml|json)$/;
const DATA_FILE = /\.(ya?ml|json)$/;

/** Folder and file names: lower-case words joined by dashes. */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return slug === '' ? 'untitled' : slug;
}

/** Key order does not make a definition different. */
function canonical(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
    return v;
  };
  return JSON.stringify(sort(value));
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

const visible = (name: string): boolean => !name.startsWith('.');

// ---------------------------------------------------------------------------
// Export.

export interface ExportSummary {
  readonly collections: number;
  readonly items: number;
  readonly files: readonly string[];
}

/** Removes the files of an earlier export (and folders it left empty); anything else in the folder stays. */
async function clearEarlierExport(dir: string, isRoot = true): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!visible(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await clearEarlierExport(path, false);
    else if (entry.isFile() && (COLLECTION_FILE.test(entry.name) || ITEM_FILE.test(entry.name))) await rm(path);
  }
  if (!isRoot && (await readdir(dir)).length === 0) await rmdir(dir);
}

async function prepareExportDir(dir: string): Promise<void> {
  if (!(await exists(dir))) return void (await mkdir(dir, { recursive: true }));
  const entries = (await readdir(dir)).filter(visible);
  if (entries.length === 0) return;
  if (!entries.some((name) => COLLECTION_FILE.test(name))) {
    throw new PluraError('invalid_input', `${dir} is not empty and holds no earlier export (no _collection file); choose an empty folder.`);
  }
  await clearEarlierExport(dir);
}

function serialize(document: Record<string, unknown>, format: ExportFormat): string {
  return format === 'json' ? `${JSON.stringify(document, null, 2)}\n` : stringifyYaml(document, { lineWidth: 0 });
}

/** Names unique among siblings: the slug, or the slug and the start of the id when two would clash. */
function uniqueNames<T extends { id: string }>(rows: readonly T[], base: (row: T) => string, kind: (row: T) => string = () => ''): Map<string, string> {
  const key = (row: T): string => `${base(row)}${kind(row)}`;
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(key(row), (counts.get(key(row)) ?? 0) + 1);
  return new Map(rows.map((row) => [row.id, (counts.get(key(row)) ?? 0) > 1 ? `${base(row)}-${slugify(row.id).slice(0, 8)}${kind(row)}` : key(row)]));
}

export async function exportShared(platform: Platform, dir: string, format: ExportFormat): Promise<ExportSummary> {
  const db = platform.registry.db;
  const collections = await db.selectFrom('collection').selectAll().where('kind', '=', 'shared').orderBy('name').orderBy('id').execute();
  const ids = collections.map((row) => row.id);
  const items = ids.length === 0 ? [] : await db.selectFrom('workspace_item').selectAll().where('collection_id', 'in', ids).orderBy('name').orderBy('id').execute();
  const permissions =
    ids.length === 0
      ? []
      : await db
          .selectFrom('collection_permission')
          .innerJoin('user_group', 'user_group.id', 'collection_permission.group_id')
          .select(['collection_permission.collection_id', 'user_group.name', 'user_group.kind', 'collection_permission.level'])
          .where('collection_permission.collection_id', 'in', ids)
          .orderBy('user_group.kind')
          .orderBy('user_group.name')
          .execute();
  const root = collections.find((row) => row.id === SHARED_ROOT);
  if (!root) throw new PluraError('not_found', 'The shared root collection is missing from the registry.');
  await prepareExportDir(dir);
  const ext = format === 'json' ? 'json' : 'yaml';
  const files: string[] = [];
  const write = async (relative: string, document: Record<string, unknown>): Promise<void> => {
    await writeFile(join(dir, relative), serialize(document, format));
    files.push(relative);
  };
  let written = 0;
  const visit = async (row: (typeof collections)[number], relative: string, depth: number): Promise<void> => {
    if (depth > MAX_IMPORT_DEPTH) throw new PluraError('invalid_input', `Shared collections are nested deeper than ${MAX_IMPORT_DEPTH} levels; an export could not be imported again.`);
    written += 1;
    if (relative !== '') await mkdir(join(dir, relative), { recursive: true });
    await write(join(relative, `_collection.${ext}`), {
      id: row.id,
      name: row.name,
      description: row.description,
      ...(row.archived_at !== null ? { archived: true } : {}),
      permissions: permissions.filter((p) => p.collection_id === row.id).map((p) => ({ group: p.name, kind: p.kind, level: p.level })),
    });
    const own = items.filter((item) => item.collection_id === row.id);
    const itemNames = uniqueNames(own, (item) => slugify(item.name), (item) => `.${item.kind}`);
    for (const item of own) {
      await write(join(relative, `${itemNames.get(item.id) ?? item.id}.${ext}`), {
        id: item.id,
        kind: item.kind,
        name: item.name,
        description: item.description,
        ...(item.archived_at !== null ? { archived: true } : {}),
        definition: JSON.parse(item.definition) as unknown,
      });
    }
    const children = collections.filter((child) => child.parent_id === row.id);
    const childNames = uniqueNames(children, (child) => slugify(child.name));
    for (const child of children) await visit(child, join(relative, childNames.get(child.id) ?? child.id), depth + 1);
  };
  await visit(root, '', 0);
  return { collections: written, items: files.length - written, files };
}

// ---------------------------------------------------------------------------
// Import: read and check every file first, then write everything in one registry transaction.

interface ParsedCollection {
  readonly file: string;
  readonly doc: CollectionFile;
  readonly parentId: string | null;
}
interface ParsedItem {
  readonly file: string;
  readonly doc: ItemFile;
  readonly collectionId: string;
  readonly definition: string;
}

export type ImportStatus = 'created' | 'updated' | 'moved' | 'unchanged';
export interface ImportChange {
  readonly status: ImportStatus;
  readonly kind: 'collection' | ItemKind;
  readonly id: string;
  readonly file: string;
  /** What differed: fields, and for moves the former parent. */
  readonly changes: readonly string[];
}
export interface ImportReport {
  readonly dryRun: boolean;
  readonly changes: readonly ImportChange[];
  readonly counts: Readonly<Record<ImportStatus, number>>;
}

/** Collects every problem so one run names them all. */
class Problems {
  readonly list: string[] = [];
  add(file: string, message: string): void {
    this.list.push(`${file === '' ? '(folder)' : file}: ${message}`);
  }
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const shown = this.list.slice(0, 50);
    const more = this.list.length > shown.length ? `\n  ... and ${this.list.length - shown.length} more` : '';
    throw new PluraError('invalid_input', `The import was refused; nothing was written:\n  - ${shown.join('\n  - ')}${more}`);
  }
}

function parseDocument(text: string, file: string): unknown {
  if (file.endsWith('.json')) return JSON.parse(text) as unknown;
  // The default alias limit refuses "billion laughs" documents.
  return parseYaml(text, { uniqueKeys: true }) as unknown;
}

function firstError(schema: typeof CollectionFile | typeof ItemFile, value: unknown): string {
  const error = Value.Errors(schema, value).First();
  return error ? `${error.path || '/'}: ${error.message}` : 'not valid';
}

/** Reads the folder tree; the folders give the nesting, the files the ids. */
async function readExport(dir: string, problems: Problems): Promise<{ collections: ParsedCollection[]; items: ParsedItem[] }> {
  if (!(await exists(dir))) throw new PluraError('invalid_input', `There is no folder ${dir}.`);
  const collections: ParsedCollection[] = [];
  const items: ParsedItem[] = [];
  let files = 0;
  const read = async (relative: string, parentId: string | null, depth: number): Promise<void> => {
    if (depth > MAX_IMPORT_DEPTH) return problems.add(relative, `folders are nested deeper than ${MAX_IMPORT_DEPTH} levels`);
    const entries = (await readdir(join(dir, relative), { withFileTypes: true })).filter((entry) => visible(entry.name)).sort((a, b) => a.name.localeCompare(b.name));
    const load = async (name: string): Promise<unknown> => {
      const file = join(relative, name);
      files += 1;
      if (files > MAX_IMPORT_FILES) throw new PluraError('invalid_input', `The folder holds more than ${MAX_IMPORT_FILES} files; import smaller parts.`);
      const info = await lstat(join(dir, file));
      if (info.size > MAX_IMPORT_FILE_BYTES) return problems.add(file, `the file is larger than ${MAX_IMPORT_FILE_BYTES / 1024} KB`);
      try {
        return parseDocument(await readFile(join(dir, file), 'utf8'), file);
      } catch (error) {
        return problems.add(file, `cannot be read: ${describeError(error).split('\n')[0] ?? ''}`);
      }
    };
    const collectionEntry = entries.find((entry) => entry.isFile() && COLLECTION_FILE.test(entry.name));
    const relevant = entries.some((entry) => entry.isDirectory() || (entry.isFile() && DATA_FILE.test(entry.name)));
    if (!collectionEntry) {
      if (relevant) problems.add(relative, 'every folder of an export needs a _collection.yaml (or .json) with the collection\'s id and name');
      return;
    }
    const file = join(relative, collectionEntry.name);
    const doc = await load(collectionEntry.name);
    if (doc === undefined) return;
    if (!Value.Check(CollectionFile, doc)) return problems.add(file, `not a collection file (${firstError(CollectionFile, doc)})`);
    collections.push({ file, doc, parentId });
    for (const entry of entries) {
      const path = join(relative, entry.name);
      if (entry.isSymbolicLink()) problems.add(path, 'symbolic links are not followed');
      else if (entry.isDirectory()) await read(path, doc.id, depth + 1);
      else if (!entry.isFile() || entry === collectionEntry) continue;
      else if (COLLECTION_FILE.test(entry.name)) problems.add(path, 'a folder has one _collection file');
      else if (ITEM_FILE.test(entry.name)) {
        const item = await load(entry.name);
        if (item === undefined) continue;
        if (!Value.Check(ItemFile, item)) {
          problems.add(path, `not a dashboard or saved report file (${firstError(ItemFile, item)})`);
          continue;
        }
        const named = ITEM_FILE.exec(entry.name)?.[2];
        if (named !== item.kind) problems.add(path, `the file name says ${named ?? '?'} but the file holds a ${item.kind}`);
        try {
          const definition = JSON.stringify(validateDefinition(item.kind, item.definition));
          items.push({ file: path, doc: item, collectionId: doc.id, definition });
        } catch (error) {
          problems.add(path, isPluraError(error) ? error.message : describeError(error));
        }
      } else if (DATA_FILE.test(entry.name)) problems.add(path, 'not an export file (expected _collection.<ext> or <name>.dashboard|saved_report.<ext>)');
    }
  };
  await read('', null, 0);
  return { collections, items };
}

type RegistryTrx = Transaction<RegistryDatabase>;
type GroupRow = Selectable<UserGroupTable>;

/** Group grants of a collection file, resolved by name (and kind when two groups share a name). */
function resolvePermissions(parsed: ParsedCollection, groups: readonly GroupRow[], problems: Problems): { groupId: number; level: 'view' | 'curate' }[] {
  const resolved: { groupId: number; level: 'view' | 'curate' }[] = [];
  for (const permission of parsed.doc.permissions ?? []) {
    const matches = groups.filter((g) => g.name === permission.group && (permission.kind === undefined || g.kind === permission.kind));
    if (matches.length === 0) {
      problems.add(parsed.file, `there is no ${permission.kind ?? ''}${permission.kind ? ' ' : ''}group named "${permission.group}"`);
      continue;
    }
    if (matches.length > 1) {
      problems.add(parsed.file, `two groups are named "${permission.group}"; add kind: tenant or kind: internal`);
      continue;
    }
    const group = matches[0] as GroupRow;
    if (group.kind === 'tenant' && permission.level === 'curate') problems.add(parsed.file, `tenant group "${group.name}" may at most view shared collections`);
    if (resolved.some((r) => r.groupId === group.id)) problems.add(parsed.file, `group "${group.name}" is listed twice`);
    resolved.push({ groupId: group.id, level: permission.level });
  }
  return resolved;
}

const article = (word: string): string => `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;
const reservedId = (id: string): boolean => id === INTERNAL_ROOT || id === TENANT_ROOT || id.startsWith('personal-');

class DryRun extends Error {
  constructor(readonly report: ImportReport) {
    super('dry run');
  }
}

export async function importShared(platform: Platform, dir: string, options: { dryRun?: boolean } = {}): Promise<ImportReport> {
  const problems = new Problems();
  const { collections, items } = await readExport(dir, problems);
  const rootFile = collections.find((c) => c.parentId === null);
  if (!rootFile) problems.add('', 'the folder has no _collection file for the shared root (id: shared)');
  else if (rootFile.doc.id !== SHARED_ROOT) problems.add(rootFile.file, `the top folder is the shared root: its id must be "${SHARED_ROOT}"`);
  const seen = new Map<string, string>();
  for (const c of collections) {
    if (c.parentId !== null && c.doc.id === SHARED_ROOT) problems.add(c.file, 'the shared root cannot be nested under another collection');
    if (reservedId(c.doc.id)) problems.add(c.file, `the id "${c.doc.id}" is reserved`);
    const other = seen.get(`c:${c.doc.id}`);
    if (other !== undefined) problems.add(c.file, `the collection id "${c.doc.id}" is also used by ${other}; a collection cannot be in two places (or under itself)`);
    seen.set(`c:${c.doc.id}`, c.file);
  }
  for (const item of items) {
    if (reservedId(item.doc.id)) problems.add(item.file, `the id "${item.doc.id}" is reserved`);
    const other = seen.get(`i:${item.doc.id}`);
    if (other !== undefined) problems.add(item.file, `the id "${item.doc.id}" is also used by ${other}`);
    seen.set(`i:${item.doc.id}`, item.file);
  }
  const groups = await platform.registry.db.selectFrom('user_group').selectAll().execute();
  const grants = new Map(collections.map((c) => [c.doc.id, resolvePermissions(c, groups, problems)]));
  problems.throwIfAny();

  try {
    return await platform.registry.db.transaction().execute(async (trx) => {
      const report = await applyImport(trx, collections, items, grants, problems);
      problems.throwIfAny();
      const changed = report.changes.filter((c) => c.status !== 'unchanged');
      if (changed.length > 0) {
        await appendAuditEntry(auditDbOf(trx as unknown as IdentityDb), {
          actor: 'cli',
          actorKind: 'system',
          tenant: null,
          action: 'collections.imported',
          after: { ...report.counts, changes: changed.slice(0, 200).map((c) => ({ status: c.status, kind: c.kind, id: c.id, changes: c.changes })) },
        });
      }
      // A dry run does all the work, then rolls it back.
      if (options.dryRun) throw new DryRun({ ...report, dryRun: true });
      return report;
    });
  } catch (error) {
    if (error instanceof DryRun) return error.report;
    throw error;
  }
}

async function applyImport(trx: RegistryTrx, collections: readonly ParsedCollection[], items: readonly ParsedItem[], grants: ReadonlyMap<string, readonly { groupId: number; level: string }[]>, problems: Problems): Promise<ImportReport> {
  const changes: ImportChange[] = [];
  const now = new Date().toISOString();
  const collectionIds = collections.map((c) => c.doc.id);
  const existing = new Map((await trx.selectFrom('collection').selectAll().where('id', 'in', collectionIds).execute()).map((row) => [row.id, row]));
  for (const c of collections) {
    const row = existing.get(c.doc.id);
    if (row && row.kind !== 'shared') problems.add(c.file, `the id "${c.doc.id}" belongs to ${article(row.kind)} collection, not a shared one`);
  }
  const itemRows = items.length === 0 ? [] : await trx.selectFrom('workspace_item').innerJoin('collection', 'collection.id', 'workspace_item.collection_id').select(['workspace_item.id', 'workspace_item.kind', 'workspace_item.collection_id', 'workspace_item.name', 'workspace_item.description', 'workspace_item.definition', 'workspace_item.archived_at', 'collection.kind as collection_kind']).where('workspace_item.id', 'in', items.map((i) => i.doc.id)).execute();
  const existingItems = new Map(itemRows.map((row) => [row.id, row]));
  for (const item of items) {
    const row = existingItems.get(item.doc.id);
    if (row && row.collection_kind !== 'shared') problems.add(item.file, `the id "${item.doc.id}" belongs to an item of ${article(row.collection_kind)} collection, not a shared one`);
    if (row && row.kind !== item.doc.kind) problems.add(item.file, `"${item.doc.id}" is a ${row.kind}; it cannot become a ${item.doc.kind}`);
  }
  // Widgets may name saved reports of the files, or shared ones already stored.
  const fileReports = new Set(items.filter((i) => i.doc.kind === 'saved_report').map((i) => i.doc.id));
  for (const item of items) {
    if (item.doc.kind !== 'dashboard') continue;
    for (const widget of (JSON.parse(item.definition) as DashboardDefinition).widgets) {
      if (widget.item === undefined || fileReports.has(widget.item)) continue;
      const stored = await trx.selectFrom('workspace_item').innerJoin('collection', 'collection.id', 'workspace_item.collection_id').select(['workspace_item.kind', 'collection.kind as collection_kind']).where('workspace_item.id', '=', widget.item).executeTakeFirst();
      if (!stored || stored.kind !== 'saved_report' || stored.collection_kind !== 'shared') problems.add(item.file, `widget "${widget.id}" names "${widget.item}", which is no shared saved report`);
    }
  }
  // The nesting after the import, stored collections included, must reach the root without a loop.
  const parents = new Map((await trx.selectFrom('collection').select(['id', 'parent_id']).where('kind', '=', 'shared').execute()).map((row) => [row.id, row.parent_id]));
  for (const c of collections) parents.set(c.doc.id, c.parentId);
  for (const c of collections) {
    const path = new Set<string>();
    for (let at: string | null | undefined = c.doc.id; at; at = parents.get(at)) {
      if (path.has(at)) {
        problems.add(c.file, 'the nesting would form a cycle');
        break;
      }
      path.add(at);
    }
  }
  problems.throwIfAny();

  // Parents before children: the folder walk already gives that order.
  for (const c of collections) {
    const row = existing.get(c.doc.id);
    const description = c.doc.description ?? '';
    const archived = c.doc.archived ?? false;
    const wanted = grants.get(c.doc.id) ?? [];
    if (!row) {
      await trx.insertInto('collection').values({ id: c.doc.id, kind: 'shared', parent_id: c.parentId, name: c.doc.name, description, owner_user_id: null, archived_at: archived ? now : null, created_at: now, updated_at: now }).execute();
      if (wanted.length > 0) await trx.insertInto('collection_permission').values(wanted.map((g) => ({ collection_id: c.doc.id, group_id: g.groupId, level: g.level }))).execute();
      changes.push({ status: 'created', kind: 'collection', id: c.doc.id, file: c.file, changes: [] });
      continue;
    }
    const differs: string[] = [];
    const moved = row.parent_id !== c.parentId;
    if (moved) differs.push(`moved from ${row.parent_id ?? '(none)'}`);
    if (row.name !== c.doc.name) differs.push('name');
    if (row.description !== description) differs.push('description');
    if ((row.archived_at !== null) !== archived) differs.push(archived ? 'archived' : 'unarchived');
    const current = await trx.selectFrom('collection_permission').select(['group_id', 'level']).where('collection_id', '=', c.doc.id).execute();
    const key = (list: readonly { groupId: number; level: string }[]): string => list.map((g) => `${g.groupId}:${g.level}`).sort().join(',');
    const permissionsDiffer = key(current.map((g) => ({ groupId: g.group_id, level: g.level }))) !== key(wanted);
    if (permissionsDiffer) differs.push('permissions');
    if (differs.length > 0) {
      await trx
        .updateTable('collection')
        .set({ parent_id: c.parentId, name: c.doc.name, description, archived_at: archived ? (row.archived_at ?? now) : null, updated_at: now })
        .where('id', '=', c.doc.id)
        .execute();
    }
    if (permissionsDiffer) {
      await trx.deleteFrom('collection_permission').where('collection_id', '=', c.doc.id).execute();
      if (wanted.length > 0) await trx.insertInto('collection_permission').values(wanted.map((g) => ({ collection_id: c.doc.id, group_id: g.groupId, level: g.level }))).execute();
    }
    changes.push({ status: moved ? 'moved' : differs.length > 0 ? 'updated' : 'unchanged', kind: 'collection', id: c.doc.id, file: c.file, changes: differs });
  }

  for (const item of items) {
    const row = existingItems.get(item.doc.id);
    const description = item.doc.description ?? '';
    const archived = item.doc.archived ?? false;
    if (!row) {
      await trx
        .insertInto('workspace_item')
        .values({ id: item.doc.id, collection_id: item.collectionId, kind: item.doc.kind, name: item.doc.name, description, definition: item.definition, archived_at: archived ? now : null, created_by: 'cli', created_at: now, updated_at: now })
        .execute();
      changes.push({ status: 'created', kind: item.doc.kind, id: item.doc.id, file: item.file, changes: [] });
      continue;
    }
    const differs: string[] = [];
    const moved = row.collection_id !== item.collectionId;
    if (moved) differs.push(`moved from ${row.collection_id}`);
    if (row.name !== item.doc.name) differs.push('name');
    if (row.description !== description) differs.push('description');
    if (canonical(JSON.parse(row.definition)) !== canonical(JSON.parse(item.definition))) differs.push('definition');
    if ((row.archived_at !== null) !== archived) differs.push(archived ? 'archived' : 'unarchived');
    if (differs.length > 0) {
      await trx
        .updateTable('workspace_item')
        .set({ collection_id: item.collectionId, name: item.doc.name, description, definition: item.definition, archived_at: archived ? (row.archived_at ?? now) : null, updated_at: now })
        .where('id', '=', item.doc.id)
        .execute();
    }
    changes.push({ status: moved ? 'moved' : differs.length > 0 ? 'updated' : 'unchanged', kind: item.doc.kind, id: item.doc.id, file: item.file, changes: differs });
  }
  const counts: Record<ImportStatus, number> = { created: 0, updated: 0, moved: 0, unchanged: 0 };
  for (const change of changes) counts[change.status] += 1;
  return { dryRun: false, changes, counts };
}
