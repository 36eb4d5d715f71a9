/**
 * The one error catalogue. Every failure a user can meet is a PluraError with a
 * stable code; each surface (CLI, REST, Matomo API, tracking) renders it in its own
 * format. Messages are one clear sentence naming what is wrong and where.
 */
export const errorCatalogue = {
  invalid_input: { status: 400 },
  invalid_slug: { status: 400 },
  invalid_host: { status: 400 },
  duplicate_host: { status: 409 },
  duplicate_tenant: { status: 409 },
  unknown_tenant: { status: 404 },
  /** The tenant this work was for was deleted (and perhaps created again) meanwhile. */
  tenant_gone: { status: 404 },
  unknown_host: { status: 404 },
  unknown_site: { status: 404 },
  not_found: { status: 404 },
  tenant_deactivated: { status: 403 },
  limit_reached: { status: 409 },
  config_invalid: { status: 503 },
  config_refused: { status: 400 },
  unknown_setting: { status: 400 },
  storage_unavailable: { status: 503 },
  storage_failed: { status: 500 },
  data_dir_unwritable: { status: 500 },
  migration_failed: { status: 500 },
  confirmation_required: { status: 400 },
  payload_too_large: { status: 413 },
  /** A body of a type the route does not take (e.g. an SVG logo). */
  unsupported_media_type: { status: 415 },
  /** Sign in first (no or bad credentials). */
  unauthenticated: { status: 401 },
  invalid_credentials: { status: 401 },
  invalid_token: { status: 401 },
  session_expired: { status: 401 },
  mfa_required: { status: 401 },
  invalid_mfa_code: { status: 401 },
  /** Signed in, but not allowed. */
  forbidden: { status: 403 },
  csrf_failed: { status: 403 },
  ip_blocked: { status: 403 },
  ip_not_allowed: { status: 403 },
  password_expired: { status: 403 },
  user_deactivated: { status: 403 },
  /** Force-SSO: password sign-in is off for this tenant (break-glass super users excepted). */
  sso_required: { status: 403 },
  /** A single sign-on was refused: bad token or assertion, wrong tenant, replay, provider error. */
  sso_refused: { status: 401 },
  /** The provider is not enabled or not configured for this tenant or the platform. */
  sso_not_configured: { status: 404 },
  /** The identity provider (e.g. the LDAP directory) cannot be reached or did not answer in time. */
  sso_unavailable: { status: 503 },
  unknown_user: { status: 404 },
  duplicate_user: { status: 409 },
  weak_password: { status: 400 },
  // A real invitation that can no longer be used (used, expired): asking again will not help, a new invitation will.
  invitation_gone: { status: 410 },
  rate_limited: { status: 429 },
  /** Too much work queued: try again shortly (Retry-After). */
  overloaded: { status: 503 },
} as const satisfies Record<string, { status: number }>;

export type ErrorCode = keyof typeof errorCatalogue;

export class PluraError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  /** Extra HTTP headers the edge should send with this error (e.g. Retry-After). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PluraError';
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.headers = options?.headers ?? {};
  }
}

export function isPluraError(error: unknown): error is PluraError {
  return error instanceof PluraError;
}

/** Message of any thrown value, for wrapping lower-level failures in a PluraError. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
