import { Navigate, useRouteError, type RouteObject } from 'react-router';
import { Button, Card, ErrorNotice, Loading } from '../../ui/components';

/** A screen that failed to load (a new version was deployed meanwhile) or threw. */
function PlatformRouteError() {
  const error = useRouteError();
  return (
    <Card title="This page could not be shown">
      <ErrorNotice error={error instanceof Error ? error : new Error('Unexpected error.')} />
      <Button variant="primary" onClick={() => window.location.reload()}>
        Reload
      </Button>
    </Card>
  );
}

/**
 * Platform administration on the platform host, for platform admins: tenants, the tenant
 * strategy, groups (members, data policies, subscriptions) and moving users. Each screen
 * is its own chunk, loaded when first visited.
 */
export const platformRoutes: RouteObject[] = [
  {
    path: 'platform',
    hydrateFallbackElement: <Loading />,
    errorElement: <PlatformRouteError />,
    lazy: async () => ({ Component: (await import('./PlatformLayout')).PlatformLayout }),
    children: [
      { index: true, element: <Navigate to="tenants" replace /> },
      { path: 'tenants', lazy: async () => ({ Component: (await import('./TenantsPage')).TenantsPage }) },
      { path: 'tenants/:slug', lazy: async () => ({ Component: (await import('./TenantPage')).TenantPage }) },
      { path: 'groups', lazy: async () => ({ Component: (await import('./GroupsPage')).GroupsPage }) },
      { path: 'groups/:id', lazy: async () => ({ Component: (await import('./GroupPage')).GroupPage }) },
      { path: 'strategy', lazy: async () => ({ Component: (await import('./StrategyPage')).StrategyPage }) },
      { path: 'users', lazy: async () => ({ Component: (await import('./MoveUserPage')).MoveUserPage }) },
      { path: '*', element: <Navigate to="tenants" replace /> },
    ],
  },
];
