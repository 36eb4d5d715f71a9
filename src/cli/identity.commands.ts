import { writeFileSync } from 'node:fs';
import type { Command, Option } from 'commander';
import { PluraError } from '../core/errors.js';
import { unblockIp } from '../access/brute-force.js';
import { identityDbFor, type ActContext, type Scope } from '../access/context.js';
import { identityStore } from '../access/identity.store.js';
import { platformSetupLink, tenantSetupLink } from '../access/setup-links.js';
import { createToken, deleteAllTokens } from '../access/tokens.js';
import { createUser, deleteUser, presentUser, requireUser, setSuperUserAccess, setUserAccess, setUserActive } from '../access/users.service.js';
import { recordAudit, scopeAuditDb } from '../audit/audit.service.js';
import { auditEntriesToCsv, auditEntriesToJson } from '../audit/audit.export.js';
import { findAuditEntries, verifyAuditChain } from '../audit/audit.store.js';
import type { Platform } from '../platform/platform.js';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

type TenantFlags = { tenant?: string; matomoDomain?: string };

export interface CliKit {
  readonly io: CliIo;
  withPlatform(work: (platform: Platform) => Promise<void>): void;
  tenantOptions(command: Command): Command;
  formatOption(): Option;
}

/** The operator at the shell: every right, and every act audited as `cli`. */
function cliContext(platform: Platform, scope: Scope): ActContext {
  return { platform, scope, actor: { kind: 'system', name: 'cli' }, ip: null };
}

/** Runs `fn` in the named tenant's scope, or the platform scope (platform users) when no tenant is named. */
async function inScope<T>(platform: Platform, flags: TenantFlags, fn: (ctx: ActContext) => Promise<T>): Promise<T> {
  const name = flags.tenant ?? flags.matomoDomain;
  if (!name) return fn(cliContext(platform, { kind: 'platform' }));
  const tenant = await platform.tenants.get(name);
  return platform.withStore(tenant, (store) => fn(cliContext(platform, { kind: 'tenant', tenant, store })));
}

function where(ctx: ActContext): string {
  return ctx.scope.kind === 'tenant' ? `tenant ${ctx.scope.tenant.slug}` : 'the platform';
}

function cliPort(): number {
  return Number(process.env.PORT ?? 8080);
}

/** usermanager:*, tenant:setup-link, security:unblock-ip and auditlog:* (Matomo console habits). */
export function registerIdentityCommands(program: Command, kit: CliKit): void {
  const { io, withPlatform, tenantOptions, formatOption } = kit;

  tenantOptions(program.command('tenant:setup-link [tenant]').description('print a one-time link that creates the first super user (or, without a tenant, the first platform admin)')).action(
    (positional: string | undefined, options: TenantFlags) =>
      withPlatform(async (platform) => {
        const name = positional ?? options.tenant ?? options.matomoDomain;
        if (!name) {
          const link = await platformSetupLink(platform, cliPort());
          if (!link) throw new PluraError('invalid_input', 'No platform setup link: set General.platform_host first, or a platform admin already exists.');
          return io.out(link);
        }
        const tenant = await platform.tenants.get(name);
        const link = await tenantSetupLink(platform, tenant, cliPort());
        if (!link) throw new PluraError('invalid_input', `Tenant ${tenant.slug} already has a super user; sign in, or use usermanager:create-user.`);
        io.out(link);
      }),
  );

  tenantOptions(program.command('usermanager:list-users').description('list users with their last-seen time, to find dormant accounts (platform users without --tenant)').addOption(formatOption())).action(
    (options: TenantFlags & { format: 'text' | 'json' }) =>
      withPlatform((platform) =>
        inScope(platform, options, async (ctx) => {
          const db = identityDbFor(ctx.platform, ctx.scope);
          const rows = (await identityStore.listUsers(db)).filter((row) => row.login !== 'anonymous');
          const grants = await identityStore.grantsOfUsers(db, rows.map((row) => row.id));
          const users = rows.map((row) => ({
            ...presentUser(row),
            sites: [...(grants.get(row.id) ?? new Map()).entries()].map(([site, grant]) => ({ site, role: grant.role, capabilities: [...grant.capabilities] })),
          }));
          if (options.format === 'json') return io.out(JSON.stringify(users, null, 2));
          if (users.length === 0) return io.out(`No users in ${where(ctx)} yet. Create one with: plura usermanager:create-user --login L --password P --email E --superuser`);
          for (const user of users) {
            const role = user.superuser_access ? (ctx.scope.kind === 'tenant' ? 'superuser' : 'platform_admin') : user.sites.map((s) => `${s.site}:${s.role}`).join(',') || 'noaccess';
            io.out(`${user.login.padEnd(24)} ${user.email.padEnd(32)} ${role.padEnd(20)} last seen ${user.last_seen ?? 'never'}${user.uses_2fa ? '  (2FA)' : ''}`);
          }
        }),
      ),
  );

  tenantOptions(
    program
      .command('usermanager:create-user')
      .description('create a user (with --superuser: the tenant\'s super user, or a platform admin without --tenant)')
      .requiredOption('--login <login>', 'login, unique within the tenant')
      .requiredOption('--password <password>', 'password (checked against the password policy)')
      .requiredOption('--email <email>', 'email address')
      .option('--alias <alias>', 'display name')
      .option('--superuser', 'grant super user access'),
  ).action((options: TenantFlags & { login: string; password: string; email: string; alias?: string; superuser?: boolean }) =>
    withPlatform((platform) =>
      inScope(platform, options, async (ctx) => {
        const user = await createUser(ctx, { login: options.login, password: options.password, email: options.email, alias: options.alias ?? null, superuser: Boolean(options.superuser) });
        io.out(`Created user ${user.login} in ${where(ctx)}${user.superuser_access ? ' with super user access' : ''}.`);
      }),
    ),
  );

  tenantOptions(program.command('usermanager:set-superuser-access <login> <grant>').description('grant (1) or revoke (0) super user access')).action(
    (login: string, grant: string, options: TenantFlags) =>
      withPlatform((platform) =>
        inScope(platform, options, async (ctx) => {
          if (grant !== '0' && grant !== '1') throw new PluraError('invalid_input', `The second argument must be 1 (grant) or 0 (revoke), not "${grant}".`);
          await setSuperUserAccess(ctx, login, grant === '1', undefined);
          io.out(`${grant === '1' ? 'Granted' : 'Revoked'} super user access ${grant === '1' ? 'to' : 'from'} ${login} in ${where(ctx)}.`);
        }),
      ),
  );

  tenantOptions(
    program
      .command('usermanager:set-site-permission')
      .description('set a user\'s role on a site')
      .requiredOption('--login <login>', 'the user')
      .requiredOption('--site-id <ids>', 'site id, a comma list, or "all"')
      .requiredOption('--access <role>', 'view, write, admin or noaccess'),
  ).action((options: TenantFlags & { login: string; siteId: string; access: string }) =>
    withPlatform((platform) =>
      inScope(platform, options, async (ctx) => {
        const ids = options.siteId === 'all' ? 'all' : options.siteId.split(',').map((part) => {
          if (!/^\d+$/.test(part.trim())) throw new PluraError('invalid_input', `--site-id must list site ids, not "${part}".`);
          return Number(part);
        });
        await setUserAccess(ctx, options.login, options.access, ids);
        io.out(`Set ${options.access} for ${options.login} on site(s) ${options.siteId} in ${where(ctx)}.`);
      }),
    ),
  );

  tenantOptions(program.command('usermanager:delete-user <login>').description('delete a user (never the last super user)')).action((login: string, options: TenantFlags) =>
    withPlatform((platform) =>
      inScope(platform, options, async (ctx) => {
        await deleteUser(ctx, login);
        io.out(`Deleted user ${login} from ${where(ctx)}.`);
      }),
    ),
  );

  for (const [name, active, done] of [['usermanager:deactivate-user', false, 'Deactivated'], ['usermanager:reactivate-user', true, 'Reactivated']] as const) {
    tenantOptions(
      program.command(`${name} <login>`).description(active ? 'let a deactivated user sign in again (its tokens work again)' : 'stop a user from signing in; its sessions end and its tokens are refused'),
    ).action((login: string, options: TenantFlags) =>
      withPlatform((platform) =>
        inScope(platform, options, async (ctx) => {
          await setUserActive(ctx, login, active);
          io.out(`${done} user ${login} in ${where(ctx)}.`);
        }),
      ),
    );
  }

  tenantOptions(program.command('usermanager:regenerate-token <login>').description("delete a user's API tokens and print a new one (shown once)")).action(
    (login: string, options: TenantFlags) =>
      withPlatform((platform) =>
        inScope(platform, options, async (ctx) => {
          const db = identityDbFor(ctx.platform, ctx.scope);
          const user = await requireUser(db, login);
          const deleted = await deleteAllTokens(db, user.id);
          const { token, info } = await createToken(db, ctx.platform.secret, user.id, { description: 'Created by usermanager:regenerate-token' });
          await recordAudit(ctx, 'token.rotated', { after: { login, deleted, tokenId: info.id } });
          io.out(token);
        }),
      ),
  );

  tenantOptions(program.command('security:unblock-ip <ip>').description('lift a brute-force block on an IP address')).action((ip: string, options: TenantFlags) =>
    withPlatform((platform) =>
      inScope(platform, options, async (ctx) => {
        await unblockIp(identityDbFor(ctx.platform, ctx.scope), ip);
        await recordAudit(ctx, 'security.ip_unblocked', { after: { ip } });
        io.out(`Unblocked ${ip} in ${where(ctx)}.`);
      }),
    ),
  );

  tenantOptions(program.command('auditlog:verify').description('check the hash chain of the audit log (the platform\'s without --tenant)')).action((options: TenantFlags) =>
    withPlatform((platform) =>
      inScope(platform, options, async (ctx) => {
        const result = await verifyAuditChain(scopeAuditDb(ctx));
        if (!result.ok) throw new PluraError('invalid_input', `The audit log of ${where(ctx)} was tampered with: ${result.problem ?? 'unknown problem'}`);
        io.out(`The audit log of ${where(ctx)} is intact (${result.checked} entries checked).`);
      }),
    ),
  );

  tenantOptions(
    program
      .command('auditlog:export')
      .description('export the audit log to a file (CSV or JSON)')
      .requiredOption('--output-file <file>', 'where to write')
      .option('--format <format>', 'csv or json (default: from the file name, else csv)')
      .option('--user <login>', 'only this actor')
      .option('--from <date>', 'from this day (YYYY-MM-DD)')
      .option('--to <date>', 'to this day (YYYY-MM-DD)')
      .option('--action <actions>', 'only these actions (comma list; prefix.* allowed)'),
  ).action((options: TenantFlags & { outputFile: string; format?: string; user?: string; from?: string; to?: string; action?: string }) =>
    withPlatform((platform) =>
      inScope(platform, options, async (ctx) => {
        const format = options.format ?? (options.outputFile.endsWith('.json') ? 'json' : 'csv');
        if (format !== 'csv' && format !== 'json') throw new PluraError('invalid_input', `--format must be csv or json, not "${format}".`);
        const { entries } = await findAuditEntries(scopeAuditDb(ctx), {
          user: options.user,
          from: options.from,
          to: options.to,
          actions: options.action?.split(','),
          limit: -1,
        });
        writeFileSync(options.outputFile, format === 'json' ? auditEntriesToJson(entries) : auditEntriesToCsv(entries));
        io.out(`Wrote ${entries.length} audit entries of ${where(ctx)} to ${options.outputFile}.`);
      }),
    ),
  );
}
