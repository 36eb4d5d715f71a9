import { PluraError } from '../core/errors.js';
import { requireTenantScope, type ActContext } from '../access/context.js';
import { identityDbOf } from '../access/identity.store.js';
import { authorize, requireSitesExist } from '../access/users.service.js';
import { recordAudit } from '../audit/audit.service.js';
import type { Selectable } from 'kysely';
import type { TenantStore } from '../storage/tenant-stores.js';
import type { Tenant } from '../tenancy/tenant.js';
import type { GoalTable } from './tracking.tables.js';

export interface GoalInput {
  readonly name: string;
  /** manually | url | title | event_category | event_action | event_name */
  readonly matchAttribute: string;
  readonly patternType?: string;
  readonly pattern?: string;
  readonly caseSensitive?: boolean;
  readonly allowMultiple?: boolean;
  readonly revenue?: number;
}

const attributes = ['manually', 'url', 'title', 'event_category', 'event_action', 'event_name'];
const patternTypes = ['contains', 'exact', 'regex'];

function checkGoal(input: GoalInput): { name: string; patternType: string; pattern: string; revenue: number } {
  const name = input.name.trim();
  if (name === '' || name.length > 100) throw new PluraError('invalid_input', 'A goal needs a name of 1 to 100 characters.');
  if (!attributes.includes(input.matchAttribute)) throw new PluraError('invalid_input', `The goal match "${input.matchAttribute}" is not one of ${attributes.join(', ')}.`);
  const patternType = input.patternType ?? 'contains';
  if (!patternTypes.includes(patternType)) throw new PluraError('invalid_input', `The pattern type "${patternType}" is not one of ${patternTypes.join(', ')}.`);
  const pattern = input.pattern ?? '';
  if (input.matchAttribute !== 'manually' && pattern === '') throw new PluraError('invalid_input', 'A goal that matches URLs, titles or events needs a pattern.');
  if (patternType === 'regex') {
    try {
      new RegExp(pattern);
    } catch {
      throw new PluraError('invalid_input', `The pattern "${pattern}" is not a valid regular expression.`);
    }
  }
  const revenue = input.revenue ?? 0;
  if (!Number.isFinite(revenue) || revenue < 0) throw new PluraError('invalid_input', 'The goal revenue must be a number of 0 or more.');
  return { name, patternType, pattern, revenue };
}

function authorizeGoals(ctx: ActContext, siteId: number): { tenant: Tenant; store: TenantStore } {
  const scope = requireTenantScope(ctx.scope);
  authorize(ctx, 'manage_goals', { kind: 'site', tenant: scope.tenant.slug, siteId }, `manage goals of site ${siteId}`);
  return scope;
}

/** Adds a goal to a site (ids count from 1 per site); needs manage_goals on it. */
export async function addGoal(ctx: ActContext, siteId: number, input: GoalInput): Promise<{ goalId: number }> {
  const { tenant, store } = authorizeGoals(ctx, siteId);
  await requireSitesExist(ctx, [siteId]);
  const goal = checkGoal(input);
  const created = await store.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('goal').select((eb) => eb.fn.max('goal_id').as('max')).where('site_id', '=', siteId).executeTakeFirst();
    const goalId = Number(row?.max ?? 0) + 1;
    await trx
      .insertInto('goal')
      .values({
        site_id: siteId,
        goal_id: goalId,
        name: goal.name,
        match_attribute: input.matchAttribute,
        pattern_type: goal.patternType,
        pattern: goal.pattern,
        case_sensitive: input.caseSensitive ? 1 : 0,
        allow_multiple: input.allowMultiple ? 1 : 0,
        revenue: goal.revenue,
        created_at: new Date().toISOString(),
      })
      .execute();
    await recordAudit(ctx, 'goal.created', { siteId, after: { goalId, name: goal.name, match: input.matchAttribute, pattern: goal.pattern } }, identityDbOf(trx));
    return { goalId };
  });
  ctx.platform.tracking.siteConfigChanged(tenant);
  return created;
}

/** Changes a goal; later hits are matched against the new definition. */
export async function updateGoal(ctx: ActContext, siteId: number, goalId: number, input: GoalInput): Promise<void> {
  const { tenant, store } = authorizeGoals(ctx, siteId);
  const goal = checkGoal(input);
  await store.db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('goal')
      .set({ name: goal.name, match_attribute: input.matchAttribute, pattern_type: goal.patternType, pattern: goal.pattern, case_sensitive: input.caseSensitive ? 1 : 0, allow_multiple: input.allowMultiple ? 1 : 0, revenue: goal.revenue })
      .where('site_id', '=', siteId)
      .where('goal_id', '=', goalId)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw new PluraError('not_found', `The goal ${goalId} does not exist on site ${siteId}.`);
    await recordAudit(ctx, 'goal.updated', { siteId, after: { goalId, name: goal.name, match: input.matchAttribute, pattern: goal.pattern } }, identityDbOf(trx));
  });
  ctx.platform.tracking.siteConfigChanged(tenant);
}

/** Deletes a goal; its past conversions stay in the raw data and in archives already built. */
export async function deleteGoal(ctx: ActContext, siteId: number, goalId: number): Promise<void> {
  const { tenant, store } = authorizeGoals(ctx, siteId);
  await store.db.transaction().execute(async (trx) => {
    const result = await trx.deleteFrom('goal').where('site_id', '=', siteId).where('goal_id', '=', goalId).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw new PluraError('not_found', `The goal ${goalId} does not exist on site ${siteId}.`);
    await recordAudit(ctx, 'goal.deleted', { siteId, before: { goalId } }, identityDbOf(trx));
  });
  ctx.platform.tracking.siteConfigChanged(tenant);
}

/** The site's goals; needs view access. */
export async function listGoals(ctx: ActContext, siteId: number): Promise<Selectable<GoalTable>[]> {
  const { tenant, store } = requireTenantScope(ctx.scope);
  authorize(ctx, 'view_reports', { kind: 'site', tenant: tenant.slug, siteId }, `see goals of site ${siteId}`);
  await requireSitesExist(ctx, [siteId]);
  return store.db.selectFrom('goal').selectAll().where('site_id', '=', siteId).orderBy('goal_id').execute();
}
