import { createBrowserRouter, Outlet, RouterProvider } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { ApiError } from './api/http';
import { SessionProvider } from './api/session';
import { HomeRedirect, PageLoading, Shell } from './layout/Shell';
import { LoginPage } from './features/auth/LoginPage';
import { InvitationPage } from './features/auth/InvitationPage';
import { SetupPage } from './features/auth/SetupPage';
import { accountRoutes } from './features/account/routes';
import { reportRoutes } from './features/reports/routes';
import { adminRoutes } from './features/admin/routes';
import { workspaceRoutes } from './features/workspace/routes';
import { platformRoutes } from './features/platform/routes';
import { NotFound } from './layout/NotFound';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      refetchOnWindowFocus: false,
      // Refusals are answers, not hiccups: retry only what might succeed next time.
      retry: (count, error) => count < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
    },
  },
});

function Root() {
  return (
    <SessionProvider fallback={<PageLoading />}>
      <Outlet />
    </SessionProvider>
  );
}

const router = createBrowserRouter([
  {
    element: <Root />,
    children: [
      { path: 'login', element: <LoginPage /> },
      { path: 'invitation', element: <InvitationPage /> },
      { path: 'setup', element: <SetupPage /> },
      {
        element: <Shell />,
        children: [
          { index: true, element: <HomeRedirect /> },
          { path: 'index.php', element: <HomeRedirect /> },
          ...reportRoutes,
          ...workspaceRoutes,
          ...adminRoutes,
          ...platformRoutes,
          ...accountRoutes,
          { path: '*', element: <NotFound /> },
        ],
      },
    ],
  },
]);

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  );
}
