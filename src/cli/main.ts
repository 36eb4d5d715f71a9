import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import pino from 'pino';
import { PluraError, describeError, isPluraError } from '../core/errors.js';
import { defaultDataDir } from '../core/paths.js';
import { startServer } from '../http/server.js';
import { openPlatform, type Platform } from '../platform/platform.js';
import { formatSettingValue, isSecretSetting, parseSettingName } from '../settings/settings.js';
import { auditTenantChange } from '../tenancy/administration.js';
import { listSites } from '../sites/sites.service.js';
import { describeStorage, type Tenant } from '../tenancy/tenant.js';
import { registerIdentityCommands } from './identity.commands.js';
import { registerTrackingCommands } from './tracking.commands.js';
import { registerReportsCommands } from './reports.commands.js';
import { registerSsoCommands } from './sso.commands.js';
import { registerWorkspaceCommands } from './workspace.commands.js';
import { registerSubscriptionsCommands } from './subscriptions.commands.js';
import { registerCollectionsCommands } from './collections.commands.js';
import { registerTenancyCommands } from './tenancy.commands.js';
import { activateTenant, deactivateTenant } from '../tenancy/deactivation.js';
import { tenantSetupLink } from '../access/setup-links.js';
import { createSite } from '../sites/sites-access.service.js';
import { recordPlatformAudit } from '../audit/audit.service.js';
import type { Actor } from '../access/policy.js';

/** Everything done at the shell is audited as the console operator. */
const cliActor: Actor = { kind: 'system', name: 'cli' };

interface Io {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: Io = { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) };

type Format = 'text' | 'json';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Adds the options every tenant command shares: --tenant and its Matomo alias. */
function tenantOptions(command: Command): Command {
  return command
    .option('--tenant <host-or-slug>', 'the tenant, by hostname or slug')
    .option('--matomo-domain <host>', 'alias of --tenant (Matomo console habit)');
}

function formatOption(): Option {
  return new Option('--format <format>', 'output format').choices(['text', 'json']).default('text');
}

function tenantArgument(positional: string | undefined, options: { tenant?: string; matomoDomain?: string }): string {
  const value = positional ?? options.tenant ?? options.matomoDomain;
  if (!value) throw new PluraError('invalid_input', 'Name the tenant: --tenant <host-or-slug>.');
  return value;
}

function tenantLines(tenant: Tenant): string[] {
  return [
    `slug:        ${tenant.slug}`,
    `name:        ${tenant.name}`,
    `hosts:       ${tenant.hosts.join(', ')}`,
    `status:      ${tenant.status}`,
    `storage:     ${describeStorage(tenant.storage)}`,
    `attributes:  ${Object.entries({ '@tenant.slug': tenant.slug, ...tenant.attributes }).map(([k, v]) => `${k}=${v}`).join(', ')}`,
    `limits:      max users ${tenant.limits.maxUsers ?? 'unlimited'}, max sites ${tenant.limits.maxSites ?? 'unlimited'}`,
    `branding:    product ${tenant.branding.productName ?? '(default)'}, logo ${tenant.branding.logoFile ?? '(none)'}, colour ${tenant.branding.primaryColor ?? '(default)'}`,
    `language:    ${tenant.language ?? '(platform default)'}`,
    `timezone:    ${tenant.timezone ?? '(platform default)'}`,
    `created:     ${tenant.createdAt}`,
    `modified:    ${tenant.updatedAt}`,
  ];
}

function parseNullableInt(label: string) {
  return (value: string): number | null => {
    if (value === 'none' || value === 'unlimited') return null;
    if (!/^\d+$/.test(value)) throw new PluraError('invalid_input', `${label} must be a whole number or "unlimited", not "${value}".`);
    return Number(value);
  };
}

function parseAttribute(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new PluraError('invalid_input', `Attribute "${value}" must look like key=value.`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** Builds the command tree. Exported for tests; `main` runs it. */
export function buildProgram(io: Io, run: (work: Promise<void>) => void): Command {
  const program = new Command('plura')
    .description('Plura: multi-tenant web analytics that speaks Matomo\'s HTTP APIs')
    .option('--data-dir <dir>', 'data directory (default: $PLURA_DATA_DIR or ./data)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  const dataDir = (): string => (program.opts<{ dataDir?: string }>().dataDir ?? defaultDataDir());
  const withPlatform = (work: (platform: Platform) => Promise<void>): void =>
    run(
      (async () => {
        const platform = await openPlatform({ dataDir: dataDir() });
        try {
          await work(platform);
        } finally {
          await platform.close();
        }
      })(),
    );

  program
    .command('serve')
    .description('serve tracking, APIs and the web interface')
    .option('--port <port>', 'port to listen on (default: $PORT or 8080)')
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option('--data-dir <dir>', 'data directory (default: $PLURA_DATA_DIR or ./data)')
    .action((options: { port?: string; host: string; dataDir?: string }) =>
      run(
        (async () => {
          const port = Number(options.port ?? process.env.PORT ?? 8080);
          if (!Number.isInteger(port) || port < 0 || port > 65535) throw new PluraError('invalid_input', `Port "${options.port}" is not a valid port number.`);
          const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
          const server = await startServer({ dataDir: options.dataDir ?? dataDir(), port, host: options.host, logger });
          logger.info(`Plura is listening on ${server.url}`);
          await new Promise<void>((resolve) => {
            const stop = (): void => {
              void server.close().then(resolve);
            };
            process.once('SIGINT', stop);
            process.once('SIGTERM', stop);
          });
        })(),
      ),
    );

  program
    .command('tenant:create <slug>')
    .description('create a tenant with its own database and folders')
    .requiredOption('--host <host>', 'hostname the tenant answers for (repeatable)', collect, [])
    .option('--name <name>', 'display name (default: the slug)')
    .option('--storage <storage>', '"sqlite" or a postgres:// URL (default: setting database.tenant_storage)')
    .addOption(formatOption())
    .action((slug: string, options: { host: string[]; name?: string; storage?: string; format: Format }) =>
      withPlatform(async (platform) => {
        const tenant = await platform.tenants.create({ slug, hosts: options.host, ...(options.name ? { name: options.name } : {}), ...(options.storage ? { storage: options.storage } : {}) });
        await recordPlatformAudit(platform, cliActor, 'tenant.created', tenant.slug, { after: { hosts: tenant.hosts, name: tenant.name, storage: describeStorage(tenant.storage) } });
        const link = await tenantSetupLink(platform, tenant, Number(process.env.PORT ?? 8080));
        if (options.format === 'json') io.out(JSON.stringify({ ...tenant, setupLink: link }, null, 2));
        else {
          io.out(`Created tenant ${tenant.slug} for ${tenant.hosts.join(', ')}.`);
          if (link) io.out(`Create its first super user at ${link} (or: plura usermanager:create-user --tenant ${tenant.slug} ... --superuser).`);
        }
      }),
    );

  program
    .command('tenant:list')
    .description('list tenants')
    .addOption(formatOption())
    .action((options: { format: Format }) =>
      withPlatform(async (platform) => {
        const tenants = await platform.tenants.list();
        if (options.format === 'json') return io.out(JSON.stringify(tenants, null, 2));
        if (tenants.length === 0) return io.out('No tenants yet. Create one with: plura tenant:create <slug> --host <hostname>');
        for (const t of tenants) io.out(`${t.slug.padEnd(20)} ${t.status.padEnd(12)} ${t.hosts.join(', ')}`);
      }),
    );

  tenantOptions(program.command('tenant:show [tenant]').description('show one tenant').addOption(formatOption())).action(
    (positional: string | undefined, options: { tenant?: string; matomoDomain?: string; format: Format }) =>
      withPlatform(async (platform) => {
        const tenant = await platform.tenants.get(tenantArgument(positional, options));
        if (options.format === 'json') io.out(JSON.stringify(tenant, null, 2));
        else tenantLines(tenant).forEach((line) => io.out(line));
      }),
  );

  tenantOptions(
    program
      .command('tenant:update [tenant]')
      .description('change hosts, name, attributes, limits, branding, language or time zone')
      .option('--name <name>', 'display name')
      .option('--add-host <host>', 'add a hostname (repeatable)', collect, [])
      .option('--remove-host <host>', 'remove a hostname (repeatable)', collect, [])
      .option('--attribute <key=value>', 'set an attribute (repeatable)', parseAttribute, {})
      .option('--remove-attribute <key>', 'remove an attribute (repeatable)', collect, [])
      .option('--max-users <n>', 'user limit, or "unlimited"', parseNullableInt('--max-users'))
      .option('--max-sites <n>', 'site limit, or "unlimited"', parseNullableInt('--max-sites'))
      .option('--product-name <name>', 'product name shown instead of Plura ("" for the default)')
      .option('--logo <file>', 'image to use as logo (png, svg, jpg, gif, webp); "" removes it')
      .option('--primary-color <#rrggbb>', 'primary colour ("" for the default)')
      .option('--language <code>', 'interface language, e.g. en or pt-BR')
      .option('--timezone <zone>', 'default time zone, e.g. Europe/Paris'),
  ).action(
    (
      positional: string | undefined,
      options: {
        tenant?: string; matomoDomain?: string; name?: string; addHost: string[]; removeHost: string[];
        attribute: Record<string, string>; removeAttribute: string[]; maxUsers?: number | null; maxSites?: number | null;
        productName?: string; logo?: string; primaryColor?: string; language?: string; timezone?: string;
      },
    ) =>
      withPlatform(async (platform) => {
        const emptyToNull = (v: string | undefined): string | null | undefined => (v === undefined ? undefined : v === '' ? null : v);
        const before = await platform.tenants.get(tenantArgument(positional, options));
        const tenant = await platform.tenants.update(tenantArgument(positional, options), {
          ...(options.name !== undefined ? { name: options.name } : {}),
          addHosts: options.addHost,
          removeHosts: options.removeHost,
          ...(Object.keys(options.attribute).length || options.removeAttribute.length ? { attributes: options.attribute, removeAttributes: options.removeAttribute } : {}),
          ...(options.maxUsers !== undefined ? { maxUsers: options.maxUsers } : {}),
          ...(options.maxSites !== undefined ? { maxSites: options.maxSites } : {}),
          ...(options.productName !== undefined ? { productName: emptyToNull(options.productName) ?? null } : {}),
          ...(options.logo !== undefined ? { logoPath: emptyToNull(options.logo) ?? null } : {}),
          ...(options.primaryColor !== undefined ? { primaryColor: emptyToNull(options.primaryColor) ?? null } : {}),
          ...(options.language !== undefined ? { language: emptyToNull(options.language) ?? null } : {}),
          ...(options.timezone !== undefined ? { timezone: emptyToNull(options.timezone) ?? null } : {}),
        });
        await recordPlatformAudit(platform, cliActor, 'tenant.updated', tenant.slug, { before, after: tenant });
        io.out(`Updated tenant ${tenant.slug}.`);
      }),
  );

  tenantOptions(
    program
      .command('tenant:deactivate [tenant]')
      .description('deactivate a tenant: its hosts refuse every request (tracking too), all its users are deactivated (sessions end, tokens refused); no data is deleted')
      .addOption(formatOption()),
  ).action((positional: string | undefined, options: { tenant?: string; matomoDomain?: string; format: Format }) =>
    withPlatform(async (platform) => {
      const result = await deactivateTenant(platform, cliActor, tenantArgument(positional, options));
      if (options.format === 'json') return io.out(JSON.stringify({ slug: result.tenant.slug, status: result.tenant.status, changed: result.changed, usersDeactivated: result.deactivated }, null, 2));
      io.out(result.changed ? `Deactivated tenant ${result.tenant.slug}.` : `Tenant ${result.tenant.slug} was deactivated already.`);
      if (result.deactivated.length > 0) io.out(`Deactivated its users (sessions ended, tokens refused): ${result.deactivated.join(', ')}.`);
    }),
  );

  tenantOptions(
    program
      .command('tenant:activate [tenant]')
      .description('activate a tenant again: its hosts serve it and exactly the users its deactivation deactivated are active again (tokens work again)')
      .addOption(formatOption()),
  ).action((positional: string | undefined, options: { tenant?: string; matomoDomain?: string; format: Format }) =>
    withPlatform(async (platform) => {
      const result = await activateTenant(platform, cliActor, tenantArgument(positional, options));
      if (options.format === 'json') return io.out(JSON.stringify({ slug: result.tenant.slug, status: result.tenant.status, changed: result.changed, usersReactivated: result.reactivated, stillDeactivated: result.stillDeactivated }, null, 2));
      io.out(result.changed ? `Activated tenant ${result.tenant.slug}.` : `Tenant ${result.tenant.slug} was active already.`);
      if (result.reactivated.length > 0) io.out(`Active again (tokens work again): ${result.reactivated.join(', ')}.`);
      if (result.stillDeactivated.length > 0) io.out(`Still deactivated (by an admin, or by the single-tenant strategy): ${result.stillDeactivated.join(', ')}.`);
    }),
  );

  tenantOptions(
    program.command('tenant:delete [tenant]').description('delete a tenant and all its data').option('--force', 'confirm the deletion'),
  ).action((positional: string | undefined, options: { tenant?: string; matomoDomain?: string; force?: boolean }) =>
    withPlatform(async (platform) => {
      const tenant = await platform.tenants.delete(tenantArgument(positional, options), { force: options.force === true });
      await recordPlatformAudit(platform, cliActor, 'tenant.deleted', tenant.slug, { before: { hosts: tenant.hosts, name: tenant.name } });
      io.out(`Deleted tenant ${tenant.slug} and all its data.`);
    }),
  );

  tenantOptions(
    program
      .command('site:add')
      .description('add a site (website or app) to a tenant')
      .requiredOption('--name <name>', 'site name')
      .requiredOption('--url <url>', 'main URL, e.g. https://example.com')
      .option('--timezone <zone>', 'time zone (default: the tenant\'s)')
      .option('--currency <code>', 'ISO 4217 currency (default: setting General.default_currency)')
      .addOption(formatOption()),
  ).action((options: { tenant?: string; matomoDomain?: string; name: string; url: string; timezone?: string; currency?: string; format: Format }) =>
    withPlatform(async (platform) => {
      const tenant = await platform.tenants.get(tenantArgument(undefined, options));
      const settings = platform.settings.forTenant(tenant.slug);
      // Through the sites service, so the site is audited like one added over the API.
      const view = await platform.withStore(tenant, (store) =>
        createSite(
          { platform, scope: { kind: 'tenant', tenant, store }, actor: { kind: 'system', name: 'cli' }, ip: null },
          {
            name: options.name,
            urls: [options.url],
            timezone: options.timezone ?? tenant.timezone ?? settings.get('General.default_timezone'),
            currency: options.currency ?? settings.get('General.default_currency'),
          },
        ),
      );
      const site = { id: view.idsite, name: view.name, mainUrl: view.main_url, timezone: view.timezone, currency: view.currency, createdAt: view.ts_created };
      if (options.format === 'json') io.out(JSON.stringify(site, null, 2));
      else io.out(`Added site ${site.id} (${site.name}) to tenant ${tenant.slug}.`);
    }),
  );

  tenantOptions(program.command('site:list').description('list the sites of a tenant').addOption(formatOption())).action(
    (options: { tenant?: string; matomoDomain?: string; format: Format }) =>
      withPlatform(async (platform) => {
        const tenant = await platform.tenants.get(tenantArgument(undefined, options));
        const sites = await platform.withStore(tenant, (store) => listSites(store));
        if (options.format === 'json') return io.out(JSON.stringify(sites, null, 2));
        if (sites.length === 0) return io.out(`Tenant ${tenant.slug} has no sites yet. Add one with: plura site:add --tenant ${tenant.slug} --name N --url U`);
        for (const s of sites) io.out(`${String(s.id).padEnd(5)} ${s.name.padEnd(30)} ${s.mainUrl}  ${s.timezone} ${s.currency}`);
      }),
  );

  tenantOptions(program.command('core:update').description('apply pending database migrations to every tenant (or one)')).action(
    (options: { tenant?: string; matomoDomain?: string }) =>
      run(
        (async () => {
          const platform = await openPlatform({ dataDir: dataDir() });
          let failures = 0;
          try {
            const only = options.tenant ?? options.matomoDomain;
            const tenants = only ? [await platform.tenants.get(only)] : await platform.tenants.list();
            io.out('Registry: up to date.');
            for (const tenant of tenants) {
              try {
                const report = await platform.tenants.migrate(tenant);
                io.out(`${tenant.slug}: ${report.applied.length ? `applied ${report.applied.join(', ')}` : 'up to date'}`);
              } catch (error) {
                failures += 1;
                io.err(`${tenant.slug}: FAILED: ${describeError(error)}`);
              }
            }
          } finally {
            await platform.close();
          }
          if (failures > 0) throw new PluraError('migration_failed', `${failures} tenant(s) could not be updated; the others are up to date.`);
        })(),
      ),
  );

  tenantOptions(program.command('cache:clear').description("clear one tenant's tmp/ folder (no one else's)")).action(
    (options: { tenant?: string; matomoDomain?: string }) =>
      withPlatform(async (platform) => {
        const tenant = await platform.tenants.get(tenantArgument(undefined, options));
        platform.tenants.clearCache(tenant);
        io.out(`Cleared the cache of tenant ${tenant.slug}.`);
      }),
  );

  const settingsScope = async (platform: Platform, options: { tenant?: string; matomoDomain?: string }): Promise<string | undefined> => {
    const which = options.tenant ?? options.matomoDomain;
    return which ? (await platform.tenants.get(which)).slug : undefined;
  };

  tenantOptions(program.command('config:list').description('every setting, its value and the layer it came from').addOption(formatOption())).action(
    (options: { tenant?: string; matomoDomain?: string; format: Format }) =>
      withPlatform(async (platform) => {
        const slug = await settingsScope(platform, options);
        const view = slug ? platform.settings.forTenant(slug) : platform.settings;
        const list = view.list();
        if (options.format === 'json') return io.out(JSON.stringify(list, null, 2));
        for (const s of list) io.out(`${s.name.padEnd(36)} = ${formatSettingValue(s.value).padEnd(24)} [${s.layer}: ${s.source}]`);
        for (const warning of view.warnings) io.err(`warning: ${warning}`);
      }),
  );

  tenantOptions(program.command('config:get <name>').description('one setting (Section.key)')).action(
    (name: string, options: { tenant?: string; matomoDomain?: string }) =>
      withPlatform(async (platform) => {
        const slug = await settingsScope(platform, options);
        const view = slug ? platform.settings.forTenant(slug) : platform.settings;
        io.out(formatSettingValue(view.resolve(parseSettingName(name)).value));
      }),
  );

  tenantOptions(program.command('config:set <name> <value>').description('write a setting into common.ini, or the tenant\'s config.ini with --tenant')).action(
    (name: string, value: string, options: { tenant?: string; matomoDomain?: string }) =>
      withPlatform(async (platform) => {
        const slug = await settingsScope(platform, options);
        const settingName = parseSettingName(name);
        const before = (slug ? platform.settings.forTenant(slug) : platform.settings).get(settingName);
        const file = platform.settings.set(name, value, slug ? { tenant: slug } : {});
        // Secrets never enter the audit log, only the fact that they changed.
        const secret = isSecretSetting(settingName);
        const change = { before: { [name]: secret ? '(redacted)' : before }, after: { [name]: secret ? '(redacted)' : value } };
        if (slug) await auditTenantChange(platform, await platform.tenants.get(slug), cliActor, null, 'settings.changed', change);
        else await recordPlatformAudit(platform, cliActor, 'settings.changed', null, change);
        io.out(`Wrote ${name} to ${file}.`);
      }),
  );

  registerIdentityCommands(program, { io, withPlatform, tenantOptions, formatOption });
  registerTrackingCommands(program, { io, withPlatform, tenantOptions, formatOption });
  registerReportsCommands(program, { io, withPlatform, tenantOptions, formatOption });
  registerSsoCommands(program, { io, withPlatform, tenantOptions, formatOption });
  registerWorkspaceCommands(program, { io, withPlatform, tenantOptions, formatOption });
  registerSubscriptionsCommands(program, { io, withPlatform, tenantOptions, formatOption });
  registerCollectionsCommands(program, { io, withPlatform, tenantOptions, formatOption });
  registerTenancyCommands(program, { io, withPlatform, tenantOptions, formatOption });

  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[], io: Io = consoleIo): Promise<number> {
  let work: Promise<void> | undefined;
  const program = buildProgram(io, (promise) => {
    work = promise;
  });
  try {
    await program.parseAsync([...argv]);
    if (work) await work;
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (isPluraError(error)) {
      io.err(`Error: ${error.message}`);
      return 1;
    }
    io.err(`Error: ${describeError(error)}`);
    return 1;
  }
}

// Run directly (tsx src/cli/main.ts ...), not when imported by bin/plura.js or tests.
const invokedPath = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invokedPath === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv);
}
