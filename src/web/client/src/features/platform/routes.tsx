import type { RouteObject } from 'react-router';

/** Platform administration: tenants, tenant groups, shared collections. */
export const platformRoutes: RouteObject[] = [{ path: 'platform/*', element: <p>Platform</p> }];
