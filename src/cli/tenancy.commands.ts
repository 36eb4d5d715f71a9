import type { Command } from 'commander';
import { PluraError } from '../core/errors.js';
import { assignUser } from '../tenancy/assignment.js';
import { parseStrategy, readStrategy, switchStrategy } from '../tenancy/strategy.js';
import type { CliKit } from './identity.commands.js';

const cli = { kind: 'system', name: 'cli' } as const;

/** platform:strategy and user:assign: the tenant strategy, and moving users between the platform and tenants. */
export function registerTenancyCommands(program: Command, kit: CliKit): void {
  const { io, withPlatform, tenantOptions, formatOption } = kit;

  program
    .command('platform:strategy [strategy]')
    .description('show the tenant strategy, or switch it: single (platform users only; tenant users deactivated, shared and tenant collections hidden) or multi (restores them)')
    .addOption(formatOption())
    .action((strategy: string | undefined, options: { format: 'text' | 'json' }) =>
      withPlatform(async (platform) => {
        if (strategy === undefined) {
          const view = await readStrategy(platform);
          if (options.format === 'json') return io.out(JSON.stringify(view, null, 2));
          return io.out(`The platform runs ${view.strategy}${view.changedAt ? ` (since ${view.changedAt})` : ''}.`);
        }
        const result = await switchStrategy(platform, cli, parseStrategy(strategy));
        if (options.format === 'json') return io.out(JSON.stringify(result, null, 2));
        io.out(result.previous === result.strategy ? `The platform runs ${result.strategy} already; every tenant follows it.` : `Switched the platform from ${result.previous} to ${result.strategy}.`);
        for (const t of result.tenants) {
          if (t.deactivated?.length) io.out(`${t.tenant}: deactivated ${t.deactivated.join(', ')}`);
          if (t.reactivated?.length) io.out(`${t.tenant}: reactivated ${t.reactivated.join(', ')}`);
          if (t.stillDeactivated?.length) io.out(`${t.tenant}: still deactivated ${t.stillDeactivated.join(', ')}`);
        }
      }),
    );

  tenantOptions(
    program
      .command('user:assign <login>')
      .description('move an existing user: a platform user into a tenant (--to-tenant), or a user of --tenant back to the platform (--to-platform); login, email, names, password and MFA are kept, groups, rights, sessions and tokens are not')
      .option('--to-tenant <host-or-slug>', 'the tenant the platform user joins')
      .option('--to-platform', 'make the user of --tenant a platform user')
      .addOption(formatOption()),
  ).action((login: string, options: { tenant?: string; matomoDomain?: string; toTenant?: string; toPlatform?: boolean; format: 'text' | 'json' }) =>
    withPlatform(async (platform) => {
      if ((options.toTenant === undefined) === (options.toPlatform !== true)) throw new PluraError('invalid_input', 'Say where the user goes: --to-tenant <tenant> or --to-platform.');
      const from = options.tenant ?? options.matomoDomain ?? null;
      const result = await assignUser(platform, cli, { login, from, to: options.toTenant ?? null });
      if (options.format === 'json') return io.out(JSON.stringify(result, null, 2));
      io.out(`Moved ${result.login} from ${result.from ?? 'the platform'} to ${result.to ?? 'the platform'}${result.active ? '' : ' (it stays deactivated)'}.`);
      if (result.droppedGroups.length > 0) io.out(`Left groups: ${result.droppedGroups.join(', ')}.`);
      if (result.droppedRights.length > 0) io.out(`Dropped rights: ${result.droppedRights.join(', ')}.`);
      io.out(`Ended ${result.endedSessions} session(s) and ${result.endedTokens} token(s).`);
    }),
  );
}
