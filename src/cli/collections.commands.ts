import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { exportShared, importShared, type ExportFormat, type ImportChange } from '../workspace/export-import.js';
import type { CliKit } from './identity.commands.js';

function changeLine(change: ImportChange): string {
  const details = change.changes.length > 0 ? `  (${change.changes.join(', ')})` : '';
  return `${change.status.padEnd(9)} ${change.kind.padEnd(12)} ${change.file}${details}`;
}

/** collections:export / collections:import: shared collections as plain files, for version control. */
export function registerCollectionsCommands(program: Command, kit: CliKit): void {
  const { io, withPlatform, formatOption } = kit;

  program
    .command('collections:export')
    .description('write every shared collection, dashboard and saved report as files: <collection path>/_collection.yaml and <name>.<kind>.yaml')
    .requiredOption('--dir <dir>', 'folder to write (empty, or holding an earlier export, whose files are replaced)')
    .addOption(new Option('--format <format>', 'file format').choices(['yaml', 'json']).default('yaml'))
    .action((options: { dir: string; format: ExportFormat }) =>
      withPlatform(async (platform) => {
        const dir = resolve(options.dir);
        const summary = await exportShared(platform, dir, options.format);
        io.out(`Exported ${summary.collections} shared collection(s) and ${summary.items} dashboard(s) and saved report(s) to ${dir}.`);
      }),
    );

  program
    .command('collections:import')
    .description('create, update or move shared collections, dashboards and saved reports from an export folder (all or nothing; nothing is deleted; a second import changes nothing)')
    .requiredOption('--dir <dir>', 'the export folder')
    .option('--dry-run', 'check everything and show what would change, writing nothing')
    .addOption(formatOption())
    .action((options: { dir: string; dryRun?: boolean; format: 'text' | 'json' }) =>
      withPlatform(async (platform) => {
        const report = await importShared(platform, resolve(options.dir), { dryRun: options.dryRun ?? false });
        if (options.format === 'json') return io.out(JSON.stringify(report, null, 2));
        for (const change of report.changes) if (change.status !== 'unchanged') io.out(changeLine(change));
        const { created, updated, moved, unchanged } = report.counts;
        const summary = created + updated + moved === 0 ? `Nothing changed (${unchanged} unchanged).` : `${created} created, ${updated} updated, ${moved} moved, ${unchanged} unchanged.`;
        io.out(report.dryRun ? `Dry run, nothing was written: ${summary}` : summary);
      }),
    );
}
