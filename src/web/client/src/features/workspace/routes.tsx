import type { ComponentType } from 'react';
import type { RouteObject } from 'react-router';
import { Loading } from '../../ui/components';

/**
 * Collections, dashboards and saved reports. Each page loads on first visit (route-level
 * lazy loading), so the shell and other areas do not carry the workspace's code; a page
 * opened directly shows a spinner while its code arrives.
 */
const page = (load: () => Promise<{ Component: ComponentType }>): Pick<RouteObject, 'lazy' | 'hydrateFallbackElement'> => ({ lazy: load, hydrateFallbackElement: <Loading /> });

export const workspaceRoutes: RouteObject[] = [
  { path: 'collections', ...page(() => import('./CollectionsPage').then((m) => ({ Component: m.CollectionsPage }))) },
  { path: 'collections/:id', ...page(() => import('./CollectionPage').then((m) => ({ Component: m.CollectionPage }))) },
  { path: 'dashboards', ...page(() => import('./CollectionsPage').then((m) => ({ Component: m.CollectionsPage }))) },
  { path: 'dashboards/new', ...page(() => import('./ItemEditor').then((m) => ({ Component: m.NewItemPage }))) },
  { path: 'dashboards/:id', ...page(() => import('./ItemPage').then((m) => ({ Component: m.ItemPage }))) },
  { path: 'dashboards/:id/edit', ...page(() => import('./ItemEditor').then((m) => ({ Component: m.EditItemPage }))) },
];
