import type { RouteObject } from 'react-router';

/**
 * Collections, dashboards and saved reports. Each page loads on first visit (route-level
 * lazy loading), so the shell and other areas do not carry the workspace's code.
 */
export const workspaceRoutes: RouteObject[] = [
  { path: 'collections', lazy: () => import('./CollectionsPage').then((m) => ({ Component: m.CollectionsPage })) },
  { path: 'collections/:id', lazy: () => import('./CollectionPage').then((m) => ({ Component: m.CollectionPage })) },
  { path: 'dashboards', lazy: () => import('./CollectionsPage').then((m) => ({ Component: m.CollectionsPage })) },
  { path: 'dashboards/new', lazy: () => import('./ItemEditor').then((m) => ({ Component: m.NewItemPage })) },
  { path: 'dashboards/:id', lazy: () => import('./ItemPage').then((m) => ({ Component: m.ItemPage })) },
  { path: 'dashboards/:id/edit', lazy: () => import('./ItemEditor').then((m) => ({ Component: m.EditItemPage })) },
];
