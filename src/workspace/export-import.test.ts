import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { openPlatform, type Platform } from '../platform/platform.js';
import type { ActContext } from '../access/context.js';
import { platformAuditDb } from '../audit/audit.service.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { runCli } from '../cli/test-support/run-cli.js';
import { createGroup, listGroups } from './groups.service.js';
import { createCollection, createItem, setPermission } from './workspace.service.js';
import { archiveItem } from './collections-ops.js';

const system = { kind: 'system', name: 'test' } as const;
const report = (name: string) => ({ method: 'VisitsSummary.get', params: { period: 'day', label: name }, visualization: 'line' });

/** Every file under `dir`, relative, sorted (hidden ones too, to see that they stay). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string): void => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out.sort();
}

interface Seeded {
  sub: string;
  eu: string;
  visits: string;
  overview: string;
  internalCollection: string;
  internalItem: string;
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`plura collections:export / collections:import (registry and tenant on ${backend})`, () => {
    let dataDir: string;
    let work: string;
    let pg: TestPostgresDatabase | undefined;
    let seeded: Seeded;
    const plura = (...args: string[]) => runCli(dataDir, ...args);
    const withPlatform = async <T>(fn: (platform: Platform) => Promise<T>): Promise<T> => {
      const platform = await openPlatform({ dataDir });
      try {
        return await fn(platform);
      } finally {
        await platform.close();
      }
    };
    const ctxOf = (platform: Platform): ActContext => ({ platform, scope: { kind: 'platform' }, actor: system, ip: null });
    const item = (id: string) => withPlatform((platform) => platform.registry.db.selectFrom('workspace_item').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
    const collection = (id: string) => withPlatform((platform) => platform.registry.db.selectFrom('collection').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
    const imports = () => withPlatform(async (platform) => (await platformAuditDb(platform).selectFrom('audit_entry').select('action').where('action', '=', 'collections.imported').execute()).length);
    const readYaml = (path: string) => parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const writeYaml = (path: string, doc: unknown) => writeFileSync(path, stringify(doc));

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'plura-collections-cli-'));
      work = mkdtempSync(join(tmpdir(), 'plura-collections-files-'));
      let storage = 'sqlite';
      if (backend === 'postgres') {
        pg = await createTestPostgresDatabase('colexp');
        storage = pg.url;
        mkdirSync(join(dataDir, 'config'), { recursive: true });
        writeFileSync(join(dataDir, 'config', 'common.ini'), `[database]\nregistry_url = "${pg.url}"\npostgres_role_prefix = "${pg.rolePrefix}"\n`);
      }
      seeded = await withPlatform(async (platform) => {
        const ctx = ctxOf(platform);
        const customers = await createGroup(platform, system, { kind: 'tenant', name: 'Customers' });
        const staff = await createGroup(platform, system, { kind: 'internal', name: 'Staff' });
        const allTenant = (await listGroups(platform)).find((g) => g.name === 'All tenant users');
        await setPermission(ctx, 'shared', allTenant?.id ?? 0, 'view');
        const sub = await createCollection(ctx, { parentId: 'shared', name: 'Sales & Marketing', description: 'Numbers' });
        await setPermission(ctx, sub.id, customers.id, 'view');
        await setPermission(ctx, sub.id, staff.id, 'curate');
        const visits = await createItem(ctx, { collectionId: sub.id, kind: 'saved_report', name: 'Visits', definition: report('visits') });
        const overview = await createItem(ctx, {
          collectionId: sub.id,
          kind: 'dashboard',
          name: 'Overview',
          definition: { widgets: [{ id: 'w1', item: visits.id, x: 0, y: 0, w: 6, h: 4 }, { id: 'w2', title: 'Pages', report: { method: 'Actions.getPageUrls', params: {}, visualization: 'table' }, x: 6, y: 0, w: 6, h: 4 }] },
        });
        const eu = await createCollection(ctx, { parentId: sub.id, name: 'EU' });
        await createItem(ctx, { collectionId: eu.id, kind: 'saved_report', name: 'Visits', definition: report('eu') });
        await createItem(ctx, { collectionId: 'shared', kind: 'saved_report', name: 'Top pages', definition: report('one') });
        await createItem(ctx, { collectionId: 'shared', kind: 'saved_report', name: 'Top pages', definition: report('two') });
        const old = await createItem(ctx, { collectionId: 'shared', kind: 'saved_report', name: 'Old', definition: report('old') });
        await archiveItem(ctx, old.id);
        const internalCollection = await createCollection(ctx, { parentId: 'internal', name: 'Board secrets' });
        const internalItem = await createItem(ctx, { collectionId: internalCollection.id, kind: 'saved_report', name: 'Board pack', definition: report('board') });
        const tenant = await platform.tenants.create({ slug: 'acme', hosts: ['acme.test'], storage });
        await platform.withStore(tenant, (store) =>
          createItem({ platform, scope: { kind: 'tenant', tenant, store }, actor: system, ip: null }, { collectionId: 'tenant', kind: 'saved_report', name: 'Acme private', definition: report('acme') }),
        );
        return { sub: sub.id, eu: eu.id, visits: visits.id, overview: overview.id, internalCollection: internalCollection.id, internalItem: internalItem.id };
      });
    });
    afterAll(async () => {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
      await pg?.drop();
    });

    it('round trip: export, change a file, import shows exactly that change, a second import shows nothing', async () => {
      const dir = join(work, 'repo');
      mkdirSync(join(dir, '.git'), { recursive: true });
      writeFileSync(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
      expect(await plura('collections:export', '--dir', dir)).toMatchObject({ code: 0, out: `Exported 3 shared collection(s) and 6 dashboard(s) and saved report(s) to ${dir}.` });
      const files = filesUnder(dir);
      expect(files.filter((f) => !/top-pages/.test(f))).toEqual([
        '.git/HEAD',
        '_collection.yaml',
        'old.saved_report.yaml',
        'sales-marketing/_collection.yaml',
        'sales-marketing/eu/_collection.yaml',
        'sales-marketing/eu/visits.saved_report.yaml',
        'sales-marketing/overview.dashboard.yaml',
        'sales-marketing/visits.saved_report.yaml',
      ]);
      // Two items of the same name: the start of the id tells them apart.
      expect(files.filter((f) => /top-pages/.test(f))).toEqual([expect.stringMatching(/^top-pages-[a-z0-9-]{8}\.saved_report\.yaml$/), expect.stringMatching(/^top-pages-[a-z0-9-]{8}\.saved_report\.yaml$/)]);
      expect(readYaml(join(dir, 'sales-marketing', '_collection.yaml'))).toEqual({
        id: seeded.sub,
        name: 'Sales & Marketing',
        description: 'Numbers',
        permissions: [
          { group: 'Staff', kind: 'internal', level: 'curate' },
          { group: 'Customers', kind: 'tenant', level: 'view' },
        ],
      });
      expect(readYaml(join(dir, '_collection.yaml'))).toMatchObject({ id: 'shared', permissions: [{ group: 'All tenant users', kind: 'tenant', level: 'view' }] });
      expect(readYaml(join(dir, 'sales-marketing', 'overview.dashboard.yaml'))).toMatchObject({ id: seeded.overview, kind: 'dashboard', name: 'Overview', definition: { widgets: [{ id: 'w1', item: seeded.visits }, { id: 'w2', title: 'Pages' }] } });
      expect(readYaml(join(dir, 'old.saved_report.yaml'))).toMatchObject({ archived: true });
      // Internal collections and every tenant's own content stay out.
      const everything = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
      expect(everything).not.toContain('Board');
      expect(everything).not.toContain('Acme private');

      expect(await plura('collections:import', '--dir', dir)).toMatchObject({ code: 0, out: 'Nothing changed (9 unchanged).' });

      const visitsFile = join(dir, 'sales-marketing', 'visits.saved_report.yaml');
      writeYaml(visitsFile, { ...readYaml(visitsFile), name: 'Visits by day' });
      const dry = await plura('collections:import', '--dir', dir, '--dry-run');
      expect(dry).toMatchObject({ code: 0, out: ['updated   saved_report sales-marketing/visits.saved_report.yaml  (name)', 'Dry run, nothing was written: 0 created, 1 updated, 0 moved, 8 unchanged.'].join('\n') });
      expect((await item(seeded.visits)).name).toBe('Visits');
      expect(await plura('collections:import', '--dir', dir)).toMatchObject({ code: 0, out: ['updated   saved_report sales-marketing/visits.saved_report.yaml  (name)', '0 created, 1 updated, 0 moved, 8 unchanged.'].join('\n') });
      expect((await item(seeded.visits)).name).toBe('Visits by day');
      expect(await plura('collections:import', '--dir', dir)).toMatchObject({ code: 0, out: 'Nothing changed (9 unchanged).' });
      expect(await imports()).toBe(1);

      // Reordered keys and comments are not changes.
      const overviewFile = join(dir, 'sales-marketing', 'overview.dashboard.yaml');
      const overview = readYaml(overviewFile);
      writeFileSync(overviewFile, `# kept under version control\n${stringify({ definition: overview['definition'], name: overview['name'], kind: overview['kind'], id: overview['id'], description: overview['description'] })}`);
      expect((await plura('collections:import', '--dir', dir)).out).toBe('Nothing changed (9 unchanged).');

      // Moving a folder moves the collection; a new file creates an item; a permission line removed changes permissions.
      renameSync(join(dir, 'sales-marketing', 'eu'), join(dir, 'eu'));
      writeYaml(join(dir, 'eu', 'new.saved_report.yaml'), { id: 'eu-new', kind: 'saved_report', name: 'New', definition: report('new') });
      const subFile = join(dir, 'sales-marketing', '_collection.yaml');
      const sub = readYaml(subFile);
      writeYaml(subFile, { ...sub, permissions: (sub['permissions'] as { group: string }[]).filter((p) => p.group !== 'Customers') });
      const moved = await plura('collections:import', '--dir', dir);
      expect(moved.out.split('\n')).toEqual([
        `moved     collection   eu/_collection.yaml  (moved from ${seeded.sub})`,
        'updated   collection   sales-marketing/_collection.yaml  (permissions)',
        'created   saved_report eu/new.saved_report.yaml',
        '1 created, 1 updated, 1 moved, 7 unchanged.',
      ]);
      expect((await collection(seeded.eu)).parent_id).toBe('shared');
      expect((await item('eu-new')).collection_id).toBe(seeded.eu);
      expect((await plura('collections:import', '--dir', dir)).out).toBe('Nothing changed (10 unchanged).');
      expect(await imports()).toBe(2);

      // Exporting again into the same folder replaces the earlier export's files (and only those).
      expect((await plura('collections:export', '--dir', dir)).code).toBe(0);
      const again = filesUnder(dir);
      expect(again).toContain('.git/HEAD');
      expect(again).toContain('sales-marketing/visits-by-day.saved_report.yaml');
      expect(again).toContain('eu/new.saved_report.yaml');
      expect(again).not.toContain('sales-marketing/visits.saved_report.yaml');
      expect(existsSync(join(dir, 'sales-marketing', 'eu'))).toBe(false);
      expect((await plura('collections:import', '--dir', dir)).out).toBe('Nothing changed (10 unchanged).');

      // JSON files round-trip the same way.
      const jsonDir = join(work, 'json');
      expect((await plura('collections:export', '--dir', jsonDir, '--format', 'json')).code).toBe(0);
      expect(filesUnder(jsonDir)).toContain('sales-marketing/overview.dashboard.json');
      expect(JSON.parse(readFileSync(join(jsonDir, '_collection.json'), 'utf8'))).toMatchObject({ id: 'shared' });
      expect((await plura('collections:import', '--dir', jsonDir)).out).toBe('Nothing changed (10 unchanged).');
      const summary = JSON.parse((await plura('collections:import', '--dir', jsonDir, '--format', 'json')).out) as { counts: Record<string, number> };
      expect(summary.counts).toEqual({ created: 0, updated: 0, moved: 0, unchanged: 10 });
    });

    it('validates everything first and writes nothing when any file is wrong', async () => {
      const dir = join(work, 'broken');
      expect((await plura('collections:export', '--dir', dir)).code).toBe(0);
      const base = join(work, 'pristine');
      cpSync(dir, base, { recursive: true });
      const fresh = (): string => {
        rmSync(dir, { recursive: true, force: true });
        cpSync(base, dir, { recursive: true });
        // A valid change rides along: it must not be written either.
        const file = join(dir, 'sales-marketing', '_collection.yaml');
        writeYaml(file, { ...readYaml(file), name: 'Renamed' });
        return dir;
      };

      // Checks of the files themselves.
      fresh();
      const visitsFile = join(dir, 'sales-marketing', 'visits-by-day.saved_report.yaml');
      writeYaml(visitsFile, { ...readYaml(visitsFile), definition: { method: 'VisitsSummary.get', params: {}, visualization: 'radar' } });
      const euFile = join(dir, 'eu', '_collection.yaml');
      writeYaml(euFile, { ...readYaml(euFile), permissions: [{ group: 'Nobody', level: 'view' }, { group: 'Customers', level: 'curate' }] });
      cpSync(join(dir, 'eu'), join(dir, 'sales-marketing', 'eu-copy'), { recursive: true });
      writeFileSync(join(dir, 'big.saved_report.yaml'), `# ${'x'.repeat(300 * 1024)}\n`);
      writeFileSync(join(dir, 'bad.dashboard.yaml'), 'id: [unclosed\n');
      writeYaml(join(dir, 'wrong.dashboard.yaml'), { id: 'wrong-kind', kind: 'saved_report', name: 'Wrong', definition: report('w') });
      writeYaml(join(dir, 'segment.saved_report.yaml'), { id: 'bad-segment', kind: 'saved_report', name: 'Bad segment', definition: { ...report('s'), segment: 'browserCode==' } });
      mkdirSync(join(dir, 'stray'));
      writeYaml(join(dir, 'stray', 'lost.saved_report.yaml'), { id: 'lost', kind: 'saved_report', name: 'Lost', definition: report('l') });
      mkdirSync(join(dir, 'reserved'));
      writeYaml(join(dir, 'reserved', '_collection.yaml'), { id: 'internal', name: 'Sneaky' });
      writeYaml(join(dir, 'notes.yaml'), { hello: 'world' });
      const first = await plura('collections:import', '--dir', dir);
      expect(first.code).toBe(1);
      for (const words of [
        'The import was refused; nothing was written',
        'sales-marketing/visits-by-day.saved_report.yaml: The saved_report definition is not valid at /visualization',
        'eu/_collection.yaml: there is no group named "Nobody"',
        'eu/_collection.yaml: tenant group "Customers" may at most view shared collections',
        `sales-marketing/eu-copy/_collection.yaml: the collection id "${seeded.eu}" is also used by eu/_collection.yaml`,
        'sales-marketing/eu-copy/new.saved_report.yaml: the id "eu-new" is also used by eu/new.saved_report.yaml',
        'big.saved_report.yaml: the file is larger than 256 KB',
        'bad.dashboard.yaml: cannot be read',
        'wrong.dashboard.yaml: the file name says dashboard but the file holds a saved_report',
        'segment.saved_report.yaml: The saved report: the segment is not valid',
        'stray: every folder of an export needs a _collection.yaml',
        'reserved/_collection.yaml: the id "internal" is reserved',
        'notes.yaml: not an export file',
      ]) {
        expect(first.err).toContain(words);
      }

      // Checks against what the registry holds: ids of internal content, widgets naming nothing shared.
      fresh();
      const overviewFile = join(dir, 'sales-marketing', 'overview.dashboard.yaml');
      const overview = readYaml(overviewFile) as { definition: { widgets: { item?: string }[] } };
      overview.definition.widgets[0] = { ...overview.definition.widgets[0], item: seeded.internalItem };
      writeYaml(overviewFile, overview);
      writeYaml(join(dir, 'sneaky.saved_report.yaml'), { id: seeded.internalItem, kind: 'saved_report', name: 'Board pack, shared now', definition: report('board') });
      mkdirSync(join(dir, 'secrets'));
      writeYaml(join(dir, 'secrets', '_collection.yaml'), { id: seeded.internalCollection, name: 'Board secrets, shared now' });
      const second = await plura('collections:import', '--dir', dir);
      expect(second.code).toBe(1);
      expect(second.err).toContain(`sneaky.saved_report.yaml: the id "${seeded.internalItem}" belongs to an item of an internal collection, not a shared one`);
      expect(second.err).toContain(`secrets/_collection.yaml: the id "${seeded.internalCollection}" belongs to an internal collection, not a shared one`);
      // The widget names a file's saved report here (the sneaky one), so only the id clash is reported for it.
      fresh();
      writeYaml(overviewFile, { ...overview, definition: { widgets: [{ id: 'w1', item: 'no-such-report', x: 0, y: 0, w: 1, h: 1 }] } });
      const third = await plura('collections:import', '--dir', dir);
      expect(third.err).toContain('sales-marketing/overview.dashboard.yaml: widget "w1" names "no-such-report", which is no shared saved report');

      // The root must be the shared root.
      fresh();
      writeYaml(join(dir, '_collection.yaml'), { ...readYaml(join(dir, '_collection.yaml')), id: 'elsewhere' });
      expect((await plura('collections:import', '--dir', dir)).err).toContain('its id must be "shared"');

      // Nothing of any attempt was written.
      expect((await collection(seeded.sub)).name).toBe('Sales & Marketing');
      expect((await collection(seeded.internalCollection)).kind).toBe('internal');
      expect((await item(seeded.internalItem)).name).toBe('Board pack');
      expect(await withPlatform((platform) => platform.registry.db.selectFrom('collection').select('id').where('id', 'in', ['elsewhere', 'lost', 'wrong-kind']).execute())).toEqual([]);

      // An export never writes into a folder that holds something else; an import needs a folder.
      const occupied = join(work, 'occupied');
      mkdirSync(occupied);
      writeFileSync(join(occupied, 'thesis.txt'), 'mine');
      expect((await plura('collections:export', '--dir', occupied)).err).toContain('holds no earlier export');
      expect(readdirSync(occupied)).toEqual(['thesis.txt']);
      expect((await plura('collections:import', '--dir', join(work, 'missing'))).err).toContain('There is no folder');
    });
  });
}
