import { describe, expect, it } from 'vitest';
import { mappedRightsFor, parseRoleMapping } from './role-mapping.js';

describe('role mapping', () => {
  it('parses entries written as INI list items or split at commas', () => {
    const asItems = parseRoleMapping(['Analytics-Admins = superuser', 'Site1-Viewers = site:1:view', 'Analysts = site:1:write,site:2:write', 'Crew = group:Editors']);
    const asOneLine = parseRoleMapping(['Analytics-Admins = superuser', 'Site1-Viewers = site:1:view', 'Analysts = site:1:write', 'site:2:write', 'Crew = group:Editors']);
    expect(asOneLine).toEqual(asItems);
    expect(asItems.get('Analysts')).toEqual([
      { kind: 'site', siteId: 1, role: 'write' },
      { kind: 'site', siteId: 2, role: 'write' },
    ]);
    expect(asItems.get('Crew')).toEqual([{ kind: 'group', name: 'Editors' }]);
  });

  it('merges the rights of several groups, the most permissive role winning', () => {
    const mapping = parseRoleMapping(['A = site:1:view,site:2:admin', 'B = site:1:write', 'C = superuser', 'D = group:Editors']);
    const rights = mappedRightsFor(mapping, ['A', 'B', 'D', 'Unmapped']);
    expect(rights.superuser).toBe(false);
    expect([...rights.sites]).toEqual([
      [1, 'write'],
      [2, 'admin'],
    ]);
    expect([...rights.groups]).toEqual(['Editors']);
    expect(mappedRightsFor(mapping, ['C']).superuser).toBe(true);
    expect(mappedRightsFor(mapping, []).sites.size).toBe(0);
  });

  it('refuses malformed entries with a message naming the group', () => {
    expect(() => parseRoleMapping(['A = site:1:owner'])).toThrow('Role mapping of group "A": "owner" is not view, write or admin.');
    expect(() => parseRoleMapping(['A = admin'])).toThrow('is not superuser, site:<id>:view|write|admin or group:<name>');
    expect(() => parseRoleMapping(['site:1:view'])).toThrow('must start with "<group> ="');
    expect(() => parseRoleMapping([' = superuser'])).toThrow('names no group');
  });
});
