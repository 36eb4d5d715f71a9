import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Kysely, Selectable } from 'kysely';
import { PluraError, isPluraError } from '../core/errors.js';
import { actorForUser } from '../access/actors.js';
import { identityDbFor, type ActContext, type Scope } from '../access/context.js';
import type { UserTable } from '../access/identity.tables.js';
import { actorLabel, can, decideSubscribe, decideSubscriptionRecipients, type Actor } from '../access/policy.js';
import { recordAudit, recordPlatformAudit } from '../audit/audit.service.js';
import type { RequestAuth } from '../http/request-context.js';
import type { Platform } from '../platform/platform.js';
import { addDays, dayInZone, offsetSeconds, resolvePeriods } from '../reports/periods.js';
import type { Tenant } from '../tenancy/tenant.js';
import { composeReportMail, isMailAddress, MailError, mailSettingsFor, sendMail, type ReportMailFormat, type ReportSection } from './mail.js';
import { runReport } from './workspace.routes.js';
import { actorGroups, auditWorkspace, presentItem, requireItem, type DashboardDefinition, type SavedReportDefinition } from './workspace.service.js';
import type { SubscriptionTable, UserGroupTable } from './workspace.tables.js';

/**
 * Scheduled email reports. A user whose groups allow it subscribes to a dashboard or
 * saved report it can view; at the chosen hour of its site's (or tenant's) time zone
 * the report is run *as that user* through the Matomo API dispatcher (its rights and
 * row-level filters apply) and mailed with the tenant's `[Mail]` settings. Each due
 * run is claimed with one conditional UPDATE, so several processes send it once.
 */

// ---------------------------------------------------------------------------
// Schedules and time zones.

export const frequencies = ['daily', 'weekly', 'monthly'] as const;
export type Frequency = (typeof frequencies)[number];
export const reportFormats: readonly ReportMailFormat[] = ['html_csv', 'html', 'csv'];
export const reportPeriods = ['day', 'week', 'month', 'year', 'range'] as const;

export interface Schedule {
  readonly frequency: Frequency;
  /** 0-23, local time. */
  readonly hour: number;
  /** ISO weekday 1 (Monday) to 7 (Sunday); weekly only. */
  readonly weekday: number | null;
  /** 1-31; months shorter than that send on their last day. Monthly only. */
  readonly monthDay: number | null;
}

const isFrequency = (value: string): value is Frequency => (frequencies as readonly string[]).includes(value);
const isFormat = (value: string): value is ReportMailFormat => (reportFormats as readonly string[]).includes(value);

function isoWeekday(day: string): number {
  return ((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;
}

function lastDayOfMonth(day: string): number {
  const date = new Date(`${day}T00:00:00Z`);
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
}

function scheduledOn(schedule: Schedule, day: string): boolean {
  switch (schedule.frequency) {
    case 'daily':
      return true;
    case 'weekly':
      return isoWeekday(day) === (schedule.weekday ?? 1);
    case 'monthly':
      return Number(day.slice(8, 10)) === Math.min(schedule.monthDay ?? 1, lastDayOfMonth(day));
  }
}

/** The instant a local wall-clock hour of `day` happens in `timezone` (an hour skipped by daylight saving falls on the next one). */
export function zonedHour(timezone: string, day: string, hour: number): number {
  const wall = Date.parse(`${day}T00:00:00Z`) + hour * 3_600_000;
  const guess = wall - offsetSeconds(timezone, wall) * 1000;
  return wall - offsetSeconds(timezone, guess) * 1000;
}

/** The first scheduled instant strictly after `afterMs`, in `timezone`. */
export function nextRunAfter(schedule: Schedule, afterMs: number, timezone: string): number {
  // Start a day early: the local day of `afterMs` may be ahead of or behind UTC's.
  let day = addDays(dayInZone(timezone, afterMs), -1);
  for (let i = 0; i < 400; i += 1, day = addDays(day, 1)) {
    if (!scheduledOn(schedule, day)) continue;
    const at = zonedHour(timezone, day, schedule.hour);
    if (at > afterMs) return at;
  }
  throw new PluraError('invalid_input', 'This schedule never comes due.');
}

export function validateSchedule(input: { frequency: string; hour?: number | undefined; weekday?: number | null | undefined; monthDay?: number | null | undefined }): Schedule {
  if (!isFrequency(input.frequency)) throw new PluraError('invalid_input', `The frequency must be one of ${frequencies.join(', ')}, not "${input.frequency}".`);
  const hour = input.hour ?? 6;
  if (!Number.isInteger(hour) || hour < 0 || hour > 23) throw new PluraError('invalid_input', `The hour must be a whole number from 0 to 23, not ${hour}.`);
  const weekday = input.frequency === 'weekly' ? (input.weekday ?? 1) : null;
  if (weekday !== null && (!Number.isInteger(weekday) || weekday < 1 || weekday > 7)) throw new PluraError('invalid_input', `The weekday must be 1 (Monday) to 7 (Sunday), not ${weekday}.`);
  const monthDay = input.frequency === 'monthly' ? (input.monthDay ?? 1) : null;
  if (monthDay !== null && (!Number.isInteger(monthDay) || monthDay < 1 || monthDay > 31)) throw new PluraError('invalid_input', `The day of the month must be 1 to 31, not ${monthDay}.`);
  return { frequency: input.frequency, hour, weekday, monthDay };
}

function scheduleOf(row: SubscriptionRow): Schedule {
  return validateSchedule({ frequency: row.frequency, hour: row.hour, weekday: row.weekday, monthDay: row.month_day });
}

/** The site's time zone when the subscriber may see that one site, else the tenant's, else the default. */
async function scheduleTimezone(platform: Platform, scope: Scope, actor: Actor, idSite: string | undefined): Promise<string> {
  if (scope.kind !== 'tenant') return platform.settings.get('General.default_timezone');
  if (idSite !== undefined && /^\d+$/.test(idSite) && can(actor, 'view_reports', { kind: 'site', tenant: scope.tenant.slug, siteId: Number(idSite) })) {
    const site = await scope.store.db.selectFrom('site').select('timezone').where('id', '=', Number(idSite)).executeTakeFirst();
    if (site) return site.timezone;
  }
  return scope.tenant.timezone ?? platform.settings.forTenant(scope.tenant.slug).get('General.default_timezone');
}

// ---------------------------------------------------------------------------
// Where subscriptions live: beside their owner.

type SubscriptionRow = Selectable<SubscriptionTable>;
type SubscriptionDb = Kysely<{ subscription: SubscriptionTable; user: UserTable; user_group: UserGroupTable }>;

/** The store of a scope's own users: the tenant store, or the registry for platform users. */
interface Home {
  readonly db: SubscriptionDb;
  readonly where: 'tenant' | 'registry';
  readonly userId: number;
  /** Registry rows of a platform admin acting in a tenant name that tenant. */
  readonly actingTenant: string | null;
}

function homeOf(ctx: ActContext): Home {
  const actor = ctx.actor;
  if (actor.kind === 'tenant_user' && ctx.scope.kind === 'tenant') {
    return { db: ctx.scope.store.db as unknown as SubscriptionDb, where: 'tenant', userId: actor.userId, actingTenant: null };
  }
  if (actor.kind === 'platform_user') {
    return { db: ctx.platform.registry.db as unknown as SubscriptionDb, where: 'registry', userId: actor.userId, actingTenant: actor.actingIn };
  }
  throw new PluraError(actor.kind === 'anonymous' ? 'unauthenticated' : 'forbidden', 'Sign in as a user to subscribe to reports: subscriptions belong to a user.');
}

const identityScopeOf = (where: 'tenant' | 'registry', scope: Scope): Scope => (where === 'tenant' ? scope : { kind: 'platform' });

/** The policy's facts: the actor's groups and which of them let members subscribe. */
async function subscribeFacts(ctx: ActContext): Promise<{ groups: { name: string; canSubscribe: boolean }[] }> {
  const groups = await actorGroups(ctx);
  if (groups.size === 0) return { groups: [] };
  const rows = await ctx.platform.registry.db.selectFrom('user_group').select(['name', 'can_subscribe']).where('id', 'in', [...groups.keys()]).orderBy('name').execute();
  return { groups: rows.map((row) => ({ name: row.name, canSubscribe: row.can_subscribe === 1 })) };
}

async function requireMaySubscribe(ctx: ActContext): Promise<void> {
  const decision = decideSubscribe(ctx.actor, await subscribeFacts(ctx));
  if (!decision.allowed) throw new PluraError('forbidden', `You may not subscribe to email reports: ${decision.reason}. A platform admin can allow it for one of your groups.`);
}

/** Recipients, checked: at most 20 plain addresses, without duplicates; other people's only for super users. */
function checkRecipients(actor: Actor, ownEmail: string, recipients: readonly string[]): string[] {
  const unique: string[] = [];
  for (const raw of recipients) {
    const address = raw.trim();
    if (!isMailAddress(address)) throw new PluraError('invalid_input', `"${address.slice(0, 100)}" is not an email address a report can be sent to.`);
    if (!unique.some((known) => known.toLowerCase() === address.toLowerCase())) unique.push(address);
  }
  if (unique.length === 0) throw new PluraError('invalid_input', 'Name at least one recipient.');
  if (unique.length > MAX_RECIPIENTS) throw new PluraError('invalid_input', `A subscription may have at most ${MAX_RECIPIENTS} recipients, not ${unique.length}.`);
  const decision = decideSubscriptionRecipients(actor, ownEmail, unique);
  if (!decision.allowed) throw new PluraError('forbidden', `These recipients are not allowed: ${decision.reason}.`);
  return unique;
}

const MAX_RECIPIENTS = 20;
const MAX_PER_USER = 100;

// ---------------------------------------------------------------------------
// REST operations (the owner's own subscriptions).

export interface SubscriptionView {
  readonly id: string;
  readonly itemId: string;
  readonly recipients: string[];
  readonly frequency: Frequency;
  readonly hour: number;
  readonly weekday: number | null;
  readonly monthDay: number | null;
  readonly timezone: string;
  readonly idSite: string | null;
  readonly period: string;
  readonly date: string;
  readonly format: ReportMailFormat;
  readonly enabled: boolean;
  readonly nextRunAt: string;
  readonly lastSentAt: string | null;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

function recipientsOf(row: SubscriptionRow): string[] {
  const parsed: unknown = JSON.parse(row.recipients);
  return Array.isArray(parsed) ? parsed.filter((value): value is string => typeof value === 'string') : [];
}

export function presentSubscription(row: SubscriptionRow): SubscriptionView {
  return {
    id: row.id,
    itemId: row.item_id,
    recipients: recipientsOf(row),
    frequency: isFrequency(row.frequency) ? row.frequency : 'daily',
    hour: row.hour,
    weekday: row.weekday,
    monthDay: row.month_day,
    timezone: row.timezone,
    idSite: row.id_site,
    period: row.period,
    date: row.date,
    format: isFormat(row.format) ? row.format : 'html_csv',
    enabled: row.enabled === 1,
    nextRunAt: row.next_run_at,
    lastSentAt: row.last_sent_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface SubscriptionInput {
  readonly recipients?: readonly string[] | undefined;
  readonly frequency?: string | undefined;
  readonly hour?: number | undefined;
  readonly weekday?: number | undefined;
  readonly monthDay?: number | undefined;
  readonly idSite?: string | undefined;
  readonly period?: string | undefined;
  readonly date?: string | undefined;
  readonly format?: string | undefined;
  readonly enabled?: boolean | undefined;
}

const defaultPeriod: Readonly<Record<Frequency, string>> = { daily: 'day', weekly: 'week', monthly: 'month' };

function checkReportChoice(idSite: string | null, period: string, date: string): void {
  if (idSite !== null && !/^(all|\d{1,9}(,\d{1,9}){0,99})$/.test(idSite)) throw new PluraError('invalid_input', `idSite must be a site id, a comma-separated list of them, or all, not "${idSite.slice(0, 50)}".`);
  // The same grammar the report will be run with: a bad period or date is refused now, not at 6 am.
  resolvePeriods(period, date, 'UTC');
}

function savedReportSite(definition: unknown): string | undefined {
  const params = (definition as Partial<SavedReportDefinition> | null)?.params;
  return params && typeof params['idSite'] === 'string' ? params['idSite'] : undefined;
}

async function ownEmail(ctx: ActContext, home: Home): Promise<string> {
  const user = await identityDbFor(ctx.platform, identityScopeOf(home.where, ctx.scope)).selectFrom('user').select('email').where('id', '=', home.userId).executeTakeFirst();
  return user?.email ?? '';
}

export async function listSubscriptions(ctx: ActContext): Promise<SubscriptionView[]> {
  const home = homeOf(ctx);
  const rows = await home.db.selectFrom('subscription').selectAll().where('user_id', '=', home.userId).where('acting_tenant', home.actingTenant === null ? 'is' : '=', home.actingTenant).orderBy('created_at').execute();
  return rows.map(presentSubscription);
}

/** One of the caller's own subscriptions; anyone else's answers like a missing one (404). */
async function requireOwn(ctx: ActContext, id: string): Promise<{ home: Home; row: SubscriptionRow }> {
  const home = homeOf(ctx);
  const row = await home.db
    .selectFrom('subscription')
    .selectAll()
    .where('id', '=', id)
    .where('user_id', '=', home.userId)
    .where('acting_tenant', home.actingTenant === null ? 'is' : '=', home.actingTenant)
    .executeTakeFirst();
  if (!row) throw new PluraError('not_found', `There is no subscription "${id.slice(0, 64)}" of yours here.`);
  return { home, row };
}

export async function getSubscription(ctx: ActContext, id: string): Promise<SubscriptionView> {
  return presentSubscription((await requireOwn(ctx, id)).row);
}

export async function createSubscription(ctx: ActContext, input: SubscriptionInput & { itemId: string }): Promise<SubscriptionView> {
  const home = homeOf(ctx);
  await requireMaySubscribe(ctx);
  const item = await requireItem(ctx, input.itemId, 'view');
  const count = await home.db.selectFrom('subscription').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', home.userId).executeTakeFirstOrThrow();
  if (Number(count.n) >= MAX_PER_USER) throw new PluraError('limit_reached', `A user may have at most ${MAX_PER_USER} subscriptions.`);
  const email = await ownEmail(ctx, home);
  const recipients = checkRecipients(ctx.actor, email, input.recipients ?? [email]);
  const schedule = validateSchedule({ frequency: input.frequency ?? 'daily', hour: input.hour, weekday: input.weekday, monthDay: input.monthDay });
  const idSite = input.idSite ?? null;
  const period = input.period ?? defaultPeriod[schedule.frequency];
  const date = input.date ?? 'yesterday';
  checkReportChoice(idSite, period, date);
  const format = input.format ?? 'html_csv';
  if (!isFormat(format)) throw new PluraError('invalid_input', `The format must be one of ${reportFormats.join(', ')}, not "${format}".`);
  const timezone = await scheduleTimezone(ctx.platform, ctx.scope, ctx.actor, idSite ?? savedReportSite(presentItem(item.row).definition));
  const now = Date.now();
  const row = await home.db
    .insertInto('subscription')
    .values({
      id: randomUUID(),
      user_id: home.userId,
      acting_tenant: home.actingTenant,
      item_id: item.row.id,
      recipients: JSON.stringify(recipients),
      frequency: schedule.frequency,
      hour: schedule.hour,
      weekday: schedule.weekday,
      month_day: schedule.monthDay,
      timezone,
      id_site: idSite,
      period,
      date,
      format,
      enabled: input.enabled === false ? 0 : 1,
      next_run_at: new Date(nextRunAfter(schedule, now, timezone)).toISOString(),
      last_sent_at: null,
      last_error: null,
      created_at: new Date(now).toISOString(),
      updated_at: new Date(now).toISOString(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const view = presentSubscription(row);
  await auditWorkspace(ctx, home.where, 'subscription.created', { after: { id: row.id, item: item.row.id, recipients, frequency: view.frequency, hour: view.hour } });
  return view;
}

export async function updateSubscription(ctx: ActContext, id: string, input: SubscriptionInput): Promise<SubscriptionView> {
  const { home, row } = await requireOwn(ctx, id);
  const before = presentSubscription(row);
  const recipients = input.recipients !== undefined ? checkRecipients(ctx.actor, await ownEmail(ctx, home), input.recipients) : undefined;
  const frequency = input.frequency ?? row.frequency;
  const schedule = validateSchedule({
    frequency,
    hour: input.hour ?? row.hour,
    weekday: input.weekday ?? (frequency === row.frequency ? row.weekday : null),
    monthDay: input.monthDay ?? (frequency === row.frequency ? row.month_day : null),
  });
  const idSite = input.idSite ?? row.id_site;
  const period = input.period ?? (input.frequency !== undefined && input.frequency !== row.frequency ? defaultPeriod[schedule.frequency] : row.period);
  const date = input.date ?? row.date;
  checkReportChoice(idSite, period, date);
  const format = input.format ?? row.format;
  if (!isFormat(format)) throw new PluraError('invalid_input', `The format must be one of ${reportFormats.join(', ')}, not "${format}".`);
  const enabled = input.enabled === undefined ? row.enabled : input.enabled ? 1 : 0;
  // A new schedule, site or re-enabling starts from now: no stale run fires at once.
  const reschedule = input.frequency !== undefined || input.hour !== undefined || input.weekday !== undefined || input.monthDay !== undefined || input.idSite !== undefined || (enabled === 1 && row.enabled === 0);
  let timezone = row.timezone;
  let nextRunAt = row.next_run_at;
  if (reschedule) {
    const item = await requireItem(ctx, row.item_id, 'view').catch((error: unknown) => {
      if (isPluraError(error)) return null;
      throw error;
    });
    timezone = await scheduleTimezone(ctx.platform, ctx.scope, ctx.actor, idSite ?? (item ? savedReportSite(presentItem(item.row).definition) : undefined));
    nextRunAt = new Date(nextRunAfter(schedule, Date.now(), timezone)).toISOString();
  }
  const updated = await home.db
    .updateTable('subscription')
    .set({
      ...(recipients !== undefined ? { recipients: JSON.stringify(recipients) } : {}),
      frequency: schedule.frequency,
      hour: schedule.hour,
      weekday: schedule.weekday,
      month_day: schedule.monthDay,
      timezone,
      id_site: idSite,
      period,
      date,
      format,
      enabled,
      next_run_at: nextRunAt,
      updated_at: new Date().toISOString(),
    })
    .where('id', '=', row.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const after = presentSubscription(updated);
  await auditWorkspace(ctx, home.where, 'subscription.updated', { before: summary(before), after: summary(after) });
  return after;
}

function summary(view: SubscriptionView): Record<string, unknown> {
  return { id: view.id, item: view.itemId, recipients: view.recipients, frequency: view.frequency, hour: view.hour, weekday: view.weekday, monthDay: view.monthDay, idSite: view.idSite, period: view.period, date: view.date, format: view.format, enabled: view.enabled };
}

export async function deleteSubscription(ctx: ActContext, id: string): Promise<void> {
  const { home, row } = await requireOwn(ctx, id);
  await home.db.deleteFrom('subscription').where('id', '=', row.id).execute();
  await auditWorkspace(ctx, home.where, 'subscription.deleted', { before: summary(presentSubscription(row)) });
}

/** Sends one of the caller's subscriptions now (to try it); the schedule is left as it is. */
export async function sendSubscriptionNow(ctx: ActContext, id: string): Promise<DeliveryOutcome> {
  const { home, row } = await requireOwn(ctx, id);
  const mailTenant = home.where === 'tenant' && ctx.scope.kind === 'tenant' ? ctx.scope.tenant : null;
  return deliver(ctx.platform, { db: home.db, where: home.where, scope: ctx.scope, mailTenant }, row, 'manual');
}

export interface GroupSubscriptionsView {
  readonly id: number;
  readonly kind: string;
  readonly name: string;
  readonly canSubscribe: boolean;
}

/** Groups are the platform's: only platform admins, on the platform host (not while acting in a tenant), see or change who may subscribe. */
function requireGroupAdmin(ctx: ActContext, what: string): void {
  if (ctx.scope.kind === 'platform' && can(ctx.actor, 'manage_platform', { kind: 'platform' })) return;
  throw new PluraError(ctx.actor.kind === 'anonymous' ? 'unauthenticated' : 'forbidden', `Only platform admins ${what}, on the platform host.`);
}

export async function groupSubscriptions(ctx: ActContext, groupId: number): Promise<GroupSubscriptionsView> {
  requireGroupAdmin(ctx, 'see which groups may subscribe');
  const group = await ctx.platform.registry.db.selectFrom('user_group').selectAll().where('id', '=', groupId).executeTakeFirst();
  if (!group) throw new PluraError('not_found', `There is no group ${groupId}.`);
  return { id: group.id, kind: group.kind, name: group.name, canSubscribe: group.can_subscribe === 1 };
}

/** Platform admins decide which groups may subscribe (`can_subscribe`); audited in the platform's log. */
export async function setGroupSubscriptions(ctx: ActContext, groupId: number, allowed: boolean): Promise<GroupSubscriptionsView> {
  requireGroupAdmin(ctx, 'decide which groups may subscribe');
  const before = await groupSubscriptions(ctx, groupId);
  await ctx.platform.registry.db.updateTable('user_group').set({ can_subscribe: allowed ? 1 : 0, updated_at: new Date().toISOString() }).where('id', '=', groupId).execute();
  await recordPlatformAudit(ctx.platform, ctx.actor, 'group.subscriptions_changed', null, { before: { group: before.name, allowed: before.canSubscribe }, after: { group: before.name, allowed } }, ctx.ip);
  return { ...before, canSubscribe: allowed };
}

// ---------------------------------------------------------------------------
// Delivery: run the report as the subscriber, mail it, record the outcome.

/** Where a subscription is delivered from: its store, the scope its reports run in, and whose mail settings apply. */
interface Place {
  readonly db: SubscriptionDb;
  readonly where: 'tenant' | 'registry';
  readonly scope: Scope;
  /** The tenant whose `[Mail]` settings apply; null: the platform's (platform users). */
  readonly mailTenant: Tenant | null;
}

export type DeliveryOutcome =
  | { readonly sent: true; readonly messageId: string; readonly recipients: readonly string[] }
  /** `retry`: the mail could not go out (worth trying on the next run); otherwise the subscription itself cannot be served now. */
  | { readonly sent: false; readonly error: string; readonly retry: boolean };

const SCHEDULER: Actor = { kind: 'system', name: 'subscriptions' };

/** Scheduled runs have no HTTP reply: the few methods that set Matomo's extra headers write into this one, which is dropped. */
function detachedReply(): FastifyReply {
  const reply = {
    header: () => reply,
    headers: () => reply,
    code: () => reply,
    status: () => reply,
    type: () => reply,
  };
  return reply as unknown as FastifyReply;
}

/** The subscriber as it is now (deactivated, demoted or removed users are caught here). */
async function subscriberContext(platform: Platform, place: Place, row: SubscriptionRow): Promise<{ ctx: ActContext; email: string }> {
  const identityScope = identityScopeOf(place.where, place.scope);
  const db = identityDbFor(platform, identityScope);
  const user = await db.selectFrom('user').selectAll().where('id', '=', row.user_id).executeTakeFirst();
  if (!user) throw new PluraError('not_found', 'The subscriber no longer exists.');
  if (user.deactivated_at !== null) throw new PluraError('user_deactivated', `The subscriber ${user.login} is deactivated.`);
  const actor = await actorForUser(identityScope, db, user, row.acting_tenant);
  return { ctx: { platform, scope: place.scope, actor, ip: null }, email: user.email };
}

async function runSections(ctx: ActContext, item: { name: string; kind: string; definition: unknown }, row: SubscriptionRow): Promise<ReportSection[]> {
  const auth: RequestAuth = { ctx, via: 'token', sessionId: null, csrfToken: null, mfaPending: false };
  const choice = { idSite: row.id_site ?? undefined, period: row.period, date: row.date };
  const run = async (report: SavedReportDefinition): Promise<ReportSection['result']> => {
    try {
      return { value: await runReport(auth, detachedReply(), report, choice) };
    } catch (error) {
      if (!isPluraError(error)) throw error;
      return { error: error.message };
    }
  };
  if (item.kind !== 'dashboard') return [{ title: item.name, filename: item.name, result: await run(item.definition as SavedReportDefinition) }];
  const sections: ReportSection[] = [];
  for (const widget of (item.definition as DashboardDefinition).widgets) {
    let report = widget.report;
    let title = widget.title ?? widget.id;
    if (!report) {
      const saved = await requireItem(ctx, widget.item ?? '', 'view').catch((error: unknown) => {
        if (isPluraError(error)) return null;
        throw error;
      });
      if (!saved) {
        sections.push({ title, filename: `${item.name}-${widget.id}`, result: { error: 'This widget names a saved report you cannot see.' } });
        continue;
      }
      report = presentItem(saved.row).definition as SavedReportDefinition;
      title = widget.title ?? saved.row.name;
    }
    sections.push({ title, filename: `${item.name}-${title}`, result: await run(report) });
  }
  return sections;
}

function coverage(row: SubscriptionRow, timezone: string): string {
  let when = `${row.period} ${row.date}`;
  try {
    const resolved = resolvePeriods(row.period, row.date, timezone);
    const first = resolved.periods[0];
    const last = resolved.periods[resolved.periods.length - 1];
    if (first && last) when = `${row.period} ${first === last ? first.label : `${first.start} to ${last.end}`}`;
  } catch {
    // The report itself says what is wrong with the date.
  }
  return row.id_site ? `${when}, site ${row.id_site}` : when;
}

async function auditDelivery(platform: Platform, place: Place, row: SubscriptionRow, action: string, after: Record<string, unknown>): Promise<void> {
  if (place.where === 'tenant') return recordAudit({ platform, scope: place.scope, actor: SCHEDULER, ip: null }, action, { after });
  return recordPlatformAudit(platform, SCHEDULER, action, row.acting_tenant, { after });
}

/**
 * Runs and mails one subscription, then records `last_sent_at` or `last_error`.
 * Never throws for a failing report, subscriber or SMTP server: the outcome says what happened.
 */
async function deliver(platform: Platform, place: Place, row: SubscriptionRow, trigger: 'schedule' | 'manual'): Promise<DeliveryOutcome> {
  let outcome: DeliveryOutcome;
  let owner = `user ${row.user_id}`;
  try {
    const { ctx, email } = await subscriberContext(platform, place, row);
    owner = actorLabel(ctx.actor);
    // Rights as they are now: the group may no longer allow it, the item may be gone, the super user demoted.
    await requireMaySubscribe(ctx);
    const recipients = checkRecipients(ctx.actor, email, recipientsOf(row));
    const item = presentItem((await requireItem(ctx, row.item_id, 'view')).row);
    const sections = await runSections(ctx, item, row);
    if (sections.length > 0 && sections.every((section) => 'error' in section.result)) {
      const first = sections[0]?.result;
      throw new PluraError('invalid_input', `The report could not be run: ${first && 'error' in first ? first.error : 'no data'}`);
    }
    const timezone = await scheduleTimezone(platform, place.scope, ctx.actor, row.id_site ?? savedReportSite(item.definition));
    const schedule = presentSubscription(row);
    const mail = composeReportMail({
      to: recipients,
      title: item.name,
      covers: coverage(row, timezone),
      sections,
      format: schedule.format,
      footer: `Sent to ${recipients.join(', ')} for ${owner}'s ${schedule.frequency} subscription (${trigger === 'manual' ? 'sent on request' : `${String(schedule.hour).padStart(2, '0')}:00 ${timezone}`}).`,
    });
    const receipt = await sendMail(mailSettingsFor(platform, place.mailTenant), mail);
    outcome = { sent: true, messageId: receipt.messageId, recipients: receipt.accepted };
  } catch (error) {
    if (error instanceof MailError) outcome = { sent: false, error: error.message, retry: true };
    else if (isPluraError(error)) outcome = { sent: false, error: error.message, retry: false };
    else throw error;
  }
  const now = new Date().toISOString();
  if (outcome.sent) {
    await place.db.updateTable('subscription').set({ last_sent_at: now, last_error: null }).where('id', '=', row.id).execute();
    await auditDelivery(platform, place, row, 'subscription.sent', { id: row.id, owner, item: row.item_id, recipients: outcome.recipients, trigger });
  } else {
    await place.db.updateTable('subscription').set({ last_error: `${now}: ${outcome.error}`.slice(0, 2000) }).where('id', '=', row.id).execute();
    // A lasting outage retries every run: audit the failure once, not every minute.
    if (row.last_error?.replace(/^\S+: /, '') !== outcome.error) await auditDelivery(platform, place, row, 'subscription.failed', { id: row.id, owner, item: row.item_id, error: outcome.error, trigger });
  }
  return outcome;
}

// ---------------------------------------------------------------------------
// Due runs: claim, deliver, and retry mail failures on the next run.

/**
 * Claims a due run: moves `next_run_at` from the value this run saw to the next
 * scheduled instant, in one conditional statement. Exactly one of several racing
 * processes changes the row; the others see 0 rows and leave it alone.
 */
export async function claimSubscription(db: SubscriptionDb, row: Pick<SubscriptionRow, 'id' | 'next_run_at'>, nextRunAt: string, timezone: string): Promise<boolean> {
  const result = await db
    .updateTable('subscription')
    .set({ next_run_at: nextRunAt, timezone })
    .where('id', '=', row.id)
    .where('next_run_at', '=', row.next_run_at)
    .where('enabled', '=', 1)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export interface DueRunResult {
  /** The tenant slug, or `(platform)` for platform users' subscriptions. */
  readonly unit: string;
  readonly sent: number;
  readonly failed: number;
  /** Due rows another process claimed first, or not sent this period because their tenant is not active. */
  readonly skipped: number;
  /** What failed, per subscription (also in its `last_error`). */
  readonly failures: readonly { readonly id: string; readonly error: string }[];
}

const BATCH = 200;

type Outcome = DeliveryOutcome | null;
/** Runs `fn` where a row is served (opening what it needs), or says why the row cannot be served now. */
type InPlace = (row: SubscriptionRow, fn: (place: Place) => Promise<Outcome>) => Promise<Outcome | { readonly unavailable: string }>;

/** The time zone the schedule follows now (the site's may have changed); the stored one when the subscriber cannot be read. */
async function currentTimezone(platform: Platform, place: Place, row: SubscriptionRow): Promise<string> {
  try {
    const { ctx } = await subscriberContext(platform, place, row);
    const item = row.id_site === null ? await requireItem(ctx, row.item_id, 'view') : null;
    return await scheduleTimezone(platform, place.scope, ctx.actor, row.id_site ?? (item ? savedReportSite(presentItem(item.row).definition) : undefined));
  } catch (error) {
    if (isPluraError(error)) return row.timezone;
    throw error;
  }
}

async function runDue(platform: Platform, unit: string, db: SubscriptionDb, inPlace: InPlace, nowMs: number): Promise<DueRunResult> {
  const nowIso = new Date(nowMs).toISOString();
  const rows = await db
    .selectFrom('subscription')
    .innerJoin('user', 'user.id', 'subscription.user_id')
    .selectAll('subscription')
    .where('subscription.enabled', '=', 1)
    .where('subscription.next_run_at', '<=', nowIso)
    // Deactivated users' subscriptions are not sent (nor claimed: reactivation resumes them).
    .where('user.deactivated_at', 'is', null)
    .orderBy('subscription.next_run_at')
    .limit(BATCH)
    .execute();
  let sent = 0;
  let failed = 0;
  let skipped = 0;
  const failures: { id: string; error: string }[] = [];
  for (const row of rows) {
    const outcome = await inPlace(row, async (place) => {
      const timezone = await currentTimezone(platform, place, row);
      const next = new Date(nextRunAfter(scheduleOf(row), nowMs, timezone)).toISOString();
      if (!(await claimSubscription(db, row, next, timezone))) return null;
      const result = await deliver(platform, place, { ...row, next_run_at: next, timezone }, 'schedule');
      // The mail did not go out: due again on the next run (unless the owner changed the schedule meanwhile).
      if (!result.sent && result.retry) await db.updateTable('subscription').set({ next_run_at: nowIso }).where('id', '=', row.id).where('next_run_at', '=', next).execute();
      return result;
    });
    if (outcome !== null && 'unavailable' in outcome) {
      // This period is not sent (its tenant is deactivated or gone); moving the row on keeps it from blocking the rows behind it.
      const next = new Date(nextRunAfter(scheduleOf(row), nowMs, row.timezone)).toISOString();
      if (await claimSubscription(db, row, next, row.timezone)) await db.updateTable('subscription').set({ last_error: `${nowIso}: ${outcome.unavailable}` }).where('id', '=', row.id).execute();
      skipped += 1;
    } else if (outcome === null) skipped += 1;
    else if (outcome.sent) sent += 1;
    else {
      failed += 1;
      failures.push({ id: row.id, error: outcome.error });
    }
  }
  return { unit, sent, failed, skipped, failures };
}

/** Sends a tenant's due subscriptions (its users'). */
export async function sendDueInTenant(platform: Platform, tenant: Tenant, options: { nowMs?: number } = {}): Promise<DueRunResult> {
  const nowMs = options.nowMs ?? Date.now();
  return platform.withStore(tenant, async (store) => {
    const place: Place = { db: store.db as unknown as SubscriptionDb, where: 'tenant', scope: { kind: 'tenant', tenant, store }, mailTenant: tenant };
    return runDue(platform, tenant.slug, place.db, (_row, fn) => fn(place), nowMs);
  });
}

export const PLATFORM_UNIT = '(platform)';

/**
 * Sends platform users' due subscriptions with the platform's mail settings; those
 * made by a platform admin acting in a tenant run in that tenant (if it is active).
 */
export async function sendDueOnPlatform(platform: Platform, options: { nowMs?: number } = {}): Promise<DueRunResult> {
  const nowMs = options.nowMs ?? Date.now();
  const db = platform.registry.db as unknown as SubscriptionDb;
  const inPlace: InPlace = async (row, fn) => {
    if (row.acting_tenant === null) return fn({ db, where: 'registry', scope: { kind: 'platform' }, mailTenant: null });
    const tenant = await platform.tenants.get(row.acting_tenant).catch((error: unknown) => {
      if (isPluraError(error)) return null;
      throw error;
    });
    if (!tenant || tenant.status !== 'active') return { unavailable: `Not sent: the tenant "${row.acting_tenant}" is ${tenant ? 'deactivated' : 'gone'}.` };
    return platform.withStore(tenant, (store) => fn({ db, where: 'registry', scope: { kind: 'tenant', tenant, store }, mailTenant: null }));
  };
  return runDue(platform, PLATFORM_UNIT, db, inPlace, nowMs);
}

/** Every unit's due subscriptions, one after another (`plura subscriptions:send-due` without --tenant). */
export async function sendAllDue(platform: Platform, options: { nowMs?: number } = {}): Promise<DueRunResult[]> {
  const results = [await sendDueOnPlatform(platform, options)];
  for (const tenant of await platform.tenants.list()) {
    if (tenant.status === 'active') results.push(await sendDueInTenant(platform, tenant, options));
  }
  return results;
}

// ---------------------------------------------------------------------------
// The in-process scheduler.

/**
 * Looks for due subscriptions every `Mail.subscriptions_interval_seconds`: the
 * platform's and each active tenant's, side by side, a few at a time. A tenant whose
 * run is slow (a hung SMTP server, a big report) holds one slot, never the others'
 * turn; the next tick starts where this one stopped, so every tenant gets its turn.
 */
export class SubscriptionScheduler {
  private readonly running = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private cursor = 0;

  constructor(
    private readonly platform: Platform,
    private readonly options: { intervalMs?: number; concurrency?: number; log?: (message: string) => void } = {},
  ) {}

  start(): void {
    const intervalMs = this.options.intervalMs ?? this.platform.settings.get('Mail.subscriptions_interval_seconds') * 1000;
    if (intervalMs <= 0) return;
    this.timer ??= setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Starts the runs of units not already running (exposed for tests); resolves once they are started. */
  async tick(nowMs = Date.now()): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const units: (Tenant | null)[] = [null, ...(await this.platform.tenants.list()).filter((tenant) => tenant.status === 'active')];
      const concurrency = this.options.concurrency ?? 4;
      const start = this.cursor % units.length;
      for (let i = 0; i < units.length && this.running.size < concurrency; i += 1) {
        const unit = units[(start + i) % units.length] ?? null;
        const key = unit?.slug ?? PLATFORM_UNIT;
        this.cursor = start + i + 1;
        if (this.running.has(key)) continue;
        const work = unit ? sendDueInTenant(this.platform, unit, { nowMs }) : sendDueOnPlatform(this.platform, { nowMs });
        const run = work
          .then((result) => {
            if (result.failed > 0) this.options.log?.(`email subscriptions of ${key}: ${result.sent} sent, ${result.failed} failed (see last_error)`);
          })
          .catch((error: unknown) => this.options.log?.(`email subscriptions of ${key} failed: ${error instanceof Error ? error.message : String(error)}`))
          .finally(() => this.running.delete(key));
        this.running.set(key, run);
      }
    } catch (error) {
      this.options.log?.(`email subscriptions: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.ticking = false;
    }
  }

  /** Resolves when the runs in progress have finished. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }

  /** Units whose run is in progress. */
  get active(): readonly string[] {
    return [...this.running.keys()];
  }
}

/** Starts the scheduler beside a server's app; closing the app stops it and waits for sends in progress. */
export function startSubscriptionScheduler(platform: Platform, app: FastifyInstance, log?: (message: string) => void): SubscriptionScheduler {
  const scheduler = new SubscriptionScheduler(platform, log ? { log } : {});
  scheduler.start();
  app.addHook('onClose', async () => {
    scheduler.stop();
    await scheduler.idle();
  });
  return scheduler;
}
