import { lazy, Suspense, type ReactNode } from 'react';
import type { RouteObject } from 'react-router';
import { Loading } from '../../ui/components';

// The reports (and the charts library with them) load only when a report is opened.
const ReportsPage = lazy(() => import('./ReportsPage').then((m) => ({ default: m.ReportsPage })));
const ReportsHome = lazy(() => import('./ReportsPage').then((m) => ({ default: m.ReportsHome })));

const loading = (element: ReactNode) => <Suspense fallback={<Loading label="Loading reports…" />}>{element}</Suspense>;

/** Reports: site, period and date, visits over time, the core reports, segments, the visitor log. */
export const reportRoutes: RouteObject[] = [
  { path: 'reports', element: loading(<ReportsHome />) },
  { path: 'reports/:idSite/:report?', element: loading(<ReportsPage />) },
];
