/**
 * The workspace over REST: collections, dashboards and saved reports (README
 * "Workspaces"). Shapes mirror src/workspace/workspace.service.ts; the server decides
 * every right again, the interface only hides what it would refuse.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, matomo, query } from '../../api/http';
import { abilitiesOf, useSession } from '../../api/session';
import type { MatomoSite } from '../../api/types';

export type CollectionKind = 'shared' | 'tenant' | 'internal' | 'personal';
export type Level = 'none' | 'view' | 'curate';
export type ItemKind = 'dashboard' | 'saved_report';
export const VISUALIZATIONS = ['table', 'line', 'bar', 'pie', 'number'] as const;
export type Visualization = (typeof VISUALIZATIONS)[number];

export const KIND_ORDER: readonly CollectionKind[] = ['shared', 'tenant', 'internal', 'personal'];
export const KIND_LABEL: Readonly<Record<CollectionKind, string>> = { shared: 'Shared', tenant: 'Tenant', internal: 'Internal', personal: 'Personal' };
export const KIND_HINT: Readonly<Record<CollectionKind, string>> = {
  shared: 'Defined by the platform and offered to every tenant; each viewer sees its own tenant’s data.',
  tenant: 'Your organisation’s collection: every user of the tenant curates it.',
  internal: 'For platform users only.',
  personal: 'Yours alone.',
};
export const VISUALIZATION_LABEL: Readonly<Record<Visualization, string>> = { table: 'Table', line: 'Line chart (evolution)', bar: 'Bar chart', pie: 'Pie chart', number: 'Numbers' };

export interface CollectionView {
  readonly id: string;
  readonly kind: CollectionKind;
  readonly parentId: string | null;
  readonly name: string;
  readonly description: string;
  readonly archived: boolean;
  readonly access: Level;
}

export interface CollectionDetail extends CollectionView {
  readonly reason: string;
  readonly children: readonly { readonly id: string; readonly name: string; readonly access: Level }[];
  readonly items: readonly ItemView[];
}

export interface ItemView {
  readonly id: string;
  readonly collectionId: string;
  readonly kind: ItemKind;
  readonly name: string;
  readonly description: string;
  readonly definition: unknown;
  readonly archived: boolean;
  readonly createdBy: string;
  readonly updatedAt: string;
}

export interface ReportDefinition {
  readonly method: string;
  readonly params: Readonly<Record<string, string>>;
  readonly segment?: string;
  readonly visualization: Visualization;
}

export interface WidgetDefinition {
  readonly id: string;
  readonly title?: string;
  readonly item?: string;
  readonly report?: ReportDefinition;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface DashboardDefinition {
  readonly widgets: readonly WidgetDefinition[];
}

export interface Explanation {
  readonly user: string;
  readonly collection: { readonly id: string; readonly name: string; readonly kind: CollectionKind };
  readonly level: Level;
  readonly reason: string;
  readonly group: string | null;
  readonly permissionsFrom: string | null;
  readonly groups: readonly string[];
}

export interface Permission {
  readonly groupId: number;
  readonly group: string;
  readonly kind: string;
  readonly level: 'view' | 'curate';
}

export interface Group {
  readonly id: number;
  readonly kind: 'tenant' | 'internal';
  readonly name: string;
  readonly description: string;
  readonly special: boolean;
}

export interface WidgetData {
  readonly id: string;
  readonly visualization?: Visualization;
  readonly data?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface DashboardData {
  readonly id: string;
  readonly widgets: readonly WidgetData[];
}

export interface SavedReportData {
  readonly id: string;
  readonly data: unknown;
}

/** A report as API.getReportMetadata describes it. */
export interface ReportMeta {
  readonly category: string;
  readonly name: string;
  readonly module: string;
  readonly action: string;
  readonly dimension?: string;
  readonly metrics?: Readonly<Record<string, string>>;
}

// ---------------------------------------------------------------------------
// Reading definitions: the server validated them, but the interface checks the shape it draws.

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isVisualization = (value: unknown): value is Visualization => typeof value === 'string' && (VISUALIZATIONS as readonly string[]).includes(value);

export function asReport(value: unknown): ReportDefinition | null {
  if (!isRecord(value) || typeof value['method'] !== 'string' || !isVisualization(value['visualization'])) return null;
  const params: Record<string, string> = {};
  if (isRecord(value['params'])) for (const [key, v] of Object.entries(value['params'])) if (typeof v === 'string') params[key] = v;
  const segment = typeof value['segment'] === 'string' && value['segment'] !== '' ? value['segment'] : undefined;
  return { method: value['method'], params, visualization: value['visualization'], ...(segment !== undefined ? { segment } : {}) };
}

export function asDashboard(value: unknown): DashboardDefinition {
  if (!isRecord(value) || !Array.isArray(value['widgets'])) return { widgets: [] };
  const widgets: WidgetDefinition[] = [];
  for (const raw of value['widgets'] as unknown[]) {
    if (!isRecord(raw) || typeof raw['id'] !== 'string') continue;
    const report = asReport(raw['report']);
    const num = (key: string, fallback: number) => (typeof raw[key] === 'number' ? (raw[key] as number) : fallback);
    widgets.push({
      id: raw['id'],
      ...(typeof raw['title'] === 'string' ? { title: raw['title'] } : {}),
      ...(typeof raw['item'] === 'string' ? { item: raw['item'] } : {}),
      ...(report ? { report } : {}),
      x: num('x', 0),
      y: num('y', widgets.length),
      w: num('w', 12),
      h: num('h', 4),
    });
  }
  // Reading order: top to bottom, then left to right.
  return { widgets: widgets.sort((a, b) => a.y - b.y || a.x - b.x) };
}

// ---------------------------------------------------------------------------
// Queries.

export const keys = {
  all: ['workspace'] as const,
  collections: (archived: boolean) => ['workspace', 'collections', archived] as const,
  collection: (id: string) => ['workspace', 'collection', id] as const,
  items: (id: string, archived: boolean) => ['workspace', 'items', id, archived] as const,
  item: (id: string) => ['workspace', 'item', id] as const,
  data: (id: string, run: RunChoice) => ['workspace', 'data', id, run.idSite, run.period, run.date] as const,
  explain: (id: string, user: string) => ['workspace', 'explain', id, user] as const,
  permissions: (id: string) => ['workspace', 'permissions', id] as const,
};

export interface RunChoice {
  readonly idSite: string;
  readonly period: string;
  readonly date: string;
}

const enc = encodeURIComponent;

export function useCollections(archived: boolean) {
  return useQuery({ queryKey: keys.collections(archived), queryFn: () => api.get<{ collections: CollectionView[] }>(`/api/v1/collections${query({ archived: archived || undefined })}`).then((a) => a.collections) });
}

export function useCollection(id: string | undefined) {
  return useQuery({ queryKey: keys.collection(id ?? ''), queryFn: () => api.get<CollectionDetail>(`/api/v1/collections/${enc(id ?? '')}`), enabled: Boolean(id) });
}

export function useCollectionItems(id: string, archived: boolean) {
  return useQuery({ queryKey: keys.items(id, archived), queryFn: () => api.get<{ items: ItemView[] }>(`/api/v1/collections/${enc(id)}/items${query({ archived: archived || undefined })}`).then((a) => a.items) });
}

export function useItem(id: string | undefined) {
  return useQuery({ queryKey: keys.item(id ?? ''), queryFn: () => api.get<ItemView>(`/api/v1/items/${enc(id ?? '')}`), enabled: Boolean(id) });
}

export function fetchItemData<T>(id: string, run: RunChoice): Promise<T> {
  return api.get<T>(`/api/v1/items/${enc(id)}/data${query({ idSite: run.idSite, period: run.period, date: run.date })}`);
}

export function useExplain(id: string, user: string, enabled: boolean) {
  return useQuery({ queryKey: keys.explain(id, user), queryFn: () => api.get<Explanation>(`/api/v1/collections/${enc(id)}/explain${query({ user: user || undefined })}`), enabled });
}

export function usePermissions(id: string, enabled: boolean) {
  return useQuery({ queryKey: keys.permissions(id), queryFn: () => api.get<{ permissions: Permission[] }>(`/api/v1/collections/${enc(id)}/permissions`).then((a) => a.permissions), enabled });
}

export function useGroups(enabled: boolean) {
  return useQuery({ queryKey: ['workspace', 'groups'], queryFn: () => api.get<{ groups: Group[] }>('/api/v1/groups').then((a) => a.groups), enabled });
}

export function useSites(enabled: boolean) {
  return useQuery({ queryKey: ['workspace', 'sites'], queryFn: () => matomo<MatomoSite[]>('SitesManager.getSitesWithAtLeastViewAccess'), enabled, staleTime: 60_000 });
}

/** The reports a widget may show; the built-in list when the server cannot answer (no site here). */
export function useReportCatalog() {
  const session = useSession();
  const abilities = abilitiesOf(session);
  // The Matomo API answers 401 to a caller without a site (the platform host, a user without
  // rights), and a 401 means "signed out" to the session: ask only who can get an answer.
  const mayAsk = abilities.inTenant && (abilities.superuser || (session.me?.kind === 'tenant_user' && session.me.sites.length > 0));
  return useQuery({
    queryKey: ['workspace', 'report-metadata', mayAsk],
    queryFn: async () => {
      if (!mayAsk) return FALLBACK_CATALOG;
      try {
        const list = await matomo<ReportMeta[]>('API.getReportMetadata');
        return Array.isArray(list) && list.length > 0 ? list : FALLBACK_CATALOG;
      } catch {
        return FALLBACK_CATALOG;
      }
    },
    staleTime: 300_000,
  });
}

const FALLBACK_CATALOG: readonly ReportMeta[] = [
  ['Visits summary', 'Visits summary', 'VisitsSummary', 'get'],
  ['Actions', 'Page URLs', 'Actions', 'getPageUrls'],
  ['Actions', 'Page titles', 'Actions', 'getPageTitles'],
  ['Actions', 'Entry pages', 'Actions', 'getEntryPageUrls'],
  ['Actions', 'Exit pages', 'Actions', 'getExitPageUrls'],
  ['Actions', 'Outlinks', 'Actions', 'getOutlinks'],
  ['Actions', 'Downloads', 'Actions', 'getDownloads'],
  ['Referrers', 'Channel type', 'Referrers', 'getReferrerType'],
  ['Referrers', 'All referrers', 'Referrers', 'getAll'],
  ['Referrers', 'Websites', 'Referrers', 'getWebsites'],
  ['Referrers', 'Search engines', 'Referrers', 'getSearchEngines'],
  ['Referrers', 'Campaigns', 'Referrers', 'getCampaigns'],
  ['Visitors', 'Device type', 'DevicesDetection', 'getType'],
  ['Visitors', 'Browsers', 'DevicesDetection', 'getBrowsers'],
  ['Visitors', 'Operating system families', 'DevicesDetection', 'getOsFamilies'],
  ['Visitors', 'Country', 'UserCountry', 'getCountry'],
  ['Visitors', 'Browser language', 'UserLanguage', 'getLanguage'],
  ['Visitors', 'Screen resolution', 'Resolution', 'getResolution'],
  ['Visitors', 'Visits per local time', 'VisitTime', 'getVisitInformationPerLocalTime'],
  ['Events', 'Event categories', 'Events', 'getCategory'],
  ['Goals', 'Goals', 'Goals', 'get'],
].map(([category, name, module, action]) => ({ category: category ?? '', name: name ?? '', module: module ?? '', action: action ?? '' }));

/** Every change to the workspace can touch lists, details and data: refresh them all. */
export function useWorkspaceRefresh(): () => Promise<void> {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: keys.all });
}

// ---------------------------------------------------------------------------
// Changes (each answers the server's refusal as an ApiError with its message).

export const ops = {
  createCollection: (body: { parentId: string; name: string; description?: string }) => api.post<CollectionView>('/api/v1/collections', body),
  updateCollection: (id: string, body: { name?: string; description?: string }) => api.patch<CollectionView>(`/api/v1/collections/${enc(id)}`, body),
  moveCollection: (id: string, parentId: string) => api.post<CollectionView>(`/api/v1/collections/${enc(id)}/move`, { parentId }),
  copyCollection: (id: string, parentId: string, name?: string) => api.post<CollectionView>(`/api/v1/collections/${enc(id)}/copy`, { parentId, ...(name ? { name } : {}) }),
  archiveCollection: (id: string) => api.post<CollectionView>(`/api/v1/collections/${enc(id)}/archive`),
  unarchiveCollection: (id: string) => api.post<CollectionView>(`/api/v1/collections/${enc(id)}/unarchive`),
  deleteCollection: (id: string) => api.del<null>(`/api/v1/collections/${enc(id)}`),
  setPermission: (id: string, groupId: number, level: Level) => api.put<{ permissions: Permission[] }>(`/api/v1/collections/${enc(id)}/permissions`, { groupId, level }),
  createItem: (body: { collectionId: string; kind: ItemKind; name: string; description?: string; definition: ReportDefinition | DashboardDefinition }) => api.post<ItemView>('/api/v1/items', body),
  updateItem: (id: string, body: { name?: string; description?: string; definition?: ReportDefinition | DashboardDefinition }) => api.patch<ItemView>(`/api/v1/items/${enc(id)}`, body),
  moveItem: (id: string, collectionId: string) => api.post<ItemView>(`/api/v1/items/${enc(id)}/move`, { collectionId }),
  copyItem: (id: string, collectionId: string, name?: string) => api.post<ItemView>(`/api/v1/items/${enc(id)}/copy`, { collectionId, ...(name ? { name } : {}) }),
  archiveItem: (id: string) => api.post<ItemView>(`/api/v1/items/${enc(id)}/archive`),
  unarchiveItem: (id: string) => api.post<ItemView>(`/api/v1/items/${enc(id)}/unarchive`),
  deleteItem: (id: string) => api.del<null>(`/api/v1/items/${enc(id)}`),
};

/** The path of a collection from its root, as far as the caller can see (a hidden ancestor ends it). */
export function pathOf(collections: readonly CollectionView[], id: string): CollectionView[] {
  const byId = new Map(collections.map((c) => [c.id, c]));
  const path: CollectionView[] = [];
  let current = byId.get(id);
  for (let depth = 0; current && depth < 100; depth += 1) {
    path.unshift(current);
    current = current.parentId ? byId.get(current.parentId) : undefined;
  }
  return path;
}

export const itemPath = (item: Pick<ItemView, 'id'>) => `/dashboards/${encodeURIComponent(item.id)}`;
export const collectionPath = (id: string) => `/collections/${encodeURIComponent(id)}`;
export const itemKindLabel = (kind: ItemKind) => (kind === 'dashboard' ? 'Dashboard' : 'Saved report');
