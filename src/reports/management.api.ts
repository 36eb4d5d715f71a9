import type { Selectable } from 'kysely';
import { PluraError } from '../core/errors.js';
import type { ActContext } from '../access/context.js';
import { identityDbOf } from '../access/identity.store.js';
import { decide, siteFilter } from '../access/policy.js';
import { authorize, authorizeSomeSite, requireSitesExist } from '../access/users.service.js';
import { recordAudit } from '../audit/audit.service.js';
import type { MatomoModule } from '../matomo-api/method.js';
import { requireSiteId } from '../matomo-api/method.js';
import type { MatomoParams } from '../matomo-api/params.js';
import type { MatomoValue } from '../matomo-api/render.js';
import type { TenantStore } from '../storage/tenant-stores.js';
import type { Tenant } from '../tenancy/tenant.js';
import { addGoal, deleteGoal, listGoals, updateGoal, type GoalInput } from '../tracking/goals.service.js';
import type { SavedSegmentTable } from './reports.tables.js';
import { parseSegment } from './segments.js';

/**
 * What analysts and admins manage next to the reports: stored segments
 * (SegmentEditor), annotations, goals and custom dimensions, with Matomo's method
 * names, parameters and answers. Every decision goes through the policy.
 */

function tenantOf(ctx: ActContext): { tenant: Tenant; store: TenantStore } {
  if (ctx.scope.kind !== 'tenant') throw new PluraError('invalid_input', 'This belongs to a tenant: call the API on a tenant host.');
  return ctx.scope;
}

/** The signed-in user's login; anonymous callers cannot own segments or notes. */
function loginOf(ctx: ActContext): string {
  switch (ctx.actor.kind) {
    case 'tenant_user':
    case 'platform_user':
      return ctx.actor.login;
    case 'system':
      return ctx.actor.name;
    case 'anonymous':
      throw new PluraError('unauthenticated', "You can't access this resource as it requires a user to be signed in (not the anonymous user).");
  }
}

function isSuperUser(ctx: ActContext, tenant: Tenant): boolean {
  return decide(ctx.actor, 'manage_tenant', { kind: 'tenant', tenant: tenant.slug }).allowed;
}

function flag(params: MatomoParams, name: string): boolean {
  return params.getBool(name, false);
}

function requireId(params: MatomoParams, name: string): number {
  const raw = params.require(name);
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) throw new PluraError('invalid_input', `The parameter '${name}' must be an id, not "${raw}".`);
  return Number(raw);
}

function requireDay(params: MatomoParams, name = 'date'): string {
  const raw = params.require(name).trim();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw) || Number.isNaN(Date.parse(raw))) throw new PluraError('invalid_input', `The date '${raw}' is not a correct date: use YYYY-MM-DD.`);
  return raw;
}

// ---------------------------------------------------------------------------------------------
// SegmentEditor

type SegmentRow = Selectable<SavedSegmentTable>;

function segmentView(row: SegmentRow): MatomoValue {
  return {
    idsegment: row.id,
    name: row.name,
    definition: row.definition,
    login: row.login,
    enable_all_users: row.enable_all_users,
    enable_only_idsite: row.site_id,
    auto_archive: row.auto_archive,
    ts_created: row.created_at,
    ts_last_edit: row.updated_at,
    deleted: 0,
  };
}

async function checkSegmentInput(ctx: ActContext, tenant: Tenant, params: MatomoParams): Promise<{ name: string; definition: string; siteId: number; allUsers: boolean; autoArchive: boolean }> {
  const name = params.require('name').trim();
  if (name === '' || name.length > 255) throw new PluraError('invalid_input', 'A segment needs a name of 1 to 255 characters.');
  const definition = params.require('definition').trim();
  parseSegment(definition);
  const rawSite = params.get('idSite');
  const siteId = rawSite && rawSite !== '0' && rawSite !== 'false' ? requireSiteId(params) : 0;
  if (siteId) authorize(ctx, 'view_reports', { kind: 'site', tenant: tenant.slug, siteId }, `add segments on site ${siteId}`);
  else authorizeSomeSite(ctx, 'view_reports');
  loginOf(ctx);
  if (siteId) await requireSitesExist(ctx, [siteId]);
  const allUsers = flag(params, 'enabledAllUsers');
  // Matomo: only a super user shares a segment with every user.
  if (allUsers && !isSuperUser(ctx, tenant)) throw new PluraError('forbidden', "You can't access this resource as it requires a 'superuser' access.");
  return { name, definition, siteId, allUsers, autoArchive: flag(params, 'autoArchive') };
}

async function ownSegment(ctx: ActContext, tenant: Tenant, store: TenantStore, id: number): Promise<SegmentRow> {
  const row = await store.db.selectFrom('saved_segment').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row || (row.login !== loginOf(ctx) && !isSuperUser(ctx, tenant))) throw new PluraError('not_found', `The segment ${id} does not exist or is not yours.`);
  return row;
}

export const segmentEditorApi: MatomoModule = {
  async add({ ctx, params }) {
    const { tenant, store } = tenantOf(ctx);
    const input = await checkSegmentInput(ctx, tenant, params);
    const now = new Date().toISOString();
    const created = await store.db
      .insertInto('saved_segment')
      .values({ name: input.name, definition: input.definition, login: loginOf(ctx), site_id: input.siteId, enable_all_users: input.allUsers ? 1 : 0, auto_archive: input.autoArchive ? 1 : 0, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    await recordAudit(ctx, 'segment.created', { ...(input.siteId ? { siteId: input.siteId } : {}), after: { id: created.id, name: input.name, definition: input.definition } }, identityDbOf(store.db));
    return created.id;
  },
  async update({ ctx, params }) {
    const { tenant, store } = tenantOf(ctx);
    const row = await ownSegment(ctx, tenant, store, requireId(params, 'idSegment'));
    const input = await checkSegmentInput(ctx, tenant, params);
    await store.db
      .updateTable('saved_segment')
      .set({ name: input.name, definition: input.definition, site_id: input.siteId, enable_all_users: input.allUsers ? 1 : 0, auto_archive: input.autoArchive ? 1 : 0, updated_at: new Date().toISOString() })
      .where('id', '=', row.id)
      .execute();
    await recordAudit(ctx, 'segment.updated', { after: { id: row.id, name: input.name, definition: input.definition } }, identityDbOf(store.db));
    return true;
  },
  async delete({ ctx, params }) {
    const { tenant, store } = tenantOf(ctx);
    const row = await ownSegment(ctx, tenant, store, requireId(params, 'idSegment'));
    await store.db.deleteFrom('saved_segment').where('id', '=', row.id).execute();
    await recordAudit(ctx, 'segment.deleted', { before: { id: row.id, name: row.name } }, identityDbOf(store.db));
    return null;
  },
  async get({ ctx, params }) {
    const { tenant, store } = tenantOf(ctx);
    authorizeSomeSite(ctx, 'view_reports');
    const id = requireId(params, 'idSegment');
    const row = await store.db.selectFrom('saved_segment').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || !(await visibleSegments(ctx, tenant, store, null)).some((s) => s.id === id)) throw new PluraError('not_found', `The segment ${id} does not exist or is not yours.`);
    return segmentView(row);
  },
  async getAll({ ctx, params }) {
    const { tenant, store } = tenantOf(ctx);
    authorizeSomeSite(ctx, 'view_reports');
    const rawSite = params.get('idSite');
    const siteId = rawSite ? requireSiteId(params) : null;
    if (siteId) {
      authorize(ctx, 'view_reports', { kind: 'site', tenant: tenant.slug, siteId }, `see segments of site ${siteId}`);
      await requireSitesExist(ctx, [siteId]);
    }
    return (await visibleSegments(ctx, tenant, store, siteId)).map(segmentView);
  },
};

/** Segments the caller may see: its own and shared ones, on sites it may view. */
async function visibleSegments(ctx: ActContext, tenant: Tenant, store: TenantStore, siteId: number | null): Promise<SegmentRow[]> {
  const login = ctx.actor.kind === 'anonymous' ? null : loginOf(ctx);
  const sites = siteFilter(ctx.actor, 'view_reports', tenant.slug);
  const rows = await store.db.selectFrom('saved_segment').selectAll().orderBy('id').execute();
  return rows.filter(
    (row) =>
      (row.login === login || row.enable_all_users === 1) &&
      (row.site_id === 0 || sites === 'all' || sites.includes(row.site_id)) &&
      (siteId === null || row.site_id === 0 || row.site_id === siteId),
  );
}

// ---------------------------------------------------------------------------------------------
// Annotations

interface AnnotationRow {
  id: number;
  site_id: number;
  day: string;
  note: string;
  starred: number;
  login: string;
}

function annotationView(ctx: ActContext, tenant: Tenant, row: AnnotationRow): MatomoValue {
  const mine = ctx.actor.kind !== 'anonymous' && loginOf(ctx) === row.login;
  return { date: row.day, note: row.note, starred: row.starred, user: row.login, idNote: row.id, canEditOrDelete: mine || isSuperUser(ctx, tenant) };
}

async function editableAnnotation(ctx: ActContext, tenant: Tenant, store: TenantStore, siteId: number, id: number): Promise<AnnotationRow> {
  authorize(ctx, 'view_reports', { kind: 'site', tenant: tenant.slug, siteId }, `see annotations of site ${siteId}`);
  const row = await store.db.selectFrom('annotation').select(['id', 'site_id', 'day', 'note', 'starred', 'login']).where('id', '=', id).where('site_id', '=', siteId).executeTakeFirst();
  if (!row) throw new PluraError('not_found', `The annotation ${id} does not exist on site ${siteId}.`);
  // Matomo: the author or a super user may change a note.
  if (loginOf(ctx) !== row.login && !isSuperUser(ctx, tenant)) throw new PluraError('forbidden', "You can't change an annotation you did not write.");
  return row;
}

function checkNote(params: MatomoParams): string {
  const note = params.require('note').trim();
  if (note === '' || note.length > 1000) throw new PluraError('invalid_input', 'An annotation needs a note of 1 to 1000 characters.');
  return note;
}

export const annotationsApi: MatomoModule = {
  async add({ ctx, params }) {
    const { tenant, store } = tenantOf(ctx);
    const siteId = requireSiteId(params);
    authorize(ctx, 'view_reports', { kind: 'site', tenant: tenant.slug, siteId }, `annotate site ${siteId}`);
    await requireSitesExist(ctx, [siteId]);
    const login = loginOf(ctx);
    const row = { site_id: siteId, day: requireDay(params), note: checkNote(params), starred: flag(params, 'starred') ? 1 : 0, login, created_at: new Date().toISOString() };
    const created = await store.db.insertInto('annotation').values(row).returning('id').executeTakeFirstOrThrow();
    return annotationView(ctx, tenant, { ...row, id: created.id });
  },
  async save({ ctx, params }) {
    const { tenant, store } = tenantOf(ctx);
    const siteId = requireSiteId(params);
    const row = await editableAnnotation(ctx, tenant, store, siteId, requireId(params, 'idNote'));
    const next = { day: params.get('date') ? requireDay(params) : row.day, note: params.get('note') !== undefined ? checkNote(params) : row.note, starred: params.get('starred') !== undefined ? (flag(params, 'starred') ? 1 : 0) : row.starred };
    await store.db.updateTable('annotation').set(next).where('id', '=', row.id).execute();
    return annotationView(ctx, tenant, { ...row, ...next });
  },
  async delete({ ctx, params }) {
    const { tenant, store } = tenantOf(ctx);
    const siteId = requireSiteId(params);
    const row = await editableAnnotation(ctx, tenant, store, siteId, requireId(params, 'idNote'));
    await store.db.deleteFrom('annotation').where('id', '=', row.id).execute();
    return null;
  },
  async getAll({ ctx, params }) {
    const { tenant, store } = tenantOf(ctx);
    const siteId = requireSiteId(params);
    authorize(ctx, 'view_reports', { kind: 'site', tenant: tenant.slug, siteId }, `see annotations of site ${siteId}`);
    await requireSitesExist(ctx, [siteId]);
    let query = store.db.selectFrom('annotation').select(['id', 'site_id', 'day', 'note', 'starred', 'login']).where('site_id', '=', siteId);
    const date = params.get('date');
    if (date && /^\d{4}-\d{2}-\d{2},\d{4}-\d{2}-\d{2}$/.test(date)) {
      const [from = '', to = ''] = date.split(',');
      query = query.where('day', '>=', from).where('day', '<=', to);
    } else if (date && /^\d{4}-\d{2}-\d{2}$/.test(date)) query = query.where('day', '=', date);
    const rows = await query.orderBy('day').orderBy('id').execute();
    return { [String(siteId)]: rows.map((row) => annotationView(ctx, tenant, row)) };
  },
};

// ---------------------------------------------------------------------------------------------
// Goals (management; the reports are in reports.api.ts)

function goalInput(params: MatomoParams): GoalInput {
  const revenue = params.get('revenue');
  return {
    name: params.require('name'),
    matchAttribute: params.require('matchAttribute'),
    patternType: params.get('patternType') ?? 'contains',
    pattern: params.get('pattern') ?? '',
    caseSensitive: flag(params, 'caseSensitive'),
    allowMultiple: flag(params, 'allowMultipleConversionsPerVisit'),
    ...(revenue !== undefined && revenue !== '' && revenue !== 'false' ? { revenue: Number(revenue) } : {}),
  };
}

export const goalsManagementApi: MatomoModule = {
  async addGoal({ ctx, params }) {
    return (await addGoal(ctx, requireSiteId(params), goalInput(params))).goalId;
  },
  async updateGoal({ ctx, params }) {
    await updateGoal(ctx, requireSiteId(params), requireId(params, 'idGoal'), goalInput(params));
    return null;
  },
  async deleteGoal({ ctx, params }) {
    await deleteGoal(ctx, requireSiteId(params), requireId(params, 'idGoal'));
    return null;
  },
  async getGoals({ ctx, params }) {
    return (await listGoals(ctx, requireSiteId(params))).map(goalView);
  },
  async getGoal({ ctx, params }) {
    const id = requireId(params, 'idGoal');
    const goal = (await listGoals(ctx, requireSiteId(params))).find((g) => g.goal_id === id);
    if (!goal) throw new PluraError('not_found', `The goal ${id} does not exist.`);
    return goalView(goal);
  },
};

function goalView(goal: Awaited<ReturnType<typeof listGoals>>[number]): MatomoValue {
  return {
    idsite: goal.site_id,
    idgoal: goal.goal_id,
    name: goal.name,
    description: '',
    match_attribute: goal.match_attribute,
    pattern: goal.pattern,
    pattern_type: goal.pattern_type,
    case_sensitive: goal.case_sensitive,
    allow_multiple: goal.allow_multiple,
    revenue: goal.revenue,
    deleted: 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Custom dimensions

function checkExtractions(raw: string | undefined): string {
  if (!raw) return '[]';
  try {
    const value: unknown = JSON.parse(raw);
    if (Array.isArray(value)) return JSON.stringify(value);
  } catch {
    // fall through
  }
  throw new PluraError('invalid_input', 'extractions must be a JSON array of {"dimension": ..., "pattern": ...}.');
}

export const customDimensionsManagementApi: MatomoModule = {
  async configureNewCustomDimension({ ctx, params }) {
    const { tenant, store } = tenantOf(ctx);
    const siteId = requireSiteId(params);
    authorize(ctx, 'manage_custom_dimensions', { kind: 'site', tenant: tenant.slug, siteId }, `configure custom dimensions of site ${siteId}`);
    await requireSitesExist(ctx, [siteId]);
    const name = params.require('name').trim();
    if (name === '' || name.length > 255) throw new PluraError('invalid_input', 'A custom dimension needs a name of 1 to 255 characters.');
    const scope = params.require('scope');
    if (scope !== 'visit' && scope !== 'action') throw new PluraError('invalid_input', `The scope "${scope}" is not supported: use visit or action.`);
    const extractions = checkExtractions(params.get('extractions'));
    return store.db.transaction().execute(async (trx) => {
      const max = await trx.selectFrom('custom_dimension').select((eb) => eb.fn.max('id').as('max')).where('site_id', '=', siteId).executeTakeFirst();
      const id = Number(max?.max ?? 0) + 1;
      await trx.insertInto('custom_dimension').values({ site_id: siteId, id, name, scope, active: params.getBool('active', true) ? 1 : 0, case_sensitive: params.getBool('caseSensitive', true) ? 1 : 0, extractions }).execute();
      await recordAudit(ctx, 'custom_dimension.created', { siteId, after: { id, name, scope } }, identityDbOf(trx));
      return id;
    });
  },
  async configureExistingCustomDimension({ ctx, params }) {
    const { tenant, store } = tenantOf(ctx);
    const siteId = requireSiteId(params);
    authorize(ctx, 'manage_custom_dimensions', { kind: 'site', tenant: tenant.slug, siteId }, `configure custom dimensions of site ${siteId}`);
    const id = requireId(params, 'idDimension');
    const existing = await store.db.selectFrom('custom_dimension').selectAll().where('site_id', '=', siteId).where('id', '=', id).executeTakeFirst();
    if (!existing) throw new PluraError('not_found', `The custom dimension ${id} does not exist on site ${siteId}.`);
    const name = params.get('name')?.trim() || existing.name;
    await store.db
      .updateTable('custom_dimension')
      .set({ name, active: params.getBool('active', existing.active === 1) ? 1 : 0, case_sensitive: params.getBool('caseSensitive', existing.case_sensitive === 1) ? 1 : 0, extractions: params.get('extractions') ? checkExtractions(params.get('extractions')) : existing.extractions })
      .where('site_id', '=', siteId)
      .where('id', '=', id)
      .execute();
    await recordAudit(ctx, 'custom_dimension.updated', { siteId, after: { id, name } }, identityDbOf(store.db));
    return null;
  },
  async getConfiguredCustomDimensions({ ctx, params }) {
    const { tenant, store } = tenantOf(ctx);
    const siteId = requireSiteId(params);
    authorize(ctx, 'view_reports', { kind: 'site', tenant: tenant.slug, siteId }, `see custom dimensions of site ${siteId}`);
    await requireSitesExist(ctx, [siteId]);
    const rows = await store.db.selectFrom('custom_dimension').selectAll().where('site_id', '=', siteId).orderBy('id').execute();
    return rows.map((row) => ({ idcustomdimension: row.id, idsite: row.site_id, name: row.name, index: row.id, scope: row.scope, active: row.active === 1, extractions: JSON.parse(row.extractions) as MatomoValue, case_sensitive: row.case_sensitive === 1 }));
  },
  async getAvailableScopes({ ctx, params }) {
    const { tenant } = tenantOf(ctx);
    const siteId = requireSiteId(params);
    authorize(ctx, 'view_reports', { kind: 'site', tenant: tenant.slug, siteId }, `see custom dimensions of site ${siteId}`);
    await requireSitesExist(ctx, [siteId]);
    return [
      { value: 'visit', name: 'Visit', numSlotsAvailable: 1000, numSlotsUsed: 0, numSlotsLeft: 1000, supportsExtractions: false },
      { value: 'action', name: 'Action', numSlotsAvailable: 1000, numSlotsUsed: 0, numSlotsLeft: 1000, supportsExtractions: true },
    ];
  },
};

/** The configured scope of a custom dimension (visit when it is not configured). */
export async function customDimensionScope(store: TenantStore, siteId: number, id: number): Promise<'visit' | 'action'> {
  const row = await store.db.selectFrom('custom_dimension').select('scope').where('site_id', '=', siteId).where('id', '=', id).executeTakeFirst();
  return row?.scope === 'action' ? 'action' : 'visit';
}
