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
  // Single sign-on. Every provider is configured per tenant (its config.ini) or, for
  // platform users on the platform host, in common.ini.
  'SSO.role_mapping': {
    type: 'list',
    default: [],
    scope: 'tenant',
    description:
      'Identity-provider group to rights, one entry per group: `Group = superuser`, `Group = site:1:view`, `Group = site:1:write,site:2:admin`, `Group = group:<group name>`. Refreshed on every SSO sign-in.',
  },
  'SSO.force_sso': {
    type: 'bool',
    default: false,
    scope: 'tenant',
    description: 'Refuse password sign-in (and LDAP-less passwords) except for the break-glass super users.',
  },
  'SSO.break_glass_users': {
    type: 'list',
    default: [],
    scope: 'tenant',
    description: 'Logins of super users who may still sign in with a password when force_sso is on.',
  },
  'SSO.login_providers': {
    type: 'list',
    default: ['password', 'oidc', 'saml', 'ldap'],
    scope: 'tenant',
    description: 'Which sign-in methods the login page shows (each must also be enabled): password, oidc, saml, ldap.',
  },
  'JWT.enabled': { type: 'bool', default: false, scope: 'tenant', description: 'Accept signed JWTs at /auth/sso/jwt.' },
  'JWT.shared_secret': { type: 'string', default: '', scope: 'tenant', description: 'HS256 secret (at least 32 characters). Empty: only JWKS-verified tokens.' },
  'JWT.jwks_url': { type: 'string', default: '', scope: 'tenant', description: 'URL of a JWKS for RS256/ES256 tokens. Empty: only HS256.' },
  'JWT.tenant_claim': { type: 'string', default: '@tenant', scope: 'tenant', description: 'Claim that holds the tenant slug.' },
  'JWT.issuer': { type: 'string', default: '', scope: 'tenant', description: 'Required `iss` claim (empty: not checked).' },
  'JWT.audience': { type: 'string', default: '', scope: 'tenant', description: 'Required `aud` claim (empty: not checked).' },
  'JWT.max_token_age_seconds': {
    type: 'int',
    default: 300,
    min: 10,
    max: 86400,
    scope: 'tenant',
    description: 'Longest lifetime accepted (`exp` is required; `iat`, when present, may not be older than this).',
  },
  'JWT.user_provisioning': { type: 'bool', default: false, scope: 'tenant', description: 'Create unknown users named by a valid token.' },
  'JWT.tenant_provisioning': {
    type: 'bool',
    default: false,
    scope: 'platform',
    description: 'Create an unknown tenant named by a valid token on the platform host (with user provisioning).',
  },
  'JWT.tenant_host_suffix': {
    type: 'string',
    default: '',
    scope: 'platform',
    description: 'Host of a tenant created from a token: `<slug><suffix>` (e.g. `.analytics.example.com`). Empty: `<slug>.localhost`.',
  },
  'OIDC.enabled': { type: 'bool', default: false, scope: 'tenant', description: 'Sign in with OpenID Connect (authorization code flow with PKCE).' },
  'OIDC.display_name': { type: 'string', default: 'OpenID Connect', scope: 'tenant', description: 'Button label on the login page.' },
  'OIDC.issuer': { type: 'string', default: '', scope: 'tenant', description: 'Issuer URL; its /.well-known/openid-configuration is read.' },
  'OIDC.client_id': { type: 'string', default: '', scope: 'tenant', description: 'Client id registered at the provider.' },
  'OIDC.client_secret': { type: 'string', default: '', scope: 'tenant', description: 'Client secret (empty: a public client, PKCE only).' },
  'OIDC.scopes': { type: 'string', default: 'openid email profile', scope: 'tenant', description: 'Scopes requested.' },
  'OIDC.groups_claim': { type: 'string', default: 'groups', scope: 'tenant', description: 'Claim holding the user groups.' },
  'OIDC.user_provisioning': { type: 'bool', default: true, scope: 'tenant', description: 'Create users on their first sign-in.' },
  'OIDC.token_endpoint_auth_method': {
    type: 'string',
    default: 'auto',
    allowed: ['auto', 'client_secret_basic', 'client_secret_post'],
    scope: 'tenant',
    description: 'How a confidential client authenticates at the token endpoint (auto: client_secret_basic when the provider offers it, else client_secret_post).',
  },
  'SAML.enabled': { type: 'bool', default: false, scope: 'tenant', description: 'Sign in with SAML 2.0 (service provider at /auth/saml/...).' },
  'SAML.display_name': { type: 'string', default: 'SAML', scope: 'tenant', description: 'Button label on the login page.' },
  'SAML.idp_metadata_file': {
    type: 'string',
    default: '',
    scope: 'tenant',
    description: "Identity provider metadata XML (path; relative paths are inside the tenant's folder, or data/config for the platform).",
  },
  'SAML.sp_entity_id': { type: 'string', default: '', scope: 'tenant', description: 'Entity id of the service provider (empty: the metadata URL).' },
  'SAML.clock_skew_seconds': { type: 'int', default: 120, min: 0, max: 3600, scope: 'tenant', description: 'Tolerated clock difference with the identity provider.' },
  'SAML.attribute_email': { type: 'string', default: 'email', scope: 'tenant', description: 'Assertion attribute holding the email (else NameID).' },
  'SAML.attribute_first_name': { type: 'string', default: 'firstName', scope: 'tenant', description: 'Assertion attribute holding the first name.' },
  'SAML.attribute_last_name': { type: 'string', default: 'lastName', scope: 'tenant', description: 'Assertion attribute holding the last name.' },
  'SAML.attribute_groups': { type: 'string', default: 'groups', scope: 'tenant', description: 'Assertion attribute holding the groups.' },
  'SAML.user_provisioning': { type: 'bool', default: true, scope: 'tenant', description: 'Create users on their first sign-in.' },
  'LDAP.enabled': { type: 'bool', default: false, scope: 'tenant', description: 'Sign in against LDAP or Active Directory.' },
  'LDAP.display_name': { type: 'string', default: 'LDAP', scope: 'tenant', description: 'Label on the login page.' },
  'LDAP.url': { type: 'string', default: '', scope: 'tenant', description: 'ldap:// or ldaps:// URL of the directory.' },
  'LDAP.start_tls': { type: 'bool', default: false, scope: 'tenant', description: 'Upgrade ldap:// with StartTLS.' },
  'LDAP.tls_ca_file': {
    type: 'string',
    default: '',
    scope: 'tenant',
    description: "PEM file of the CA(s) trusted for ldaps:// and StartTLS (path; relative paths are inside the tenant's folder, or data/config for the platform). Empty: the system CAs.",
  },
  'LDAP.bind_dn': { type: 'string', default: '', scope: 'tenant', description: 'Service account used to find users (empty: anonymous search).' },
  'LDAP.bind_password': { type: 'string', default: '', scope: 'tenant', description: 'Password of the service account.' },
  'LDAP.base_dn': { type: 'string', default: '', scope: 'tenant', description: 'Where users are searched.' },
  'LDAP.user_filter': { type: 'string', default: '(uid={login})', scope: 'tenant', description: 'Filter finding one user; {login} is replaced (escaped).' },
  'LDAP.attribute_email': { type: 'string', default: 'mail', scope: 'tenant', description: 'Attribute holding the email.' },
  'LDAP.attribute_first_name': { type: 'string', default: 'givenName', scope: 'tenant', description: 'Attribute holding the first name.' },
  'LDAP.attribute_last_name': { type: 'string', default: 'sn', scope: 'tenant', description: 'Attribute holding the last name.' },
  'LDAP.group_source': { type: 'string', default: 'memberOf', allowed: ['memberOf', 'search'], scope: 'tenant', description: 'Groups from the memberOf attribute, or from a group search.' },
  'LDAP.group_base_dn': { type: 'string', default: '', scope: 'tenant', description: 'Where groups are searched (group_source = search).' },
  'LDAP.group_filter': { type: 'string', default: '(member={dn})', scope: 'tenant', description: "Filter finding a user's groups; {dn} and {login} are replaced (escaped)." },
  'LDAP.group_name_attribute': { type: 'string', default: 'cn', scope: 'tenant', description: 'Attribute naming a group.' },
  'LDAP.timeout_ms': { type: 'int', default: 5000, min: 100, max: 60000, scope: 'tenant', description: 'Connect and operation timeout.' },
  'LDAP.user_provisioning': { type: 'bool', default: true, scope: 'tenant', description: 'Create users on their first sign-in.' },
  'SCIM.enabled': { type: 'bool', default: false, scope: 'tenant', description: 'Serve SCIM 2.0 at /scim/v2 (bearer tokens: `plura scim:token`).' },
  'Embedding.enabled': { type: 'bool', default: false, scope: 'platform', description: 'Serve signed dashboard embeds at /embed/dashboard/<id>?token=<JWT> (HS256 with [Embedding] secret).' },
  'Embedding.secret': { type: 'string', default: '', scope: 'platform', description: 'Shared secret (at least 32 characters) that signs embed tokens (HS256); the embedding application keeps it server-side.' },
  'Mail.smtp_host': { type: 'string', default: '', scope: 'tenant', description: 'SMTP server that sends scheduled email reports. Empty: no mail is sent (subscriptions record the error).' },
  'Mail.smtp_port': { type: 'int', default: 587, min: 1, max: 65535, scope: 'tenant', description: 'SMTP port (587 submission with STARTTLS when offered, 465 with smtp_secure).' },
  'Mail.smtp_secure': { type: 'bool', default: false, scope: 'tenant', description: 'Connect with TLS from the start (port 465); otherwise STARTTLS is used when the server offers it.' },
  'Mail.smtp_user': { type: 'string', default: '', scope: 'tenant', description: 'SMTP user name (empty: no authentication).' },
  'Mail.smtp_password': { type: 'string', default: '', scope: 'tenant', description: 'SMTP password.' },
  'Mail.from_address': { type: 'string', default: '', scope: 'tenant', description: "Sender address (empty: noreply@ the tenant's first host, or the platform host)." },
  'Mail.from_name': { type: 'string', default: 'Plura', scope: 'tenant', description: 'Sender name.' },
  'Mail.subscriptions_interval_seconds': {
    type: 'int',
    default: 60,
    min: 0,
    max: 86400,
    scope: 'platform',
    description: 'How often the server looks for due email subscriptions (0: never; `plura subscriptions:send-due` still sends). Read at server start.',
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
