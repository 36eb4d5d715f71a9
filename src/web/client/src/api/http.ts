/**
 * The one way the interface talks to the server: REST under /api/v1 and /auth (JSON,
 * session cookie, CSRF header on changes) and the Matomo API (GET /index.php, the same
 * data API clients get). Errors become ApiError with the server's code and message.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | null = null;
let actingTenant: string | null = null;
const unauthenticatedListeners = new Set<(error: ApiError) => void>();

/** The session's CSRF token (from sign-in or /api/v1/me); sent with every change. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** A platform admin acting inside a tenant from the platform host (X-Plura-Tenant). */
export function setActingTenant(slug: string | null): void {
  actingTenant = slug;
}

export function getActingTenant(): string | null {
  return actingTenant;
}

/** Called when any call answers 401 (session over): the app sends the user to sign in. */
export function onUnauthenticated(listener: (error: ApiError) => void): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

interface ErrorBody {
  error?: { code?: string; message?: string };
  result?: string;
  message?: string;
}

async function errorOf(response: Response): Promise<ApiError> {
  let body: ErrorBody = {};
  try {
    body = (await response.json()) as ErrorBody;
  } catch {
    // Not JSON (a proxy's page): fall back to the status text.
  }
  const code = body.error?.code ?? (response.status === 401 ? 'unauthenticated' : 'http_error');
  const message = body.error?.message ?? body.message ?? `${response.status} ${response.statusText}`;
  return new ApiError(response.status, code, message);
}

function notify(error: ApiError): void {
  // Failed sign-in steps also answer 401; only a lost session sends the user away.
  if (error.code === 'unauthenticated' || error.code === 'session_expired') {
    for (const listener of unauthenticatedListeners) listener(error);
  }
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RestOptions {
  /** Raw body (file upload) instead of JSON. */
  readonly raw?: Blob;
  readonly signal?: AbortSignal;
  /** Do not report a 401 to the session (sign-in forms handle their own). */
  readonly quiet?: boolean;
}

/** A REST call; answers the parsed JSON (or null for an empty body). */
export async function rest<T>(method: Method, path: string, body?: unknown, options: RestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  if (actingTenant) headers['x-plura-tenant'] = actingTenant;
  let payload: BodyInit | undefined;
  if (options.raw) {
    payload = options.raw;
    headers['content-type'] = options.raw.type || 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(payload !== undefined ? { body: payload } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!response.ok) {
    const error = await errorOf(response);
    if (!options.quiet) notify(error);
    throw error;
  }
  const text = await response.text();
  return (text === '' ? null : JSON.parse(text)) as T;
}

export const api = {
  get: <T>(path: string, options?: RestOptions) => rest<T>('GET', path, undefined, options),
  post: <T>(path: string, body?: unknown, options?: RestOptions) => rest<T>('POST', path, body ?? {}, options),
  put: <T>(path: string, body?: unknown, options?: RestOptions) => rest<T>('PUT', path, body ?? {}, options),
  patch: <T>(path: string, body?: unknown, options?: RestOptions) => rest<T>('PATCH', path, body ?? {}, options),
  del: <T>(path: string, options?: RestOptions) => rest<T>('DELETE', path, undefined, options),
};

/** Builds a query string, leaving out undefined and empty values. */
export function query(params: Readonly<Record<string, string | number | boolean | null | undefined>>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export type MatomoParams = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** The URL of a Matomo API call (also used for export links: the same data the API returns). */
export function matomoUrl(method: string, params: MatomoParams, format = 'json'): string {
  return `/index.php${query({ module: 'API', method, format, ...params, ...(actingTenant ? { tenant: actingTenant } : {}) })}`;
}

/** Asks the REST API whether the session still holds (its 401 means exactly that). */
async function sessionIsGone(): Promise<boolean> {
  try {
    await rest('GET', '/api/v1/me', undefined, { quiet: true });
    return false;
  } catch (error) {
    return error instanceof ApiError && error.status === 401;
  }
}

/** A Matomo API call with the session; Matomo's `{"result":"error"}` becomes an ApiError. */
export async function matomo<T>(method: string, params: MatomoParams = {}, signal?: AbortSignal): Promise<T> {
  const response = await fetch(matomoUrl(method, params), { credentials: 'same-origin', headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) });
  const body = (await response.json().catch(() => null)) as unknown;
  if (body && typeof body === 'object' && !Array.isArray(body) && (body as ErrorBody).result === 'error') {
    const message = (body as ErrorBody).message ?? 'The request failed.';
    // Matomo answers 401 for "no access" as well as for "not signed in": only a lost session sends the user away.
    const code = response.status === 401 ? ((await sessionIsGone()) ? 'unauthenticated' : 'forbidden') : 'matomo_error';
    const error = new ApiError(response.status, code, message);
    notify(error);
    throw error;
  }
  if (!response.ok) throw new ApiError(response.status, 'http_error', `${response.status} ${response.statusText}`);
  return body as T;
}

/** A readable message for any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
