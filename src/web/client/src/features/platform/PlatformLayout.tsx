import { Link, NavLink, Outlet } from 'react-router';
import { useAbilities, useSession } from '../../api/session';
import { Button, Card } from '../../ui/components';

/**
 * The frame of the platform screens: platform admins only, on the platform itself. A
 * platform admin acting inside a tenant first comes back to the platform, because every
 * call would otherwise run in that tenant.
 */
export function PlatformLayout() {
  const abilities = useAbilities();
  const { actingTenant, actIn } = useSession();

  if (!abilities.platformAdmin) {
    return (
      <Card title="Platform administration">
        <p>Only platform admins manage tenants and groups, on the platform host.</p>
        <Link to="/">Back to the start page</Link>
      </Card>
    );
  }

  if (actingTenant) {
    return (
      <Card title="You are acting in a tenant">
        <p>
          You are acting as super user in <strong>{actingTenant}</strong>. Platform administration (tenants, groups, the tenant strategy) applies to the whole platform, so
          leave the tenant first.
        </p>
        <div className="platform-actions platform-actions-start">
          <Button variant="primary" onClick={() => actIn(null)}>
            Back to the platform
          </Button>
          <Link className="btn" to="/reports">
            Stay in {actingTenant}
          </Link>
        </div>
      </Card>
    );
  }

  return (
    <div className="sidebar-layout">
      <nav className="subnav" aria-label="Platform administration">
        <NavLink to="/platform/tenants">Tenants</NavLink>
        <NavLink to="/platform/groups">Groups</NavLink>
        <Link to="/collections?kind=shared">Shared collections</Link>
        <NavLink to="/platform/users">Move users</NavLink>
        <NavLink to="/platform/strategy">Tenant strategy</NavLink>
      </nav>
      <div className="platform-content">
        <Outlet />
      </div>
    </div>
  );
}
