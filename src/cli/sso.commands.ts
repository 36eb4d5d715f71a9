import type { Command } from 'commander';
import { PluraError } from '../core/errors.js';
import type { ActContext } from '../access/context.js';
import type { Platform } from '../platform/platform.js';
import { createScimToken, listScimTokens, revokeScimToken } from '../sso/scim-tokens.js';
import type { CliKit } from './identity.commands.js';

type TenantFlags = { tenant?: string; matomoDomain?: string };

/** Runs `fn` in the named tenant as the console operator (audited as `cli`). */
async function inTenant<T>(platform: Platform, flags: TenantFlags, fn: (ctx: ActContext) => Promise<T>): Promise<T> {
  const name = flags.tenant ?? flags.matomoDomain;
  if (!name) throw new PluraError('invalid_input', 'Name the tenant: --tenant <host-or-slug> (SCIM tokens belong to one tenant).');
  const tenant = await platform.tenants.get(name);
  return platform.withStore(tenant, (store) => fn({ platform, scope: { kind: 'tenant', tenant, store }, actor: { kind: 'system', name: 'cli' }, ip: null }));
}

function tokenId(raw: string): number {
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1) throw new PluraError('invalid_input', `The token id must be a positive whole number, not "${raw}".`);
  return Number(raw);
}

/** scim:token:* — the bearer tokens an identity provider uses at /scim/v2. */
export function registerSsoCommands(program: Command, kit: CliKit): void {
  const { io, withPlatform, tenantOptions, formatOption } = kit;

  tenantOptions(
    program
      .command('scim:token:create')
      .description("create a SCIM bearer token for a tenant's identity provider; printed once, only its hash is kept")
      .option('--description <text>', 'what the token is for, e.g. "Okta"', 'SCIM'),
  ).action((options: TenantFlags & { description: string }) =>
    withPlatform((platform) =>
      inTenant(platform, options, async (ctx) => {
        const { token, info } = await createScimToken(ctx, options.description);
        io.out(token);
        io.err(`Created SCIM token ${info.id} ("${info.description}"). It is shown only now: store it in the identity provider.`);
      }),
    ),
  );

  tenantOptions(program.command('scim:token:list').description("list a tenant's SCIM tokens (never the tokens themselves)").addOption(formatOption())).action(
    (options: TenantFlags & { format: 'text' | 'json' }) =>
      withPlatform((platform) =>
        inTenant(platform, options, async (ctx) => {
          const tokens = await listScimTokens(ctx);
          if (options.format === 'json') return io.out(JSON.stringify(tokens, null, 2));
          if (tokens.length === 0) return io.out('No SCIM tokens.');
          for (const token of tokens) io.out(`${token.id}\t${token.description}\tcreated ${token.createdAt}\tlast used ${token.lastUsedAt ?? 'never'}`);
        }),
      ),
  );

  tenantOptions(program.command('scim:token:revoke <id>').description('revoke a SCIM token: the identity provider holding it is refused at once')).action((id: string, options: TenantFlags) =>
    withPlatform((platform) =>
      inTenant(platform, options, async (ctx) => {
        await revokeScimToken(ctx, tokenId(id));
        io.out(`Revoked SCIM token ${id} of tenant ${ctx.scope.kind === 'tenant' ? ctx.scope.tenant.slug : ''}.`);
      }),
    ),
  );
}
