import type { ReactNode } from 'react';
import { NavLink, Navigate, Outlet } from 'react-router';
import { useAbilities } from '../../api/session';
import { Empty } from '../../ui/components';

interface Screen {
  readonly path: string;
  readonly label: string;
  /** Super users only; site admins see the others. */
  readonly superOnly: boolean;
}

export const adminScreens: readonly Screen[] = [
  { path: 'users', label: 'Users', superOnly: false },
  { path: 'sites', label: 'Sites', superOnly: false },
  { path: 'security', label: 'Security', superOnly: true },
  { path: 'audit', label: 'Audit log', superOnly: true },
  { path: 'settings', label: 'Settings & branding', superOnly: true },
];

/** The screens the signed-in user may use (the server decides again on every call). */
export function useAdminScreens(): readonly Screen[] {
  const abilities = useAbilities();
  if (!abilities.inTenant) return [];
  if (abilities.superuser) return adminScreens;
  const siteAdmin = abilities.adminSites !== 'all' && abilities.adminSites.length > 0;
  return siteAdmin ? adminScreens.filter((screen) => !screen.superOnly) : [];
}

/** /admin: a side navigation of the screens the user may use, the screen beside it. */
export function AdminLayout() {
  const screens = useAdminScreens();
  if (screens.length === 0) {
    return (
      <Empty title="Administration is not available to you">
        <p>Only super users and administrators of a site manage users and sites.</p>
      </Empty>
    );
  }
  return (
    <div className="sidebar-layout admin-layout">
      <nav className="subnav" aria-label="Administration">
        {screens.map((screen) => (
          <NavLink key={screen.path} to={`/admin/${screen.path}`}>
            {screen.label}
          </NavLink>
        ))}
      </nav>
      <div className="admin-content">
        <Outlet />
      </div>
    </div>
  );
}

/** /admin itself: the first screen the user may use. */
export function AdminHome() {
  const screens = useAdminScreens();
  const first = screens[0];
  return first ? <Navigate to={`/admin/${first.path}`} replace /> : null;
}

/** Screens for super users only say so to anyone else who lands on them by URL. */
export function RequireSuperuser({ children }: { children: ReactNode }) {
  const abilities = useAbilities();
  if (!abilities.superuser) {
    return (
      <div className="notice notice-error" role="alert">
        This screen is for the tenant’s super users.
      </div>
    );
  }
  return <>{children}</>;
}
