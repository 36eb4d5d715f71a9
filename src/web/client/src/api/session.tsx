import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useLocation, useNavigate } from 'react-router';
import { ApiError, api, getActingTenant, onUnauthenticated, setActingTenant, setCsrfToken } from './http';
import type { Me, TenantFace } from './types';

const ACTING_KEY = 'plura.actingTenant';

export interface Session {
  /** The host's tenant (or the platform) as a login page may show it. */
  readonly face: TenantFace;
  /** The signed-in user, or null. */
  readonly me: Me | null;
  /** Reloads the signed-in user (after sign-in, or a change of own rights). */
  readonly refresh: () => Promise<void>;
  readonly signOut: () => Promise<void>;
  /** Platform admins: act inside a tenant (null: back to the platform). */
  readonly actIn: (slug: string | null) => void;
  readonly actingTenant: string | null;
  /** The last check found the session expired (the login page says so). */
  readonly sessionExpired: boolean;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** Applies the tenant's colour to the whole interface (CSS custom properties). */
function applyBranding(face: TenantFace): void {
  const color = face.branding.primaryColor;
  if (color && /^#[0-9a-f]{6}$/i.test(color)) document.documentElement.style.setProperty('--brand', color);
  else document.documentElement.style.removeProperty('--brand');
  document.title = face.platform ? `${face.branding.productName} platform` : `${face.branding.productName} · ${face.name}`;
  document.documentElement.lang = face.language || 'en';
}

export function SessionProvider({ children, fallback }: { children: ReactNode; fallback: ReactNode }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const location = useLocation();
  const [acting, setActing] = useState<string | null>(() => {
    const saved = sessionStorage.getItem(ACTING_KEY);
    setActingTenant(saved);
    return saved;
  });

  const [sessionExpired, setSessionExpired] = useState(false);
  const face = useQuery({ queryKey: ['tenant-face'], queryFn: () => api.get<TenantFace>('/api/v1/tenant'), staleTime: 60_000 });
  const me = useQuery({
    queryKey: ['me', acting],
    queryFn: async () => {
      try {
        const answer = await api.get<Me>('/api/v1/me', { quiet: true });
        setCsrfToken(answer.csrfToken);
        setSessionExpired(false);
        return answer;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
          setSessionExpired(error.code === 'session_expired');
          return null;
        }
        throw error;
      }
    },
    staleTime: 30_000,
  });

  useEffect(() => {
    if (face.data) applyBranding(face.data);
  }, [face.data]);

  // A session that ends (expiry, sign-out elsewhere) sends the user to the login page, then back.
  useEffect(
    () =>
      onUnauthenticated((error) => {
        if (location.pathname.startsWith('/login')) return;
        queryClient.setQueryData(['me', getActingTenant()], null);
        const next = `${location.pathname}${location.search}`;
        void navigate(`/login?next=${encodeURIComponent(next)}${error.code === 'session_expired' ? '&expired=1' : ''}`, { replace: true });
      }),
    [location.pathname, location.search, navigate, queryClient],
  );

  const refresh = useCallback(async () => {
    await queryClient.invalidateQueries({ queryKey: ['me'] });
  }, [queryClient]);

  const signOut = useCallback(async () => {
    try {
      await api.post('/auth/logout');
    } finally {
      setCsrfToken(null);
      sessionStorage.removeItem(ACTING_KEY);
      setActingTenant(null);
      setActing(null);
      queryClient.clear();
      void navigate('/login', { replace: true });
    }
  }, [navigate, queryClient]);

  const actIn = useCallback(
    (slug: string | null) => {
      if (slug) sessionStorage.setItem(ACTING_KEY, slug);
      else sessionStorage.removeItem(ACTING_KEY);
      setActingTenant(slug);
      setActing(slug);
      // Every cached answer belonged to the other tenant.
      queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== 'tenant-face' });
    },
    [queryClient],
  );

  const value = useMemo<Session | null>(
    () => (face.data && me.data !== undefined ? { face: face.data, me: me.data, refresh, signOut, actIn, actingTenant: acting, sessionExpired } : null),
    [face.data, me.data, refresh, signOut, actIn, acting, sessionExpired],
  );

  if (face.error || me.error) {
    const error = face.error ?? me.error;
    return (
      <main className="center-page">
        <div className="card" role="alert">
          <h1>Cannot reach the analytics server</h1>
          <p>{error instanceof Error ? error.message : String(error)}</p>
          <button type="button" className="btn" onClick={() => window.location.reload()}>
            Try again
          </button>
        </div>
      </main>
    );
  }
  if (!value) return <>{fallback}</>;
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** What the signed-in user may see in the interface (the server decides again on every call). */
export interface Abilities {
  readonly signedIn: boolean;
  readonly platformAdmin: boolean;
  /** Inside a tenant: super user, or a platform admin acting in it. */
  readonly superuser: boolean;
  /** Inside a tenant (tenant user, or platform admin acting in one). */
  readonly inTenant: boolean;
  /** Sites where the user is admin (tenant users); all for super users. */
  readonly adminSites: readonly number[] | 'all';
  readonly login: string | null;
}

export function abilitiesOf(session: Pick<Session, 'me' | 'actingTenant'>): Abilities {
  const me = session.me;
  if (!me) return { signedIn: false, platformAdmin: false, superuser: false, inTenant: false, adminSites: [], login: null };
  if (me.kind === 'platform_user') {
    const acting = me.platformAdmin && session.actingTenant !== null;
    return { signedIn: true, platformAdmin: me.platformAdmin, superuser: acting, inTenant: acting, adminSites: acting ? 'all' : [], login: me.user?.login ?? null };
  }
  return {
    signedIn: true,
    platformAdmin: false,
    superuser: me.superuser,
    inTenant: true,
    adminSites: me.superuser ? 'all' : me.sites.filter((s) => s.role === 'admin').map((s) => s.site),
    login: me.user?.login ?? null,
  };
}

export function useAbilities(): Abilities {
  return abilitiesOf(useSession());
}
