import type { Command } from 'commander';
import { PluraError } from '../core/errors.js';
import type { ActContext } from '../access/context.js';
import type { Platform } from '../platform/platform.js';
import { javascriptTag, updateSite } from '../sites/sites-access.service.js';
import { addGoal } from '../tracking/goals.service.js';
import type { CliKit } from './identity.commands.js';

type TenantFlags = { tenant?: string; matomoDomain?: string };

async function inTenant<T>(platform: Platform, flags: TenantFlags, fn: (ctx: ActContext) => Promise<T>): Promise<T> {
  const name = flags.tenant ?? flags.matomoDomain;
  if (!name) throw new PluraError('invalid_input', 'Name the tenant: --tenant <host-or-slug>.');
  const tenant = await platform.tenants.get(name);
  return platform.withStore(tenant, (store) => fn({ platform, scope: { kind: 'tenant', tenant, store }, actor: { kind: 'system', name: 'cli' }, ip: null }));
}

function siteId(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new PluraError('invalid_input', `--site-id must be a site id, not "${raw}".`);
  return Number(raw);
}

/** site:update, site:tracking-code and goal:add. */
export function registerTrackingCommands(program: Command, kit: CliKit): void {
  const { io, withPlatform, tenantOptions } = kit;

  tenantOptions(
    program
      .command('site:update')
      .description("change a site's settings")
      .requiredOption('--site-id <id>', 'the site')
      .option('--name <name>', 'site name')
      .option('--url <url>', 'site URLs (repeatable; the first is the main URL)', (v: string, p: string[]) => [...p, v], [] as string[])
      .option('--timezone <zone>', 'time zone')
      .option('--currency <code>', 'ISO 4217 currency')
      .option('--excluded-ips <list>', 'comma list of IPs, CIDR ranges or 1.2.3.* not to track')
      .option('--excluded-parameters <list>', 'comma list of query parameters to strip from URLs')
      .option('--excluded-user-agents <list>', 'comma list of user-agent substrings not to track')
      .option('--ecommerce <0|1>', 'ecommerce site')
      .option('--sensitive-data-role <role>', 'from which role IPs and user ids are shown: admin, write or none'),
  ).action((options: TenantFlags & { siteId: string; name?: string; url: string[]; timezone?: string; currency?: string; excludedIps?: string; excludedParameters?: string; excludedUserAgents?: string; ecommerce?: string; sensitiveDataRole?: string }) =>
    withPlatform((platform) =>
      inTenant(platform, options, async (ctx) => {
        const site = await updateSite(ctx, siteId(options.siteId), {
          name: options.name,
          urls: options.url.length > 0 ? options.url : undefined,
          timezone: options.timezone,
          currency: options.currency,
          excludedIps: options.excludedIps,
          excludedParameters: options.excludedParameters,
          excludedUserAgents: options.excludedUserAgents,
          ecommerce: options.ecommerce === undefined ? undefined : options.ecommerce === '1',
          sensitiveDataRole: options.sensitiveDataRole,
        });
        io.out(`Updated site ${site.idsite} (${site.name}).`);
      }),
    ),
  );

  tenantOptions(
    program
      .command('site:tracking-code')
      .description("print the tracking snippet for a site, pointing at the tenant's own host")
      .requiredOption('--site-id <id>', 'the site')
      .option('--base-url <url>', "the analytics server's public URL (default: http://<tenant's first host>)"),
  ).action((options: TenantFlags & { siteId: string; baseUrl?: string }) =>
    withPlatform((platform) =>
      inTenant(platform, options, async (ctx) => {
        if (ctx.scope.kind !== 'tenant') return;
        const id = siteId(options.siteId);
        const exists = await ctx.scope.store.db.selectFrom('site').select('id').where('id', '=', id).executeTakeFirst();
        if (!exists) throw new PluraError('unknown_site', `The website id = ${id} was not found.`);
        io.out(javascriptTag(id, options.baseUrl ?? `http://${ctx.scope.tenant.hosts[0] ?? 'localhost'}`));
      }),
    ),
  );

  tenantOptions(
    program
      .command('goal:add')
      .description('add a goal to a site')
      .requiredOption('--site-id <id>', 'the site')
      .requiredOption('--name <name>', 'goal name')
      .option('--match <attribute>', 'manually, url, title, event_category, event_action or event_name', 'manually')
      .option('--pattern <pattern>', 'what to match')
      .option('--pattern-type <type>', 'contains, exact or regex', 'contains')
      .option('--case-sensitive', 'match case')
      .option('--allow-multiple', 'count the goal more than once per visit')
      .option('--revenue <amount>', 'default revenue', '0'),
  ).action((options: TenantFlags & { siteId: string; name: string; match: string; pattern?: string; patternType: string; caseSensitive?: boolean; allowMultiple?: boolean; revenue: string }) =>
    withPlatform((platform) =>
      inTenant(platform, options, async (ctx) => {
        const { goalId } = await addGoal(ctx, siteId(options.siteId), {
          name: options.name,
          matchAttribute: options.match,
          patternType: options.patternType,
          ...(options.pattern !== undefined ? { pattern: options.pattern } : {}),
          caseSensitive: Boolean(options.caseSensitive),
          allowMultiple: Boolean(options.allowMultiple),
          revenue: Number(options.revenue),
        });
        io.out(`Added goal ${goalId} (${options.name}) to site ${options.siteId}.`);
      }),
    ),
  );
}
