/**
 * Built-in settings: the lowest layer, with types and documentation. Every setting
 * says whether a tenant's config.ini may override it (`scope: 'tenant'`) or only the
 * operator may set it (`scope: 'platform'`). Sections named in `platformOnlySections`
 * are refused in a tenant file as a whole, including keys Plura does not know (so a
 * copied Matomo `[database]` section never leaks into a tenant file unnoticed).
 */
export type SettingType = 'int' | 'string' | 'bool' | 'list';
export type SettingScope = 'tenant' | 'platform';

interface SettingDefinitionBase {
  readonly scope: SettingScope;
  readonly description: string;
}
export interface IntSettingDefinition extends SettingDefinitionBase {
  readonly type: 'int';
  readonly default: number;
  readonly min?: number;
  readonly max?: number;
}
export interface StringSettingDefinition extends SettingDefinitionBase {
  readonly type: 'string';
  readonly default: string;
  readonly allowed?: readonly string[];
}
export interface BoolSettingDefinition extends SettingDefinitionBase {
  readonly type: 'bool';
  readonly default: boolean;
}
export interface ListSettingDefinition extends SettingDefinitionBase {
  readonly type: 'list';
  readonly default: readonly string[];
}
export type SettingDefinition =
  | IntSettingDefinition
  | StringSettingDefinition
  | BoolSettingDefinition
  | ListSettingDefinition;

export const platformOnlySections: readonly string[] = ['database'];

/** Keys are `Section.key`, exactly as they appear in INI files (section names are case-sensitive, as in Matomo). */
export const settingDefinitions = {
  'General.platform_host': {
    type: 'string',
    default: '',
    scope: 'platform',
    description: 'Host name of the platform itself (where platform users sign in). Empty: no platform host.',
  },
  'General.trusted_proxies': {
    type: 'list',
    default: [],
    scope: 'platform',
    description:
      'Peers (IP addresses or CIDR ranges) whose X-Forwarded-Host and X-Forwarded-For headers are honoured. Read at server start.',
  },
  'General.create_demo_tenant': {
    type: 'bool',
    default: true,
    scope: 'platform',
    description: 'On the first start of a new data directory, create a demo tenant answering for localhost and 127.0.0.1.',
  },
  'General.registry_poll_interval_ms': {
    type: 'int',
    default: 500,
    scope: 'platform',
    min: 50,
    max: 60_000,
    description: 'How often a server checks the registry for tenants created or changed by another process.',
  },
  'General.default_language': {
    type: 'string',
    default: 'en',
    scope: 'tenant',
    description: 'Language of the interface when the tenant sets none.',
  },
  'General.default_timezone': {
    type: 'string',
    default: 'UTC',
    scope: 'tenant',
    description: 'Time zone given to new sites when none is named.',
  },
  'General.default_currency': {
    type: 'string',
    default: 'USD',
    scope: 'tenant',
    description: 'Currency given to new sites when none is named.',
  },
  'General.browser_archiving': {
    type: 'bool',
    default: true,
    scope: 'tenant',
    description: 'Reports missing or out of date are computed when a request asks for them; off: requests read only what the archiver stored.',
  },
  'General.time_before_today_archive_considered_outdated': {
    type: 'int',
    default: 900,
    scope: 'tenant',
    min: 0,
    max: 86_400,
    description: 'Seconds a report of a period that is not over yet (today, this week, ...) is served before it is computed again.',
  },
  'General.archiving_interval_seconds': {
    type: 'int',
    default: 3600,
    scope: 'tenant',
    min: 0,
    max: 7 * 86_400,
    description: "How often the in-process scheduler archives this tenant's sites (0: never; use plura core:archive).",
  },
  'General.datatable_archiving_maximum_rows': {
    type: 'int',
    default: 500,
    scope: 'tenant',
    min: 10,
    max: 100_000,
    description: 'Rows kept per report table in an archive (the rest are summed in an "Others" row); subtables keep a fifth of it, at least 100.',
  },
  'Tracker.visit_standard_length': {
    type: 'int',
    default: 1800,
    scope: 'tenant',
    min: 1,
    max: 86_400,
    description: 'Seconds of inactivity after which the next hit of a visitor starts a new visit.',
  },
  'database.registry_url': {
    type: 'string',
    default: '',
    scope: 'platform',
    description:
      'Where the registry lives: empty for the embedded SQLite file <data-dir>/registry.db, or a postgres:// URL shared by several nodes.',
  },
  'database.tenant_storage': {
    type: 'string',
    default: 'sqlite',
    scope: 'platform',
    description: 'Storage for new tenants when `tenant:create` names none: `sqlite`, or a postgres:// URL (an account that may create roles).',
  },
  'database.max_open_stores': {
    type: 'int',
    default: 2000,
    scope: 'platform',
    min: 1,
    max: 100_000,
    description: 'Tenant stores kept open at once; the least recently used is closed first. Size it to the tenants active at the same time.',
  },
  'database.store_idle_timeout_seconds': {
    type: 'int',
    default: 300,
    scope: 'platform',
    min: 1,
    max: 86_400,
    description: 'A tenant store unused for this long is closed, so an idle tenant holds no file, connection or memory.',
  },
  'database.postgres_pool_size': {
    type: 'int',
    default: 4,
    scope: 'platform',
    min: 1,
    max: 100,
    description: 'Connections at most in the pool of one open PostgreSQL tenant store.',
  },
  'database.postgres_role_prefix': {
    type: 'string',
    default: 'plura_',
    scope: 'platform',
    description: 'Prefix of the PostgreSQL role (and schema) created for each tenant; roles are cluster-wide, so installations sharing a server need different prefixes.',
  },
  'database.secret': {
    type: 'string',
    default: '',
    scope: 'platform',
    description:
      'Secret from which tenant database passwords are derived. Empty: generated once into <data-dir>/config/secret.key.',
  },
  'database.redis_url': {
    type: 'string',
    default: '',
    scope: 'platform',
    description:
      'Redis that several Plura nodes share for API rate-limit counters (redis://host:6379). Empty: counters live in this process.',
  },
  'General.login_session_not_remembered_idle_timeout': {
    type: 'int',
    default: 3600,
    min: 60,
    scope: 'tenant',
    description: 'Seconds of inactivity after which a session that was not "remembered" ends (Matomo name).',
  },
  'General.login_session_absolute_lifetime': {
    type: 'int',
    default: 86400,
    min: 300,
    scope: 'tenant',
    description: 'Seconds after sign-in at which a session that was not "remembered" ends, however active.',
  },
  'General.login_cookie_expire': {
    type: 'int',
    default: 1209600,
    min: 300,
    scope: 'tenant',
    description: 'Seconds a "remember me" session lives (Matomo name; default 14 days).',
  },
  'General.setup_link_validity_hours': {
    type: 'int',
    default: 72,
    min: 1,
    scope: 'platform',
    description: 'Hours a one-time setup link (first super user) stays valid.',
  },
  'Security.password_min_length': {
    type: 'int',
    default: 8,
    min: 6,
    max: 200,
    scope: 'tenant',
    description: 'Minimum password length (Matomo\'s own floor of 6 always applies).',
  },
  'Security.password_require_complexity': {
    type: 'bool',
    default: false,
    scope: 'tenant',
    description: 'Require at least three of: lower case, upper case, digit, symbol.',
  },
  'Security.password_history': {
    type: 'int',
    default: 0,
    min: 0,
    max: 50,
    scope: 'tenant',
    description: 'A new password may not repeat any of this many previous passwords (0: no history).',
  },
  'Security.password_expiry_days': {
    type: 'int',
    default: 0,
    min: 0,
    scope: 'tenant',
    description: 'Days after which a password must be changed at the next sign-in (0: never).',
  },
  'Security.require_mfa': {
    type: 'bool',
    default: false,
    scope: 'tenant',
    description: 'Every user of the tenant must set up TOTP two-factor authentication (enrolment at next sign-in).',
  },
  'Security.mfa_issuer': {
    type: 'string',
    default: 'Plura',
    scope: 'tenant',
    description: 'Issuer name shown in authenticator apps.',
  },
  'Security.brute_force_max_retries': {
    type: 'int',
    default: 20,
    min: 1,
    scope: 'tenant',
    description: 'Failed sign-ins and refused API or tracker tokens from one IP within the window after which that IP is blocked for this tenant (Matomo: maxAllowedRetries).',
  },
  'Security.brute_force_window_minutes': {
    type: 'int',
    default: 60,
    min: 1,
    scope: 'tenant',
    description: 'Window in minutes over which failed sign-ins are counted; a block lasts until failures age out of it.',
  },
  'Security.login_allowlist_ip': {
    type: 'list',
    default: [],
    scope: 'tenant',
    description: 'IP addresses or CIDR ranges (IPv4/IPv6, or 1.2.3.*) allowed to use the UI and the API. Empty: everyone.',
  },
  'Security.api_rate_limit_per_minute': {
    type: 'int',
    default: 600,
    min: 0,
    scope: 'tenant',
    description: 'API calls one user or token may make per minute (0: unlimited); over it, 429 with Retry-After.',
  },
  'Security.api_rate_limit_per_hour': {
    type: 'int',
    default: 20000,
    min: 0,
    scope: 'tenant',
    description: 'API calls one user or token may make per hour (0: unlimited).',
  },
  'Security.rotate_tokens_on_role_rise': {
    type: 'bool',
    default: false,
    scope: 'tenant',
    description: "Delete a user's API tokens when the user's role rises, so old tokens never carry new power.",
  },
  'Tracker.group_commit_max_batch': {
    type: 'int',
    default: 10000,
    min: 1,
    max: 100000,
    scope: 'platform',
    description: 'Acknowledged hits of one tenant written to its store in one transaction at most.',
  },
  'Tracker.group_commit_interval_ms': {
    type: 'int',
    default: 3000,
    min: 0,
    max: 60000,
    scope: 'platform',
    description:
      'Milliseconds acknowledged hits of a tenant may wait in memory (already safe in the journal) to share one store transaction. Reports and the Live API always wait for them first.',
  },
  'Tracker.max_queued_hits': {
    type: 'int',
    default: 200000,
    min: 1,
    scope: 'platform',
    description: 'Acknowledged hits not yet written to their stores, across tenants, beyond which tracking answers 503 with Retry-After.',
  },
  'Tracker.journal_dir': {
    type: 'string',
    default: '',
    scope: 'platform',
    description: 'Directory of the tracking journal (every hit is appended there before it is acknowledged); empty for <data-dir>/journal. One server process per directory.',
  },
  'Tracker.journal_fsync': {
    type: 'bool',
    default: false,
    scope: 'platform',
    description: 'Flush the journal to disk (fdatasync) before acknowledging hits: survives power loss, not only a crash of the process; slower.',
  },
  'Tracker.visit_cache_size': {
    type: 'int',
    default: 100000,
    min: 0,
    max: 10000000,
    scope: 'platform',
    description:
      "Latest visits kept in memory (all tenants), so a returning visitor's hit needs no lookup. Set 0 when several nodes track the same tenant without sticky routing.",
  },
  'Tracker.ip_anonymization_bytes': {
    type: 'int',
    default: 2,
    min: 0,
    max: 3,
    scope: 'tenant',
    description: 'Bytes of the visitor IP set to zero before storage (0: keep the full address).',
  },
  'Tracker.honor_do_not_track': {
    type: 'bool',
    default: false,
    scope: 'tenant',
    description: 'Do not record visitors whose browser sends DNT: 1.',
  },
  'Tracker.tracking_requests_require_authentication_when_custom_timestamp_newer_than': {
    type: 'int',
    default: 86400,
    min: 0,
    scope: 'tenant',
    description: 'Seconds: a cdt older than this needs a token with write or admin access (Matomo name).',
  },
  'Tracker.bulk_requests_require_authentication': {
    type: 'bool',
    default: false,
    scope: 'tenant',
    description: 'Every bulk request needs a token with write or admin access on its site.',
  },
} as const satisfies Record<string, SettingDefinition>;

export type SettingName = keyof typeof settingDefinitions;

type DefinitionOf<N extends SettingName> = (typeof settingDefinitions)[N];
export type SettingValue<N extends SettingName> = DefinitionOf<N>['type'] extends 'int'
  ? number
  : DefinitionOf<N>['type'] extends 'bool'
    ? boolean
    : DefinitionOf<N>['type'] extends 'list'
      ? readonly string[]
      : string;

export type AnySettingValue = number | boolean | string | readonly string[];

export function isSettingName(name: string): name is SettingName {
  return Object.prototype.hasOwnProperty.call(settingDefinitions, name);
}

export function getSettingDefinition(name: SettingName): SettingDefinition {
  return settingDefinitions[name];
}
