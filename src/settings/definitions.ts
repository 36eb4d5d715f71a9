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
    default: 100,
    scope: 'platform',
    min: 1,
    max: 100_000,
    description: 'Tenant stores kept open at once; the least recently used is closed first.',
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
