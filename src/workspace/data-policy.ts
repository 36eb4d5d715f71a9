import { PluraError } from '../core/errors.js';
import { recordPlatformAudit } from '../audit/audit.service.js';
import { identityDbFor, type ActContext, type Scope } from '../access/context.js';
import { decide, decideDataPolicy, sensitiveSegmentDimensions, type Actor, type AnonymousActor, type SensitiveDataRole } from '../access/policy.js';
import type { Platform } from '../platform/platform.js';
import { andSegments, orSegments, parseSegment, segmentDimension, type Segment } from '../reports/segments.js';
import { ATTRIBUTE_NAME, TENANT_SLUG_ATTRIBUTE, effectiveAttributes, type EffectiveAttributes } from './attributes.js';
import { requireGroup, type GroupRow } from './groups.service.js';

/**
 * Row-level data policies. A tenant group may carry a segment template
 * (`pageUrl=^https://{{@tenant.slug}}.example.com`, `dimension1=={{region}}`); every
 * report a member runs gets the policy ANDed to its own segment, in one place:
 * `effectiveSegment`, which the Reporting API (and so API.getBulkRequest, saved
 * reports, dashboards, exports and embeds) and Live call. A member of several groups
 * sees the union of what their policies allow; a policy whose attribute the member
 * lacks allows nothing; groups without a policy widen nothing.
 */

export const MAX_TEMPLATE_LENGTH = 1000;
export const MAX_TEMPLATE_PLACEHOLDERS = 20;
/** AND-blocks the union of several policies may grow to before it is refused (fail closed). */
const MAX_POLICY_CLAUSES = 256;

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
const CONDITION_START = /^([A-Za-z0-9_.]+)(==|!=|<=|>=|=@|!@|=\^|=\$|<|>)/;

/** Matches nothing: the visitor id is both empty and not empty. What a member without its attribute sees. */
export const NO_DATA_SEGMENT: Segment = parseSegment('visitorId==;visitorId!=');

/** Splits a template on unescaped `;` and `,` (its literal delimiters; placeholder names hold neither). */
function templateConditions(template: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < template.length; i += 1) {
    const char = template[i];
    if (char === '\\' && (template[i + 1] === ';' || template[i + 1] === ',')) {
      current += `${char}${template[i + 1] ?? ''}`;
      i += 1;
    } else if (char === ';' || char === ',') {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts;
}

/** The attribute names a template uses, in order of first use. */
export function templatePlaceholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((match) => match[1] ?? ''))];
}

/** Fills a template: each value URL-encoded, so no attribute value can add a condition or an operator. */
function fill(template: string, value: (name: string) => string): string {
  return template.replace(PLACEHOLDER, (_match, name: string) => encodeURIComponent(value(name)));
}

/**
 * Checks a template before it is stored: size, placeholders `{{name}}` with valid
 * names (`@tenant.slug` the only built-in), placeholders only in values, and a valid
 * segment once filled in.
 */
export function validateTemplate(raw: string): { template: string; attributes: string[] } {
  const template = raw.trim();
  if (template === '') throw new PluraError('invalid_input', 'A data policy template cannot be empty (DELETE the policy to remove it).');
  if (template.length > MAX_TEMPLATE_LENGTH) throw new PluraError('invalid_input', `A data policy template may hold at most ${MAX_TEMPLATE_LENGTH} characters.`);
  if (/[{}]/.test(template.replace(PLACEHOLDER, ''))) throw new PluraError('invalid_input', 'Braces in a data policy template must form placeholders such as {{region}}.');
  const attributes = templatePlaceholders(template);
  if (attributes.length > MAX_TEMPLATE_PLACEHOLDERS) throw new PluraError('invalid_input', `A data policy template may use at most ${MAX_TEMPLATE_PLACEHOLDERS} attributes.`);
  for (const name of attributes) {
    if (name.startsWith('@')) {
      if (name !== TENANT_SLUG_ATTRIBUTE) throw new PluraError('invalid_input', `Unknown built-in attribute "${name.slice(0, 64)}": the only one is ${TENANT_SLUG_ATTRIBUTE}.`);
    } else if (!ATTRIBUTE_NAME.test(name)) {
      throw new PluraError('invalid_input', `"{{${name.slice(0, 64)}}}" does not name an attribute: names are 1 to 64 letters, digits, "_", "." or "-" (or ${TENANT_SLUG_ATTRIBUTE}).`);
    }
  }
  for (const condition of templateConditions(template)) {
    const start = CONDITION_START.exec(condition.trim());
    if (!start) throw new PluraError('invalid_input', `The condition "${condition.slice(0, 200)}" must start with a segment name and an operator; attributes stand only in values.`);
    if (!segmentDimension(start[1] ?? '')) throw new PluraError('invalid_input', `Segment '${start[1] ?? ''}' is not a supported segment.`);
  }
  try {
    parseSegment(fill(template, () => '1'));
  } catch (error) {
    throw new PluraError('invalid_input', `The template is not a valid segment once filled in: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { template, attributes };
}

/** The segment a template stands for with these attributes; null (no data) when one is missing or empty, or the result is no valid segment. */
export function instantiateTemplate(template: string, attributes: EffectiveAttributes): Segment | null {
  const names = templatePlaceholders(template);
  if (names.some((name) => (attributes.get(name)?.value ?? '') === '')) return null;
  try {
    return parseSegment(fill(template, (name) => attributes.get(name)?.value ?? ''));
  } catch {
    // E.g. a numeric comparison with an attribute that is not a number: fail closed.
    return null;
  }
}

// ---------------------------------------------------------------------------
// Policies on groups (platform admins).

export interface GroupPolicyView {
  readonly groupId: number;
  readonly group: string;
  readonly kind: string;
  readonly template: string | null;
  readonly attributes: readonly string[];
  /** Attributes no tenant defines yet: members see no data until their tenant (or user) has them. */
  readonly warnings: readonly string[];
}

async function presentPolicy(platform: Platform, group: GroupRow): Promise<GroupPolicyView> {
  const attributes = group.data_policy ? templatePlaceholders(group.data_policy) : [];
  const custom = attributes.filter((name) => !name.startsWith('@'));
  const warnings: string[] = [];
  if (custom.length > 0) {
    const defined = new Set((await platform.registry.listTenants()).flatMap((tenant) => Object.keys(tenant.attributes)));
    for (const name of custom) {
      if (!defined.has(name)) warnings.push(`No tenant defines the attribute "${name}": members without it (or a user override) see no data.`);
    }
  }
  return { groupId: group.id, group: group.name, kind: group.kind, template: group.data_policy, attributes, warnings };
}

function requirePlatformAdmin(ctx: ActContext): void {
  const actor = ctx.actor;
  if (actor.kind === 'system' || (actor.kind === 'platform_user' && actor.platformAdmin && ctx.scope.kind === 'platform')) return;
  throw new PluraError(actor.kind === 'anonymous' ? 'unauthenticated' : 'forbidden', 'Only platform admins set data policies, on the platform host.');
}

export async function getGroupPolicy(ctx: ActContext, groupId: number): Promise<GroupPolicyView> {
  requirePlatformAdmin(ctx);
  return presentPolicy(ctx.platform, await requireGroup(ctx.platform, groupId));
}

/** Sets (or, with null, removes) the data policy of a tenant group; audited in the platform log. */
export async function setGroupPolicy(ctx: ActContext, groupId: number, template: string | null): Promise<GroupPolicyView> {
  requirePlatformAdmin(ctx);
  const group = await requireGroup(ctx.platform, groupId);
  if (group.kind !== 'tenant') throw new PluraError('invalid_input', `"${group.name}" is an internal group: data policies restrict tenant users' data, so only tenant groups carry them.`);
  const checked = template === null ? null : validateTemplate(template).template;
  const updated = await ctx.platform.registry.db
    .updateTable('user_group')
    .set({ data_policy: checked, updated_at: new Date().toISOString() })
    .where('id', '=', groupId)
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordPlatformAudit(ctx.platform, ctx.actor, checked === null ? 'group.data_policy_removed' : 'group.data_policy_set', null, {
    before: { group: group.name, template: group.data_policy },
    after: { group: group.name, template: checked },
  }, ctx.ip);
  return presentPolicy(ctx.platform, updated);
}

// ---------------------------------------------------------------------------
// Who a report runs for: the facts behind the policy segment.

/** What an embed token adds to its viewer: the named user (whose groups and overrides apply) and attributes for this view. */
export interface EmbedViewerFacts {
  readonly userId: number | null;
  readonly attributes: Readonly<Record<string, string>>;
}

// Embed viewers are anonymous actors made for one request; their facts ride along by identity.
const embedViewers = new WeakMap<AnonymousActor, EmbedViewerFacts>();

export function registerEmbedViewer(actor: AnonymousActor, facts: EmbedViewerFacts): void {
  embedViewers.set(actor, facts);
}

export interface PolicyMember {
  readonly groupId: number;
  readonly group: string;
  readonly template: string;
  /** The filled-in segment; null when an attribute is missing (this policy allows nothing). */
  readonly segment: string | null;
}

export interface PolicyOutcome {
  /** Whether data policies restrict this actor at all, and why. */
  readonly applies: boolean;
  readonly reason: string;
  readonly policies: readonly PolicyMember[];
  /** The segment ANDed to every report; null: no restriction. */
  readonly segment: Segment | null;
}

/** The groups (with a policy) a subject belongs to: every tenant user's special group, plus the user's own memberships. */
async function policyGroups(platform: Platform, scope: Extract<Scope, { kind: 'tenant' }>, userId: number | null): Promise<GroupRow[]> {
  // Few groups carry a policy (often none): read those first, memberships only when they matter.
  const withPolicy = await platform.registry.db.selectFrom('user_group').selectAll().where('kind', '=', 'tenant').where('data_policy', 'is not', null).orderBy('id').execute();
  if (withPolicy.length === 0) return [];
  const needsMembership = withPolicy.some((group) => group.special !== 'all_tenant');
  const memberOf = new Set(
    userId === null || !needsMembership ? [] : (await identityDbFor(platform, scope).selectFrom('group_member').select('group_id').where('user_id', '=', userId).execute()).map((row) => row.group_id),
  );
  return withPolicy.filter((group) => group.special === 'all_tenant' || memberOf.has(group.id));
}

/** The policy outcome for a subject: a tenant user, or a viewer without a user (userId null). */
export async function policyOutcomeFor(platform: Platform, scope: Extract<Scope, { kind: 'tenant' }>, actor: Actor, userId: number | null, extra: Readonly<Record<string, string>> = {}): Promise<PolicyOutcome> {
  const decision = decideDataPolicy(actor);
  if (!decision.allowed) return { applies: false, reason: decision.reason, policies: [], segment: null };
  const groups = await policyGroups(platform, scope, userId);
  if (groups.length === 0) return { applies: true, reason: `${decision.reason}; none of its groups has one`, policies: [], segment: null };
  const attributes = await effectiveAttributes(platform, scope, userId, extra);
  const policies: PolicyMember[] = [];
  const allowed: Segment[] = [];
  for (const group of groups) {
    const template = group.data_policy ?? '';
    const segment = instantiateTemplate(template, attributes);
    if (segment) allowed.push(segment);
    policies.push({ groupId: group.id, group: group.name, template, segment: segment?.definition ?? null });
  }
  let segment: Segment;
  try {
    segment = allowed.length === 0 ? NO_DATA_SEGMENT : orSegments(allowed, MAX_POLICY_CLAUSES);
  } catch {
    // Too many combinations to express: show nothing rather than everything.
    segment = NO_DATA_SEGMENT;
  }
  return { applies: true, reason: decision.reason, policies, segment };
}

function subjectOf(actor: Actor): { userId: number | null; extra: Readonly<Record<string, string>> } {
  if (actor.kind === 'tenant_user') return { userId: actor.userId, extra: {} };
  if (actor.kind === 'anonymous') {
    const embed = embedViewers.get(actor);
    return { userId: embed?.userId ?? null, extra: embed?.attributes ?? {} };
  }
  return { userId: null, extra: {} };
}

// One answer per request context: a bulk request or a dashboard asks many times.
const outcomes = new WeakMap<ActContext, Promise<PolicyOutcome>>();

/** The data-policy outcome for the context's actor (cached for the life of the context). */
export function policyOutcome(ctx: ActContext): Promise<PolicyOutcome> {
  let outcome = outcomes.get(ctx);
  if (!outcome) {
    const scope = ctx.scope;
    if (scope.kind !== 'tenant') outcome = Promise.resolve({ applies: false, reason: 'no tenant data outside a tenant', policies: [], segment: null });
    else {
      const { userId, extra } = subjectOf(ctx.actor);
      outcome = policyOutcomeFor(ctx.platform, scope, ctx.actor, userId, extra);
    }
    outcomes.set(ctx, outcome);
    outcome.catch(() => outcomes.delete(ctx));
  }
  return outcome;
}

/**
 * A requested segment that filters by a person (user id, visitor id) needs the
 * right to see such data on every site asked for: otherwise filtering would reveal
 * what Live hides.
 */
async function requireSensitiveSegmentAccess(ctx: ActContext, segment: Segment, siteIds: readonly number[]): Promise<void> {
  const used = [...new Set(segment.and.flat().map((c) => c.name))].filter((name) => sensitiveSegmentDimensions.includes(name));
  if (used.length === 0 || ctx.scope.kind !== 'tenant') return;
  const tenant = ctx.scope.tenant.slug;
  const rows = siteIds.length === 0 ? [] : await ctx.scope.store.db.selectFrom('site').select(['id', 'sensitive_data_role']).where('id', 'in', [...siteIds]).execute();
  for (const row of rows) {
    const decision = decide(ctx.actor, 'view_sensitive_data', { kind: 'site', tenant, siteId: row.id, sensitiveData: row.sensitive_data_role as SensitiveDataRole });
    if (!decision.allowed) {
      throw new PluraError(ctx.actor.kind === 'anonymous' ? 'unauthenticated' : 'forbidden', `The segment filters by ${used.join(' and ')}, which is sensitive data you may not see on site ${row.id} (${decision.reason}).`);
    }
  }
}

/**
 * THE choke point: the segment a report or Live request really runs with. The
 * request's own segment (checked) ANDed with the actor's data policy; request
 * parameters can narrow what a policy allows, never widen it. `siteIds`: the sites
 * asked for (for the sensitive-dimension check).
 */
export async function effectiveSegment(ctx: ActContext, requested: string | undefined, siteIds: readonly number[] = []): Promise<Segment | null> {
  const own = requested !== undefined && requested.trim() !== '' ? parseSegment(requested) : null;
  if (own) await requireSensitiveSegmentAccess(ctx, own, siteIds);
  const { segment: policy } = await policyOutcome(ctx);
  if (!policy) return own;
  return own ? andSegments(own, policy) : policy;
}
