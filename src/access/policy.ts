/**
 * The one policy module. Every access question in Plura is answered here, from
 * facts the caller loaded (the actor's grants, the context). It is pure and
 * synchronous so it can be tested as a table, and so `explain` is the same code
 * as the decision itself.
 *
 * The hard rule lives in `decide`: a tenant actor holds nothing outside its own
 * tenant, whatever its rows say.
 */

export const siteRoles = ['view', 'write', 'admin'] as const;
export type SiteRole = (typeof siteRoles)[number];
/** `noaccess` is the absence of a role (Matomo: no row in `access`). */
export type SiteRoleOrNone = SiteRole | 'noaccess';

export const capabilities = [
  'view_reports',
  'create_reports',
  'manage_goals',
  'manage_custom_dimensions',
  'configure_site',
  'manage_site_users',
  'view_sensitive_data',
  'export_raw_data',
  'manage_tenant',
  'manage_platform',
] as const;
export type Capability = (typeof capabilities)[number];

/** What each capability means, for getAvailableCapabilities and the UI. */
export const capabilityDescriptions: Readonly<Record<Capability, string>> = {
  view_reports: 'View reports and dashboards',
  create_reports: 'Create custom reports, segments, annotations and dashboards',
  manage_goals: 'Manage goals and funnels',
  manage_custom_dimensions: 'Manage custom dimensions',
  configure_site: 'Configure the site (URLs, timezone, currency, exclusions, privacy)',
  manage_site_users: 'Manage the users of the site (grant view or write)',
  view_sensitive_data: 'View sensitive data (IP addresses, user ids)',
  export_raw_data: 'Export raw data through the API',
  manage_tenant: 'Manage all sites, tenant settings, security and plugins',
  manage_platform: 'Manage tenants and the platform',
};

const roleRank: Readonly<Record<SiteRoleOrNone, number>> = { noaccess: 0, view: 1, write: 2, admin: 3 };

export function roleAtLeast(role: SiteRoleOrNone, minimum: SiteRoleOrNone): boolean {
  return roleRank[role] >= roleRank[minimum];
}

export function isSiteRole(value: string): value is SiteRole {
  return (siteRoles as readonly string[]).includes(value);
}

export function isCapability(value: string): value is Capability {
  return (capabilities as readonly string[]).includes(value);
}

/** Capabilities each role implies on a site (the issue's table). */
const impliedByRole: Readonly<Record<SiteRole, readonly Capability[]>> = {
  view: ['view_reports'],
  write: ['view_reports', 'create_reports', 'manage_goals', 'export_raw_data'],
  admin: ['view_reports', 'create_reports', 'manage_goals', 'manage_custom_dimensions', 'configure_site', 'manage_site_users', 'export_raw_data'],
};

/** Capabilities that may be granted one by one on top of a role ("no (grantable)"). */
const grantableOnRole: Readonly<Record<SiteRole, readonly Capability[]>> = {
  view: ['create_reports', 'manage_goals'],
  write: ['manage_custom_dimensions'],
  admin: [],
};

export function capabilitiesImpliedBy(role: SiteRole): readonly Capability[] {
  return impliedByRole[role];
}

export function capabilitiesGrantableOn(role: SiteRole): readonly Capability[] {
  return grantableOnRole[role];
}

/** Per-site privacy setting: from which role on sensitive data is shown (super users always). */
export type SensitiveDataRole = 'admin' | 'write' | 'none';

export interface SiteGrant {
  readonly role: SiteRole;
  readonly capabilities: ReadonlySet<Capability>;
}

export type Actor = TenantUserActor | PlatformUserActor | AnonymousActor | SystemActor;

/** A user of one tenant, with its grants as they are now (loaded per request). */
export interface TenantUserActor {
  readonly kind: 'tenant_user';
  readonly tenant: string;
  readonly userId: number;
  readonly login: string;
  readonly superuser: boolean;
  readonly sites: ReadonlyMap<number, SiteGrant>;
}

/** A platform (internal) user; `actingIn` names the tenant a platform admin acts inside, if any. */
export interface PlatformUserActor {
  readonly kind: 'platform_user';
  readonly userId: number;
  readonly login: string;
  readonly platformAdmin: boolean;
  readonly actingIn: string | null;
}

/** Matomo's anonymous user: no access unless a site granted it view. */
export interface AnonymousActor {
  readonly kind: 'anonymous';
  readonly tenant: string | null;
  readonly sites: ReadonlyMap<number, SiteGrant>;
}

/** The operator at the shell (CLI): full power, still audited. */
export interface SystemActor {
  readonly kind: 'system';
  readonly name: string;
}

export type AccessContext =
  | { readonly kind: 'platform' }
  | { readonly kind: 'tenant'; readonly tenant: string }
  | { readonly kind: 'site'; readonly tenant: string; readonly siteId: number; readonly sensitiveData?: SensitiveDataRole };

export interface Decision {
  readonly allowed: boolean;
  /** The grant (or missing grant) that decided it, in words. */
  readonly reason: string;
}

const allow = (reason: string): Decision => ({ allowed: true, reason });
const deny = (reason: string): Decision => ({ allowed: false, reason });

/** The one access question: may `actor` use `capability` in `context`? */
export function can(actor: Actor, capability: Capability, context: AccessContext): boolean {
  return decide(actor, capability, context).allowed;
}

/** Same as `can`, with the grant that decided it (for `explain` and error messages). */
export function decide(actor: Actor, capability: Capability, context: AccessContext): Decision {
  if (actor.kind === 'system') return allow(`the console operator (${actor.name}) holds every right`);

  if (actor.kind === 'platform_user') {
    if (context.kind === 'platform') {
      if (actor.platformAdmin) return allow('platform_admin');
      return capability === 'view_reports' ? allow('platform user') : deny('only platform admins manage the platform');
    }
    if (!actor.platformAdmin) return deny('a platform user without platform_admin holds nothing inside a tenant');
    if (actor.actingIn !== context.tenant) {
      return deny(`platform_admin acts inside a tenant only when acting in it explicitly (acting in: ${actor.actingIn ?? 'none'})`);
    }
    if (capability === 'manage_platform') return deny('manage_platform is a platform right, not a tenant right');
    return allow(`platform_admin acting as super user of tenant ${context.tenant}`);
  }

  // Tenant actors (users and anonymous): the hard rule first.
  if (context.kind === 'platform') return deny('tenant actors hold nothing at the platform level');
  if (actor.tenant !== context.tenant) {
    return deny(`the actor belongs to tenant ${actor.tenant ?? '(none)'}, not ${context.tenant}`);
  }
  if (capability === 'manage_platform') return deny('manage_platform is held only by platform admins');

  if (actor.kind === 'tenant_user' && actor.superuser) return allow(`superuser of tenant ${actor.tenant}`);
  if (context.kind === 'tenant') {
    return deny(`${capability} on the whole tenant needs superuser`);
  }
  if (capability === 'manage_tenant') return deny('manage_tenant needs superuser');

  const grant = actor.sites.get(context.siteId);
  const who = actor.kind === 'anonymous' ? 'anonymous' : actor.login;
  if (!grant) return deny(`${who} has noaccess on site ${context.siteId}`);
  if (actor.kind === 'anonymous' && capability !== 'view_reports') {
    return deny('anonymous may only view reports');
  }

  if (capability === 'view_sensitive_data') {
    const threshold = context.sensitiveData ?? 'none';
    if (threshold !== 'none' && actor.kind === 'tenant_user' && roleAtLeast(grant.role, threshold)) {
      return allow(`role ${grant.role} on site ${context.siteId}, and the site shows sensitive data from role ${threshold}`);
    }
    return deny(`sensitive data on site ${context.siteId} is shown to ${threshold === 'none' ? 'super users only' : `role ${threshold} and above`}`);
  }
  if (impliedByRole[grant.role].includes(capability)) return allow(`role ${grant.role} on site ${context.siteId}`);
  if (grant.capabilities.has(capability) && grantableOnRole[grant.role].includes(capability)) {
    return allow(`capability ${capability} granted on site ${context.siteId}`);
  }
  return deny(`role ${grant.role} on site ${context.siteId} does not include ${capability}`);
}

/**
 * Which sites of `tenant` an actor may use `capability` on, as a query filter:
 * 'all' or an explicit id list. Lists are filtered in SQL with this, never after loading.
 */
export function siteFilter(actor: Actor, capability: Capability, tenant: string): 'all' | readonly number[] {
  if (decide(actor, capability, { kind: 'tenant', tenant }).allowed) return 'all';
  if (actor.kind !== 'tenant_user' && actor.kind !== 'anonymous') return [];
  if (actor.tenant !== tenant) return [];
  const ids: number[] = [];
  for (const siteId of actor.sites.keys()) {
    // Sensitive-data thresholds are per site; list filters use the plain role rules.
    if (decide(actor, capability, { kind: 'site', tenant, siteId }).allowed) ids.push(siteId);
  }
  return ids.sort((a, b) => a - b);
}

/** The role Matomo reports for an actor on a site (superuser counts as its own word). */
export function effectiveRole(actor: Actor, tenant: string, siteId: number): SiteRoleOrNone | 'superuser' {
  if (decide(actor, 'manage_tenant', { kind: 'tenant', tenant }).allowed) return 'superuser';
  if (actor.kind !== 'tenant_user' && actor.kind !== 'anonymous') return 'noaccess';
  if (actor.tenant !== tenant) return 'noaccess';
  return actor.sites.get(siteId)?.role ?? 'noaccess';
}

// ---------------------------------------------------------------------------
// Invitations. The invitation service loads the facts; the rules live here.

/** The user an invitation is for, as the invitation service found it. */
export interface InviteeFacts {
  /** Where the user lives: a tenant, or the platform (platform users). */
  readonly context: { readonly kind: 'platform' } | { readonly kind: 'tenant'; readonly tenant: string };
  readonly superuser: boolean;
  /** Its roles on the tenant's sites (none for platform users). */
  readonly sites: ReadonlyMap<number, SiteGrant>;
}

/**
 * May `actor` invite this user (issue the one-time link that sets its password)? The
 * same right as creating it: a super user (a platform admin for platform users) invites
 * anyone of its scope; a site admin only a user it could have made itself — no super
 * user, no admin role (site admins grant view or write, never admin), and roles only on
 * sites whose users it manages. Whoever opens the link becomes that user, so a user
 * wider than the inviter could create is never invitable by it.
 */
export function decideInvite(actor: Actor, invitee: InviteeFacts): Decision {
  const whole = decide(actor, invitee.context.kind === 'tenant' ? 'manage_tenant' : 'manage_platform', invitee.context);
  if (whole.allowed || invitee.context.kind !== 'tenant') return whole;
  const tenant = invitee.context.tenant;
  if (invitee.superuser) return deny('only super users invite a super user');
  if (invitee.sites.size === 0) return deny('a user without a role on any site is invited by super users only');
  for (const [siteId, grant] of invitee.sites) {
    if (grant.role === 'admin') return deny(`the user is admin of site ${siteId}: site admins grant view or write, never admin`);
    const site = decide(actor, 'manage_site_users', { kind: 'site', tenant, siteId });
    if (!site.allowed) return deny(`the user holds a role on site ${siteId}, whose users the inviter does not manage (${site.reason})`);
  }
  const ids = [...invitee.sites.keys()].sort((a, b) => a - b);
  return allow(`manage_site_users on every site the user holds a role on (${ids.join(', ')})`);
}

/** Audit label of an actor: its login, or what it is. */
export function actorLabel(actor: Actor): string {
  switch (actor.kind) {
    case 'tenant_user':
      return actor.login;
    case 'platform_user':
      return `platform:${actor.login}`;
    case 'anonymous':
      return 'anonymous';
    case 'system':
      return actor.name;
  }
}

/**
 * Matomo: tracking parameters that rewrite history or identity (`cip`, an old `cdt`,
 * `country`, `region`, `city`, `lat`, `long`) need a token with write or admin
 * access on the site, or a super user's.
 */
export function decideTrackingOverride(actor: Actor, tenant: string, siteId: number): Decision {
  const role = effectiveRole(actor, tenant, siteId);
  if (role === 'superuser') return allow(`superuser of tenant ${tenant}`);
  if (role === 'write' || role === 'admin') return allow(`role ${role} on site ${siteId}`);
  return deny(`role ${role} on site ${siteId}; write or admin is needed`);
}

// ---------------------------------------------------------------------------
// Collections (workspaces). The facts are loaded by the workspace service; the rules live here.

export type CollectionKind = 'shared' | 'internal' | 'tenant' | 'personal';
export type CollectionLevel = 'none' | 'view' | 'curate';

export interface CollectionFacts {
  readonly kind: CollectionKind;
  /** The tenant of a tenant collection, or of a tenant user's personal collection; null for registry collections. */
  readonly tenant: string | null;
  readonly ownerUserId: number | null;
  /** The most permissive group grant the actor holds on it (own rows, else the nearest ancestor's), naming the group. */
  readonly groupGrant: { readonly level: 'view' | 'curate'; readonly group: string } | null;
}

const levelRank: Readonly<Record<CollectionLevel, number>> = { none: 0, view: 1, curate: 2 };

export function levelAtLeast(level: CollectionLevel, minimum: CollectionLevel): boolean {
  return levelRank[level] >= levelRank[minimum];
}

/** What an actor may do with a collection, and why (the grant, or the rule, that decided it). */
export function collectionAccess(actor: Actor, facts: CollectionFacts): { readonly level: CollectionLevel; readonly reason: string } {
  if (actor.kind === 'system') return { level: 'curate', reason: `the console operator (${actor.name})` };
  if (actor.kind === 'anonymous') return { level: 'none', reason: 'anonymous users see no collection' };
  const viaGroup = (cap: CollectionLevel): { level: CollectionLevel; reason: string } => {
    if (!facts.groupGrant) return { level: 'none', reason: 'no group of the user is granted this collection' };
    const level = levelAtLeast(facts.groupGrant.level, cap) ? cap : facts.groupGrant.level;
    return { level, reason: `group "${facts.groupGrant.group}" grants ${level}` };
  };
  switch (facts.kind) {
    case 'shared':
      if (actor.kind === 'platform_user') return actor.platformAdmin ? { level: 'curate', reason: 'platform_admin curates shared collections' } : viaGroup('curate');
      // Tenant groups get at most View on shared collections.
      return viaGroup('view');
    case 'internal':
      if (actor.kind !== 'platform_user') return { level: 'none', reason: 'internal collections are for platform users only' };
      return actor.platformAdmin ? { level: 'curate', reason: 'platform_admin curates internal collections' } : viaGroup('curate');
    case 'tenant':
      if (actor.kind === 'tenant_user') {
        return actor.tenant === facts.tenant ? { level: 'curate', reason: `users of tenant ${actor.tenant} curate its collection` } : { level: 'none', reason: `the collection belongs to tenant ${facts.tenant ?? '(none)'}` };
      }
      if (actor.platformAdmin && actor.actingIn !== null && actor.actingIn === facts.tenant) return { level: 'curate', reason: `platform_admin acting in tenant ${actor.actingIn}` };
      return { level: 'none', reason: 'tenant collections are for the tenant\'s users' };
    case 'personal': {
      const owner = actor.kind === 'tenant_user' ? actor.tenant === facts.tenant && actor.userId === facts.ownerUserId : facts.tenant === null && actor.actingIn === null && actor.userId === facts.ownerUserId;
      return owner ? { level: 'curate', reason: 'the owner of a personal collection' } : { level: 'none', reason: 'a personal collection is its owner\'s only' };
    }
  }
}

// ---------------------------------------------------------------------------
// Collection operations: where a collection's or item's content may move or be copied to.
// Each store is its own world: content never crosses tenants, and tenant or personal
// (tenant user) content never reaches a registry collection, where other tenants would see it.

/** Where a collection sits, as the move and copy rules see it, and what the actor may do there. */
export interface CollectionPlacement {
  readonly kind: CollectionKind;
  /** The tenant whose store holds it; null for the registry (shared, internal, platform users' personal). */
  readonly tenant: string | null;
  readonly ownerUserId: number | null;
  readonly level: CollectionLevel;
}

/** A refused operation says whether the actor lacks a level (403) or the rules forbid it for anyone (also 403, different words). */
export interface PlacementDecision extends Decision {
  readonly refusal?: 'level' | 'rule';
}

const rule = (reason: string): PlacementDecision => ({ allowed: false, reason, refusal: 'rule' });
const lacking = (reason: string): PlacementDecision => ({ allowed: false, reason, refusal: 'level' });

function placementName(p: CollectionPlacement): string {
  if (p.kind === 'personal') return p.tenant === null ? 'a platform user\'s personal collection' : 'a personal collection';
  return `a ${p.kind} collection`;
}

/** Content of a different store: the cross-store rules shared by move and copy. */
function acrossStores(source: CollectionPlacement, target: CollectionPlacement, verb: string): PlacementDecision | null {
  if (source.tenant === target.tenant) return null;
  if (source.tenant !== null && target.tenant !== null) return rule(`content never ${verb} from one tenant to another`);
  if (source.tenant !== null) return rule(`content of ${placementName(source)} never ${verb} into ${placementName(target)}: other tenants would see it`);
  return null;
}

/**
 * Moves keep content inside its own store and never widen who sees it: tenant ↔ personal
 * (same tenant), shared ↔ shared, internal ↔ internal, a platform user's personal
 * collection → shared or internal. The actor curates both ends.
 */
export function decideMove(source: CollectionPlacement, target: CollectionPlacement): PlacementDecision {
  const across = acrossStores(source, target, 'moves');
  if (across) return across;
  if (source.tenant !== target.tenant) return rule(`content of ${placementName(source)} does not move into a tenant; copy it instead`);
  const sameOwner = source.ownerUserId === target.ownerUserId;
  const pair = `${source.kind}>${target.kind}`;
  let allowedPair: boolean;
  switch (pair) {
    case 'internal>shared':
      return rule('internal content never moves into a shared collection: tenants would see it');
    case 'shared>internal':
      return rule('shared content moves only within shared collections; copy it into an internal one instead');
    case 'shared>shared':
    case 'internal>internal':
    case 'tenant>tenant':
      allowedPair = true;
      break;
    case 'tenant>personal':
    case 'personal>tenant':
      allowedPair = source.tenant !== null;
      break;
    case 'personal>shared':
    case 'personal>internal':
      allowedPair = source.tenant === null;
      break;
    case 'personal>personal':
      if (!sameOwner) return rule('content never moves into another user\'s personal collection');
      allowedPair = true;
      break;
    default:
      allowedPair = false;
  }
  if (!allowedPair) return rule(`content of ${placementName(source)} does not move into ${placementName(target)}; copy it instead`);
  if (!levelAtLeast(source.level, 'curate') || !levelAtLeast(target.level, 'curate')) return lacking('moving needs curate on both the source and the target collection');
  return { allowed: true, reason: `${source.kind} → ${target.kind} in the same store, curated on both ends` };
}

/**
 * Copies may go wherever the actor curates, except where the copy would widen who sees
 * the definitions: nothing of a tenant into the registry or another tenant, nothing
 * internal into a shared collection or a tenant. A shared dashboard copied into a tenant
 * is fine: it runs on the viewer's own data anyway.
 */
export function decideCopy(source: CollectionPlacement, target: CollectionPlacement): PlacementDecision {
  const across = acrossStores(source, target, 'is copied');
  if (across) return across;
  if (source.kind === 'internal' && (target.kind === 'shared' || target.tenant !== null)) {
    return rule(`internal content is never copied into ${placementName(target)}: tenants would see it`);
  }
  if (source.tenant === null && target.tenant !== null && source.kind !== 'shared') {
    return rule(`only shared content is copied into a tenant, not content of ${placementName(source)}`);
  }
  if (!levelAtLeast(source.level, 'view')) return lacking('copying needs view on the source');
  if (!levelAtLeast(target.level, 'curate')) return lacking('copying needs curate on the target collection');
  return { allowed: true, reason: `${source.kind} → ${target.kind}: the copy is seen by no one who could not see the original` };
}

/**
 * May a dashboard at `dashboard` keep naming a saved report at `report` (same store)? Only
 * when everyone who sees the dashboard can see the report: the same kind and owner, or a
 * personal dashboard naming a report of its owner's wider collections.
 */
export function widgetReferenceHolds(dashboard: Omit<CollectionPlacement, 'level'>, report: Omit<CollectionPlacement, 'level'>): boolean {
  if (dashboard.tenant !== report.tenant) return false;
  if (dashboard.kind === report.kind) return dashboard.ownerUserId === report.ownerUserId;
  return dashboard.kind === 'personal' && report.kind !== 'personal';
}

// ---------------------------------------------------------------------------
// Email subscriptions (scheduled reports). The subscriptions service loads the facts; the rules live here.

export interface SubscriptionFacts {
  /** The actor's groups (the special group of its kind included), and whether each lets members subscribe. */
  readonly groups: readonly { readonly name: string; readonly canSubscribe: boolean }[];
}

/** May the actor schedule email reports at all? Group grants are additive: one allowing group is enough. */
export function decideSubscribe(actor: Actor, facts: SubscriptionFacts): Decision {
  if (actor.kind === 'system') return allow(`the console operator (${actor.name}) holds every right`);
  if (actor.kind === 'anonymous') return deny('anonymous users cannot subscribe to reports');
  const granting = facts.groups.find((group) => group.canSubscribe);
  if (granting) return allow(`group "${granting.name}" allows email subscriptions`);
  return deny(`none of the groups of ${actor.login} allows email subscriptions`);
}

/**
 * Where an actor's reports may be mailed: its own address always; other addresses
 * only when a super user (a platform admin for platform users) asks, since mailing
 * data out of the tenant is a super user's call.
 */
export function decideSubscriptionRecipients(actor: Actor, ownEmail: string, recipients: readonly string[]): Decision {
  const own = ownEmail.trim().toLowerCase();
  const others = recipients.filter((address) => address.trim().toLowerCase() !== own);
  if (others.length === 0) return allow('only the subscriber\'s own address');
  if (actor.kind === 'system') return allow(`the console operator (${actor.name}) holds every right`);
  if (actor.kind === 'tenant_user' && actor.superuser) return allow(`superuser of tenant ${actor.tenant}`);
  if (actor.kind === 'platform_user' && actor.platformAdmin) return allow('platform_admin');
  return deny(`only super users may mail reports to other addresses than their own (${others[0] ?? ''})`);
}

// ---------------------------------------------------------------------------
// Row-level data policies, sensitive segments and signed embedding. The data-policy
// and embed services load the facts; the rules live here.

/**
 * Whose reports the data policies of its groups restrict. Tenant users, super users
 * included (a policy is about which data, not about roles), and anonymous or embed
 * viewers (they see a tenant's data too); platform users acting in a tenant (always
 * audited) and the console operator are not restricted.
 */
export function decideDataPolicy(actor: Actor): Decision {
  switch (actor.kind) {
    case 'tenant_user':
      return allow(`${actor.login} is a user of tenant ${actor.tenant}: the data policies of its groups apply${actor.superuser ? ' (super users too)' : ''}`);
    case 'anonymous':
      return allow('anonymous and embed viewers see a tenant\'s data through the data policies that apply to every tenant user');
    case 'platform_user':
      return deny('platform users acting in a tenant are not restricted by tenant data policies');
    case 'system':
      return deny(`the console operator (${actor.name}) is not restricted by data policies`);
  }
}

/** Segment dimensions that single out a person: filtering by them reveals what they hide, so they need view_sensitive_data. */
export const sensitiveSegmentDimensions: readonly string[] = ['userId', 'visitorId'];

/** What an embed request asks for, as the embed service found it. */
export interface EmbedFacts {
  /** `[Embedding] enabled`, and a secret long enough to verify tokens with. */
  readonly enabled: boolean;
  /** The tenant whose host serves the request. */
  readonly hostTenant: string;
  /** The tenant the (verified) token names in its `@tenant` claim. */
  readonly tokenTenant: string;
  /** Where the dashboard lives: a shared collection (registry) or a tenant's own collection tree. */
  readonly collectionKind: CollectionKind;
  /** The tenant of a tenant collection; null for registry collections. */
  readonly collectionTenant: string | null;
}

/**
 * May this dashboard be embedded for this tenant? Only dashboards of shared
 * collections (offered to every tenant) or of the tenant's own collection; never a
 * personal or internal one, never another tenant's, never for a token of another tenant.
 */
export function decideEmbed(facts: EmbedFacts): Decision {
  if (!facts.enabled) return deny('embedding is not enabled on this platform');
  if (facts.tokenTenant !== facts.hostTenant) return deny(`the token is for tenant ${facts.tokenTenant}, not ${facts.hostTenant}`);
  if (facts.collectionKind === 'shared') return allow('a dashboard of a shared collection, shown with the tenant\'s own data');
  if (facts.collectionKind === 'tenant' && facts.collectionTenant === facts.hostTenant) return allow(`a dashboard of tenant ${facts.hostTenant}'s own collection`);
  return deny(`a dashboard of a ${facts.collectionKind} collection cannot be embedded`);
}

/**
 * The actor an embed view runs as: read-only (Matomo's anonymous rights: view_reports
 * only, never sensitive data) on the sites the dashboard uses, and when the token
 * names a user, only on those of them that user may view. The hard tenant rule of
 * `decide` still holds: it is an actor of `tenant` only.
 */
export function embedViewerActor(tenant: string, siteIds: readonly number[], user: Actor | null): AnonymousActor {
  const sites = new Map<number, SiteGrant>();
  for (const siteId of siteIds) {
    if (user && !decide(user, 'view_reports', { kind: 'site', tenant, siteId }).allowed) continue;
    sites.set(siteId, { role: 'view', capabilities: new Set() });
  }
  return { kind: 'anonymous', tenant, sites };
}

// ---------------------------------------------------------------------------
// Tenant strategy. The platform runs `multi-tenant` (tenants with their own users, shared
// and tenant collections) or `single-tenant` (platform users only). The strategy is a fact
// the caller loads from the registry; these rules only read it.

export const tenantStrategies = ['single-tenant', 'multi-tenant'] as const;
export type TenantStrategy = (typeof tenantStrategies)[number];

export function isTenantStrategy(value: string): value is TenantStrategy {
  return (tenantStrategies as readonly string[]).includes(value);
}

/**
 * Shared and tenant collections exist for tenants: while the platform is single-tenant
 * they are hidden from every user (listing and access refuse, names included) and come
 * back unchanged when it is multi-tenant again. The console operator still reaches them
 * (exports, backups).
 */
export function collectionShownUnderStrategy(actor: Actor, kind: CollectionKind, strategy: TenantStrategy): Decision {
  if (strategy === 'multi-tenant' || (kind !== 'shared' && kind !== 'tenant')) return allow(`${kind} collections are shown under the ${strategy} strategy`);
  if (actor.kind === 'system') return allow(`the console operator (${actor.name}) sees hidden collections`);
  return deny(`${kind} collections are hidden while the platform runs single-tenant`);
}

/** A move of one user between the platform (`null`) and a tenant (its slug). */
export interface UserMoveFacts {
  readonly from: string | null;
  readonly to: string | null;
  readonly strategy: TenantStrategy;
}

/**
 * May `actor` move a user from `from` to `to`? Platform admins only; a tenant user never
 * goes from one tenant to another (it belongs to one tenant), and nobody is assigned to a
 * tenant while the platform is single-tenant. `refusal` tells who-may (403) from
 * what-may (400).
 */
export function decideUserMove(actor: Actor, move: UserMoveFacts): Decision & { readonly refusal?: 'actor' | 'rule' } {
  const platformAdmin = actor.kind === 'system' || (actor.kind === 'platform_user' && actor.platformAdmin);
  if (!platformAdmin) return { allowed: false, reason: 'only platform admins move users between the platform and tenants', refusal: 'actor' };
  if (move.from === move.to) return { allowed: false, reason: move.from === null ? 'the user is a platform user already' : `the user belongs to tenant ${move.from} already`, refusal: 'rule' };
  if (move.from !== null && move.to !== null) return { allowed: false, reason: `a tenant user never moves from one tenant to another (${move.from} → ${move.to})`, refusal: 'rule' };
  if (move.to !== null && move.strategy === 'single-tenant') return { allowed: false, reason: 'the platform runs single-tenant: switch it to multi-tenant before assigning users to tenants', refusal: 'rule' };
  return allow(move.to === null ? `a platform admin moves a user of tenant ${move.from ?? ''} to the platform` : `a platform admin assigns a platform user to tenant ${move.to}`);
}
