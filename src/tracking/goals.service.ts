import { PluraError } from '../core/errors.js';
import { requireTenantScope, type ActContext } from '../access/context.js';
import { identityDbOf } from '../access/identity.store.js';
import { authorize, requireSitesExist } from '../access/users.service.js';
import { recordAudit } from '../audit/audit.service.js';

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

/** Adds a goal to a site (ids count from 1 per site); needs manage_goals on it. */
export async function addGoal(ctx: ActContext, siteId: number, input: GoalInput): Promise<{ goalId: number }> {
  const { tenant, store } = requireTenantScope(ctx.scope);
  authorize(ctx, 'manage_goals', { kind: 'site', tenant: tenant.slug, siteId }, `manage goals of site ${siteId}`);
  await requireSitesExist(ctx, [siteId]);
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
  const created = await store.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('goal').select((eb) => eb.fn.max('goal_id').as('max')).where('site_id', '=', siteId).executeTakeFirst();
    const goalId = Number(row?.max ?? 0) + 1;
    await trx
      .insertInto('goal')
      .values({
        site_id: siteId,
        goal_id: goalId,
        name,
        match_attribute: input.matchAttribute,
        pattern_type: patternType,
        pattern,
        case_sensitive: input.caseSensitive ? 1 : 0,
        allow_multiple: input.allowMultiple ? 1 : 0,
        revenue,
        created_at: new Date().toISOString(),
      })
      .execute();
    await recordAudit(ctx, 'goal.created', { siteId, after: { goalId, name, match: input.matchAttribute, pattern } }, identityDbOf(trx));
    return { goalId };
  });
  ctx.platform.tracking.siteConfigChanged(tenant);
  return created;
}
