import type { Command } from 'commander';
import { PluraError } from '../core/errors.js';
import type { Kysely } from 'kysely';
import type { UserTable } from '../access/identity.tables.js';
import type { Platform } from '../platform/platform.js';
import { PLATFORM_UNIT, presentSubscription, sendAllDue, sendDueInTenant, type DueRunResult, type SubscriptionView } from '../workspace/subscriptions.js';
import type { SubscriptionTable } from '../workspace/workspace.tables.js';
import type { CliKit } from './identity.commands.js';

interface TenantFlags {
  readonly tenant?: string;
  readonly matomoDomain?: string;
}

type ListDb = Kysely<{ subscription: SubscriptionTable; user: UserTable }>;

interface ListedSubscription extends SubscriptionView {
  /** The tenant slug, or `(platform)` for platform users' subscriptions. */
  readonly unit: string;
  readonly login: string;
  /** The tenant a platform admin subscribed in. */
  readonly actingTenant: string | null;
}

async function listIn(db: ListDb, unit: string): Promise<ListedSubscription[]> {
  const rows = await db
    .selectFrom('subscription')
    .innerJoin('user', 'user.id', 'subscription.user_id')
    .selectAll('subscription')
    .select('user.login as login')
    .orderBy('subscription.next_run_at')
    .execute();
  return rows.map((row) => ({ ...presentSubscription(row), unit, login: row.login, actingTenant: row.acting_tenant }));
}

async function listAll(platform: Platform, only: string | undefined): Promise<ListedSubscription[]> {
  if (only !== undefined) {
    const tenant = await platform.tenants.get(only);
    return platform.withStore(tenant, (store) => listIn(store.db as unknown as ListDb, tenant.slug));
  }
  const listed = await listIn(platform.registry.db as unknown as ListDb, PLATFORM_UNIT);
  for (const tenant of await platform.tenants.list()) listed.push(...(await platform.withStore(tenant, (store) => listIn(store.db as unknown as ListDb, tenant.slug))));
  return listed;
}

function scheduleText(view: SubscriptionView): string {
  const hour = `${String(view.hour).padStart(2, '0')}:00`;
  const days = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  if (view.frequency === 'weekly') return `weekly ${days[view.weekday ?? 1] ?? ''} ${hour}`;
  if (view.frequency === 'monthly') return `monthly day ${view.monthDay ?? 1} ${hour}`;
  return `daily ${hour}`;
}

function resultLine(result: DueRunResult): string {
  return `${result.unit}: ${result.sent} sent, ${result.failed} failed${result.skipped > 0 ? `, ${result.skipped} left to another run` : ''}`;
}

/** subscriptions:send-due and subscriptions:list: scheduled email reports from the shell. */
export function registerSubscriptionsCommands(program: Command, kit: CliKit): void {
  const { io, withPlatform, tenantOptions, formatOption } = kit;

  tenantOptions(
    program
      .command('subscriptions:send-due')
      .description("send the email subscriptions that are due now, once (what the server's scheduler does every Mail.subscriptions_interval_seconds); all tenants and platform users without --tenant")
      .addOption(formatOption()),
  ).action((options: TenantFlags & { format: 'text' | 'json' }) =>
    withPlatform(async (platform) => {
      const name = options.tenant ?? options.matomoDomain;
      const results = name !== undefined ? [await sendDueInTenant(platform, await platform.tenants.get(name))] : await sendAllDue(platform);
      if (options.format === 'json') io.out(JSON.stringify(results, null, 2));
      else {
        for (const result of results) {
          io.out(resultLine(result));
          for (const failure of result.failures) io.err(`${result.unit} subscription ${failure.id}: ${failure.error}`);
        }
      }
      // Each failure is recorded in its subscription's last_error; mail failures are retried on the next run.
      const failed = results.reduce((sum, result) => sum + result.failed, 0);
      if (failed > 0) throw new PluraError('invalid_input', `${failed} subscription${failed === 1 ? '' : 's'} could not be sent (see above).`);
    }),
  );

  tenantOptions(
    program
      .command('subscriptions:list')
      .description('list email subscriptions with their schedule, next run, last send and last error (all tenants and platform users without --tenant)')
      .addOption(formatOption()),
  ).action((options: TenantFlags & { format: 'text' | 'json' }) =>
    withPlatform(async (platform) => {
      const listed = await listAll(platform, options.tenant ?? options.matomoDomain);
      if (options.format === 'json') return io.out(JSON.stringify(listed, null, 2));
      if (listed.length === 0) return io.out('No subscriptions.');
      for (const entry of listed) {
        const where = entry.actingTenant ? `${entry.unit} (in ${entry.actingTenant})` : entry.unit;
        io.out(
          [
            entry.id,
            where,
            entry.login,
            `item ${entry.itemId}`,
            `${scheduleText(entry)} ${entry.timezone}`,
            entry.enabled ? `next ${entry.nextRunAt}` : 'disabled',
            `last sent ${entry.lastSentAt ?? 'never'}`,
            ...(entry.lastError ? [`last error ${entry.lastError}`] : []),
            `to ${entry.recipients.join(', ')}`,
          ].join('  '),
        );
      }
    }),
  );
}
