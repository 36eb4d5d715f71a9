import { useEffect, useState } from 'react';
import { Link, NavLink, Navigate, Outlet, useLocation } from 'react-router';
import { useAbilities, useSession } from '../api/session';
import { useTenants } from '../features/platform/api';
import { Loading } from '../ui/components';

/** The tenant's logo and product name (or the platform's). */
export function Brand() {
  const { face } = useSession();
  return (
    <span className="brand">
      {face.branding.logoUrl ? <img src={face.branding.logoUrl} alt="" className="brand-logo" /> : <span className="brand-mark" aria-hidden="true" />}
      <span className="brand-name">{face.branding.productName}</span>
      {!face.platform && face.name !== face.branding.productName && <span className="brand-tenant">{face.name}</span>}
    </span>
  );
}

/** Platform admins pick the tenant they act in (every act is audited on both sides). */
function ActingTenantPicker() {
  const { actingTenant, actIn } = useSession();
  // The platform screens' own list: one request serves both, and their changes refresh the picker.
  const tenants = useTenants();
  return (
    <label className="acting-picker">
      <span>Acting in</span>
      <select value={actingTenant ?? ''} onChange={(event) => actIn(event.target.value || null)}>
        <option value="">the platform</option>
        {(tenants.data ?? [])
          .filter((t) => t.status === 'active')
          .map((t) => (
            <option key={t.slug} value={t.slug}>
              {t.name} ({t.slug})
            </option>
          ))}
      </select>
    </label>
  );
}

/** The frame of every signed-in page: branding, navigation by what the user may use, account menu. */
export function Shell() {
  const session = useSession();
  const abilities = useAbilities();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [location.pathname]);

  if (!session.me) return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}${session.sessionExpired ? '&expired=1' : ''}`} replace />;
  const showAdmin = abilities.inTenant && (abilities.superuser || (abilities.adminSites !== 'all' && abilities.adminSites.length > 0));

  return (
    <div className="shell">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="topbar-brand">
          <Brand />
        </Link>
        <button type="button" className="btn btn-link menu-toggle" aria-expanded={menuOpen} aria-controls="main-nav" onClick={() => setMenuOpen((open) => !open)}>
          Menu
        </button>
        <nav id="main-nav" aria-label="Main" className={menuOpen ? 'open' : undefined}>
          {abilities.inTenant && <NavLink to="/reports">Reports</NavLink>}
          {(abilities.inTenant || abilities.platformAdmin) && <NavLink to="/collections">Dashboards</NavLink>}
          {showAdmin && <NavLink to="/admin">Administration</NavLink>}
          {abilities.platformAdmin && <NavLink to="/platform">Platform</NavLink>}
          <NavLink to="/account">Account</NavLink>
        </nav>
        <div className="topbar-user">
          {abilities.platformAdmin && <ActingTenantPicker />}
          <span className="muted" title={session.me.user?.email ?? ''}>
            {session.me.user?.login}
          </span>
          <button type="button" className="btn btn-link" onClick={() => void session.signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}

/** `/`: reports for tenant users, the platform screens for platform admins on their host. */
export function HomeRedirect() {
  const abilities = useAbilities();
  if (!abilities.signedIn) return <Navigate to="/login" replace />;
  if (abilities.inTenant) return <Navigate to="/reports" replace />;
  if (abilities.platformAdmin) return <Navigate to="/platform" replace />;
  return <Navigate to="/account" replace />;
}

export function PageLoading() {
  return (
    <main className="center-page">
      <Loading />
    </main>
  );
}
