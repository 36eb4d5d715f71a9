import { describe, expect, it } from 'vitest';
import {
  can,
  capabilities,
  decide,
  decideInvite,
  effectiveRole,
  siteFilter,
  type AccessContext,
  type Actor,
  type Capability,
  type InviteeFacts,
  type SiteRole,
  type TenantUserActor,
} from './policy.js';

function tenantUser(role: SiteRole | 'superuser' | 'noaccess', extra: Capability[] = [], tenant = 'acme'): TenantUserActor {
  const sites = new Map<number, { role: SiteRole; capabilities: ReadonlySet<Capability> }>();
  if (role !== 'superuser' && role !== 'noaccess') sites.set(1, { role, capabilities: new Set(extra) });
  return { kind: 'tenant_user', tenant, userId: 7, login: `${role}-user`, superuser: role === 'superuser', sites };
}

const site1: AccessContext = { kind: 'site', tenant: 'acme', siteId: 1 };

// The table, row by row: superuser, admin, write, view.
const table: Record<Capability, [boolean, boolean, boolean, boolean]> = {
  view_reports: [true, true, true, true],
  create_reports: [true, true, true, false],
  manage_goals: [true, true, true, false],
  manage_custom_dimensions: [true, true, false, false],
  configure_site: [true, true, false, false],
  manage_site_users: [true, true, false, false],
  view_sensitive_data: [true, false, false, false],
  export_raw_data: [true, true, true, false],
  manage_tenant: [true, false, false, false],
  manage_platform: [false, false, false, false],
};

describe('policy: role × capability on a site', () => {
  const roles = ['superuser', 'admin', 'write', 'view'] as const;
  for (const capability of capabilities) {
    roles.forEach((role, index) => {
      it(`${role} ${table[capability][index] ? 'may' : 'may not'} ${capability}`, () => {
        expect(can(tenantUser(role), capability, site1)).toBe(table[capability][index]);
      });
    });
    it(`noaccess may not ${capability}`, () => {
      expect(can(tenantUser('noaccess'), capability, site1)).toBe(false);
    });
  }
});

describe('policy: grantable capabilities', () => {
  it('view + create_reports / manage_goals grants them; others are not grantable on view', () => {
    const actor = tenantUser('view', ['create_reports', 'manage_goals', 'manage_custom_dimensions', 'configure_site']);
    expect(can(actor, 'create_reports', site1)).toBe(true);
    expect(can(actor, 'manage_goals', site1)).toBe(true);
    expect(can(actor, 'manage_custom_dimensions', site1)).toBe(false);
    expect(can(actor, 'configure_site', site1)).toBe(false);
    expect(decide(actor, 'create_reports', site1).reason).toContain('capability create_reports granted');
  });
  it('write + manage_custom_dimensions grants it', () => {
    expect(can(tenantUser('write', ['manage_custom_dimensions']), 'manage_custom_dimensions', site1)).toBe(true);
  });
  it('a capability row on another site grants nothing here', () => {
    const actor = tenantUser('view', ['create_reports']);
    expect(can(actor, 'create_reports', { kind: 'site', tenant: 'acme', siteId: 2 })).toBe(false);
  });
});

describe('policy: sensitive data follows the per-site setting', () => {
  it.each([
    ['admin', 'admin', true],
    ['admin', 'write', true],
    ['write', 'write', true],
    ['write', 'admin', false],
    ['view', 'write', false],
    ['admin', 'none', false],
  ] as const)('%s with threshold %s → %s', (role, threshold, expected) => {
    expect(can(tenantUser(role), 'view_sensitive_data', { ...site1, sensitiveData: threshold })).toBe(expected);
  });
});

describe('policy: the hard tenant rule', () => {
  it('a tenant super user holds nothing in another tenant, whatever its rows say', () => {
    const actor = tenantUser('superuser');
    for (const capability of capabilities) {
      expect(can(actor, capability, { kind: 'site', tenant: 'other', siteId: 1 })).toBe(false);
      expect(can(actor, capability, { kind: 'tenant', tenant: 'other' })).toBe(false);
      expect(can(actor, capability, { kind: 'platform' })).toBe(false);
    }
  });
  it('a site grant with the same site id in another tenant does not count', () => {
    const actor = tenantUser('admin');
    expect(can(actor, 'view_reports', { kind: 'site', tenant: 'other', siteId: 1 })).toBe(false);
    expect(siteFilter(actor, 'view_reports', 'other')).toEqual([]);
    expect(effectiveRole(actor, 'other', 1)).toBe('noaccess');
  });
  it('the reason names the tenant mismatch', () => {
    expect(decide(tenantUser('admin'), 'view_reports', { kind: 'site', tenant: 'other', siteId: 1 }).reason).toContain('belongs to tenant acme');
  });
});

describe('policy: platform users', () => {
  const admin = (actingIn: string | null): Actor => ({ kind: 'platform_user', userId: 1, login: 'ops', platformAdmin: true, actingIn });
  it('a platform admin manages the platform', () => {
    expect(can(admin(null), 'manage_platform', { kind: 'platform' })).toBe(true);
  });
  it('acts inside a tenant only when acting in that tenant, then as its super user', () => {
    expect(can(admin(null), 'view_reports', site1)).toBe(false);
    expect(can(admin('other'), 'view_reports', site1)).toBe(false);
    expect(can(admin('acme'), 'manage_tenant', { kind: 'tenant', tenant: 'acme' })).toBe(true);
    expect(can(admin('acme'), 'view_sensitive_data', site1)).toBe(true);
    expect(can(admin('acme'), 'manage_platform', { kind: 'tenant', tenant: 'acme' })).toBe(false);
  });
  it('a platform user without platform_admin holds nothing in tenants', () => {
    const user: Actor = { kind: 'platform_user', userId: 2, login: 'analyst', platformAdmin: false, actingIn: 'acme' };
    expect(can(user, 'view_reports', site1)).toBe(false);
    expect(can(user, 'manage_platform', { kind: 'platform' })).toBe(false);
  });
});

describe('policy: anonymous and lists', () => {
  it('anonymous with view may only view reports', () => {
    const anonymous: Actor = { kind: 'anonymous', tenant: 'acme', sites: new Map([[1, { role: 'view', capabilities: new Set() }]]) };
    expect(can(anonymous, 'view_reports', site1)).toBe(true);
    expect(can(anonymous, 'export_raw_data', site1)).toBe(false);
    expect(can(anonymous, 'view_reports', { ...site1, siteId: 2 })).toBe(false);
  });
  it('siteFilter gives all for super users and an id list otherwise', () => {
    expect(siteFilter(tenantUser('superuser'), 'view_reports', 'acme')).toBe('all');
    expect(siteFilter(tenantUser('view'), 'view_reports', 'acme')).toEqual([1]);
    expect(siteFilter(tenantUser('view'), 'configure_site', 'acme')).toEqual([]);
  });
});

describe('policy: who may invite a user (the right to create it)', () => {
  const grants = (entries: [number, SiteRole][]) => new Map(entries.map(([siteId, role]) => [siteId, { role, capabilities: new Set<Capability>() }]));
  const invitee = (sites: [number, SiteRole][], superuser = false, tenant = 'acme'): InviteeFacts => ({ context: { kind: 'tenant', tenant }, superuser, sites: grants(sites) });
  const platformInvitee: InviteeFacts = { context: { kind: 'platform' }, superuser: false, sites: new Map() };
  const admin = (actingIn: string | null): Actor => ({ kind: 'platform_user', userId: 1, login: 'ops', platformAdmin: true, actingIn });
  const siteAdmin = tenantUser('admin');
  const anonymous: Actor = { kind: 'anonymous', tenant: 'acme', sites: grants([[1, 'view']]) };
  // actor, invitee, allowed
  const rows: [string, Actor, InviteeFacts, boolean][] = [
    ['super user: any user of its tenant', tenantUser('superuser'), invitee([[1, 'admin'], [2, 'view']]), true],
    ['super user: another super user', tenantUser('superuser'), invitee([], true), true],
    ['super user of another tenant', tenantUser('superuser', [], 'globex'), invitee([[1, 'view']]), false],
    ['site admin: a view user of its site', siteAdmin, invitee([[1, 'view']]), true],
    ['site admin: a write user of its site', siteAdmin, invitee([[1, 'write']]), true],
    ['site admin: a user also on a site it does not administer', siteAdmin, invitee([[1, 'view'], [2, 'view']]), false],
    ['site admin: an admin of its site', siteAdmin, invitee([[1, 'admin']]), false],
    ['site admin: a user without any role', siteAdmin, invitee([]), false],
    ['site admin: a super user', siteAdmin, invitee([], true), false],
    ['site admin of another tenant', tenantUser('admin', [], 'globex'), invitee([[1, 'view']]), false],
    ['write user', tenantUser('write'), invitee([[1, 'view']]), false],
    ['view user', tenantUser('view'), invitee([[1, 'view']]), false],
    ['anonymous', anonymous, invitee([[1, 'view']]), false],
    ['platform admin acting in the tenant', admin('acme'), invitee([[1, 'admin']], true), true],
    ['platform admin not acting in it', admin(null), invitee([[1, 'view']]), false],
    ['platform admin: a platform user', admin(null), platformInvitee, true],
    ['tenant super user: a platform user', tenantUser('superuser'), platformInvitee, false],
    ['console operator', { kind: 'system', name: 'cli' }, invitee([[1, 'admin']], true), true],
  ];
  for (const [label, actor, facts, allowed] of rows) {
    it(`${label}: ${allowed ? 'may' : 'may not'} invite`, () => {
      const decision = decideInvite(actor, facts);
      expect(decision.allowed, decision.reason).toBe(allowed);
      expect(decision.reason).not.toBe('');
    });
  }
});
