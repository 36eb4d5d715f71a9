import type { RouteObject } from 'react-router';

/** Tenant administration: users, sites, security, audit log, settings and branding (each screen loaded on first use). */
export const adminRoutes: RouteObject[] = [
  {
    path: 'admin',
    lazy: () => import('./AdminLayout').then((m) => ({ Component: m.AdminLayout })),
    children: [
      { index: true, lazy: () => import('./AdminLayout').then((m) => ({ Component: m.AdminHome })) },
      { path: 'users', lazy: () => import('./UsersPage').then((m) => ({ Component: m.UsersPage })) },
      { path: 'users/:login', lazy: () => import('./UserDetailPage').then((m) => ({ Component: m.UserDetailPage })) },
      { path: 'sites', lazy: () => import('./SitesPage').then((m) => ({ Component: m.SitesPage })) },
      { path: 'security', lazy: () => import('./SecurityPage').then((m) => ({ Component: m.SecurityPage })) },
      { path: 'audit', lazy: () => import('./AuditPage').then((m) => ({ Component: m.AuditPage })) },
      { path: 'settings', lazy: () => import('./SettingsPage').then((m) => ({ Component: m.SettingsPage })) },
    ],
  },
];
