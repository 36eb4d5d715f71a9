import type { RouteObject } from 'react-router';

/** Collections, dashboards and saved reports. */
export const workspaceRoutes: RouteObject[] = [{ path: 'collections/*', element: <p>Collections</p> }];
