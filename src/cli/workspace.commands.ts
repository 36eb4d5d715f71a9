import type { Command } from 'commander';
import { PluraError } from '../core/errors.js';
import { createGroup, deleteGroup, isGroupKind, listGroups } from '../workspace/groups.service.js';
import type { CliKit } from './identity.commands.js';

const cli = { kind: 'system', name: 'cli' } as const;

/** group:create / group:list / group:delete: the platform's internal and tenant groups. */
export function registerWorkspaceCommands(program: Command, kit: CliKit): void {
  const { io, withPlatform, formatOption } = kit;

  program
    .command('group:create <name>')
    .description('create a group: --kind tenant (tenant users of every tenant may join) or internal (platform users)')
    .requiredOption('--kind <kind>', 'tenant or internal')
    .option('--description <text>', 'what the group is for')
    .action((name: string, options: { kind: string; description?: string }) =>
      withPlatform(async (platform) => {
        if (!isGroupKind(options.kind)) throw new PluraError('invalid_input', `--kind must be tenant or internal, not "${options.kind}".`);
        const group = await createGroup(platform, cli, { kind: options.kind, name, ...(options.description !== undefined ? { description: options.description } : {}) });
        io.out(`Created ${group.kind} group ${group.id} "${group.name}".`);
      }),
    );

  program
    .command('group:list')
    .description('list groups (the two special groups always exist)')
    .addOption(formatOption())
    .action((options: { format: 'text' | 'json' }) =>
      withPlatform(async (platform) => {
        const groups = await listGroups(platform);
        if (options.format === 'json') return io.out(JSON.stringify(groups, null, 2));
        for (const group of groups) io.out(`${String(group.id).padStart(4)}  ${group.kind.padEnd(8)}  ${group.name}${group.special ? '  (everyone of its kind)' : ''}`);
      }),
    );

  program
    .command('group:delete <id>')
    .description('delete a group (not the two special groups); its members leave it')
    .action((id: string) =>
      withPlatform(async (platform) => {
        if (!/^\d+$/.test(id)) throw new PluraError('invalid_input', `The group id must be a number, not "${id}".`);
        await deleteGroup(platform, cli, Number(id));
        io.out(`Deleted group ${id}.`);
      }),
    );
}
