import { ApiError, matomoUrl, type MatomoParams } from '../../api/http';

interface MatomoErrorBody {
  result?: string;
  message?: string;
}

/**
 * A Matomo API call that changes something (SegmentEditor.add, delete): POSTed
 * form-encoded with the session's CSRF token, as the server requires of cookie sessions.
 */
export async function matomoPost<T>(method: string, params: MatomoParams, csrfToken: string | null): Promise<T> {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    body.set(key, String(value));
  }
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' };
  if (csrfToken) headers['x-csrf-token'] = csrfToken;
  const response = await fetch(matomoUrl(method, {}), { method: 'POST', credentials: 'same-origin', headers, body: body.toString() });
  const answer = (await response.json().catch(() => null)) as unknown;
  if (answer && typeof answer === 'object' && !Array.isArray(answer) && (answer as MatomoErrorBody).result === 'error') {
    throw new ApiError(response.status, 'matomo_error', (answer as MatomoErrorBody).message ?? 'The request failed.');
  }
  if (!response.ok) throw new ApiError(response.status, 'http_error', `${response.status} ${response.statusText}`);
  return answer as T;
}
