import type { RouteObject } from 'react-router';

/** Reports: site, period and date, visits over time, the core reports, segments, the visitor log. */
export const reportRoutes: RouteObject[] = [{ path: 'reports/*', element: <p>Reports</p> }];
