import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { PluraError } from '../core/errors.js';
import { archiveTenant } from '../reports/archive-runner.js';
import type { CliKit } from './identity.commands.js';

type ArchiveFlags = { tenant?: string; matomoDomain?: string; forceIdsites?: string; forceDateRange?: string };

function siteList(raw: string): number[] {
  return raw.split(',').map((part) => {
    const trimmed = part.trim();
    if (!/^\d+$/.test(trimmed) || Number(trimmed) < 1) throw new PluraError('invalid_input', `--force-idsites must list site ids, not "${raw}".`);
    return Number(trimmed);
  });
}

function dateRange(raw: string): [string, string] {
  const parts = raw.split(',').map((part) => part.trim());
  if (parts.length !== 2) throw new PluraError('invalid_input', `--force-date-range must be two dates: YYYY-MM-DD,YYYY-MM-DD, not "${raw}".`);
  return [parts[0] ?? '', parts[1] ?? ''];
}

/** core:archive, as Matomo's console names it. */
export function registerReportsCommands(program: Command, kit: CliKit): void {
  const { io, withPlatform, tenantOptions } = kit;
  tenantOptions(
    program
      .command('core:archive')
      .description("archive reports of every tenant (or one): today, yesterday and days with late hits, or a forced date range")
      .option('--force-idsites <ids>', 'only these sites, e.g. 1,2 (with --tenant)')
      .option('--force-date-range <a,b>', 'every day from a to b and the weeks, months and years containing them'),
  ).action((options: ArchiveFlags) =>
    withPlatform(async (platform) => {
      const only = options.tenant ?? options.matomoDomain;
      if (options.forceIdsites && !only) throw new PluraError('invalid_input', '--force-idsites needs --tenant: site ids belong to one tenant.');
      const tenants = only ? [await platform.tenants.get(only)] : (await platform.tenants.list()).filter((tenant) => tenant.status === 'active');
      const range = options.forceDateRange ? dateRange(options.forceDateRange) : undefined;
      const siteIds = options.forceIdsites ? siteList(options.forceIdsites) : undefined;
      for (const tenant of tenants) {
        const bar = new SingleBar({ format: `${tenant.slug} [{bar}] {value}/{total} {what}`, stream: process.stderr, noTTYOutput: false, hideCursor: false });
        let started = false;
        const result = await archiveTenant(platform, tenant, {
          ...(range ? { dateRange: range } : {}),
          ...(siteIds ? { siteIds } : {}),
          onProgress: (done, total, what) => {
            if (!started) {
              bar.start(total, 0, { what });
              started = true;
            }
            bar.update(done, { what });
          },
        });
        if (started) bar.stop();
        io.out(`${tenant.slug}: archived ${result.periods} period(s) of ${result.sites} site(s) in ${result.seconds.toFixed(1)} s`);
      }
    }),
  );
}
