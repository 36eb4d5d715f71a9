import { useQuery } from '@tanstack/react-query';
import { matomo, type MatomoParams } from '../../api/http';
import type { MatomoSite } from '../../api/types';

/** The sites the user may view (Matomo's SitesManager.getSitesWithAtLeastViewAccess). */
export function useSites() {
  return useQuery({
    queryKey: ['reports', 'sites'],
    queryFn: ({ signal }) => matomo<MatomoSite[]>('SitesManager.getSitesWithAtLeastViewAccess', {}, signal),
    staleTime: 60_000,
  });
}

/** Whether the site ever received a hit: without any, pages show how to install the tracking code. */
export function useSiteHasData(idSite: number) {
  return useQuery({
    queryKey: ['reports', 'has-data', idSite],
    queryFn: async ({ signal }) => (await matomo<unknown[]>('Live.getLastVisitsDetails', { idSite, filter_limit: 1 }, signal)).length > 0,
    staleTime: 30_000,
  });
}

/** One Matomo report call, cached by method and parameters. */
export function useMatomo<T>(method: string, params: MatomoParams, options: { enabled?: boolean; refetchInterval?: number } = {}) {
  return useQuery({
    queryKey: ['reports', method, params],
    queryFn: ({ signal }) => matomo<T>(method, params, signal),
    ...(options.enabled !== undefined ? { enabled: options.enabled } : {}),
    ...(options.refetchInterval ? { refetchInterval: options.refetchInterval, refetchIntervalInBackground: false } : {}),
  });
}
