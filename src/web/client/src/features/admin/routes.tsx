import type { RouteObject } from 'react-router';

/** Tenant administration: users, sites, security, audit log, settings and branding. */
export const adminRoutes: RouteObject[] = [{ path: 'admin/*', element: <p>Administration</p> }];
