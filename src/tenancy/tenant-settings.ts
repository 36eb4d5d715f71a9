/**
 * A tenant's own settings over REST: every setting its config.ini may override, with
 * the value in force and the layer it comes from; changes written all or nothing to
 * the tenant's config.ini and audited with secrets redacted.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import type { ActContext } from '../access/context.js';
import { parseAllowlist, validateAllowlistEntry } from '../access/ip-allowlist.js';
import { PluraError } from '../core/errors.js';
import { settingDefinitions, type AnySettingValue, type SettingName, type SettingType } from '../settings/definitions.js';
import { isSecretSetting, isTenantSetting, parseSettingName, type ResolvedSetting, type SettingInput, type SettingLayer, type SettingsView } from '../settings/settings.js';
import { auditTenantChange, requireOwnTenant } from './administration.js';
import { requireTimezone } from './tenants.service.js';

/** A setting's value as JSON shows it. */
export type SettingJsonValue = string | number | boolean | string[];

export interface TenantSettingView {
  readonly name: SettingName;
  readonly section: string;
  /** Null for secrets. */
  readonly value: SettingJsonValue | null;
  readonly layer: SettingLayer;
  readonly default: SettingJsonValue | null;
  readonly type: SettingType;
  readonly description: string;
  readonly secret: boolean;
  /** Secrets only: whether a non-empty value is in force. */
  readonly set?: boolean;
}

function toJson(value: AnySettingValue): SettingJsonValue {
  return typeof value === 'object' ? [...value] : value;
}

function present(setting: ResolvedSetting): TenantSettingView {
  const definition = settingDefinitions[setting.name];
  const base = { name: setting.name, section: setting.section, layer: setting.layer, type: definition.type, description: setting.description };
  if (isSecretSetting(setting.name)) return { ...base, value: null, default: null, secret: true, set: setting.value !== '' };
  return { ...base, value: toJson(setting.value), default: toJson(definition.default), secret: false };
}

function listFrom(view: SettingsView): TenantSettingView[] {
  return view.list().filter((setting) => isTenantSetting(setting.name)).map(present);
}

/** Every setting the caller's tenant may override, with its value in force and where it comes from. */
export function listTenantSettings(ctx: ActContext): TenantSettingView[] {
  const { tenant } = requireOwnTenant(ctx, "see the tenant's settings");
  return listFrom(ctx.platform.settings.forTenant(tenant.slug));
}

/** A value for the audit log: secrets only say whether one is set. */
function auditValue(name: SettingName, value: AnySettingValue): unknown {
  if (!isSecretSetting(name)) return value;
  return value === '' ? '' : '(redacted)';
}

/** What `setMany` does not know: values that are well-formed yet would break the tenant or reach outside it. */
function checkMeaning(ctx: ActContext, tenantDir: string, name: SettingName, value: SettingInput): void {
  // A value of the wrong type is refused by the settings module, with the other checks of form.
  if (typeof value !== 'string' && !Array.isArray(value)) return;
  const text = typeof value === 'string' ? value.trim() : '';
  const items = (typeof value === 'string' ? text.split(',') : [...value]).map((item) => item.trim()).filter((item) => item !== '');
  const refuse = (problem: string): never => {
    throw new PluraError('invalid_input', `Invalid value for ${name}: ${problem}.`);
  };
  // Names, hosts, filters and addresses are one line each; a line break in a mail header or an LDAP filter is an attack, not a value.
  const hasControl = (item: string): boolean => [...item].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);
  if ((typeof value === 'string' ? [value] : value).some(hasControl)) refuse('it contains a line break or another control character');
  switch (name) {
    case 'Security.login_allowlist_ip': {
      for (const item of items) {
        const problem = validateAllowlistEntry(item);
        if (problem) refuse(problem.replace(/\.$/, ''));
      }
      // A tenant user is held to this list from its next request on: never let it lock itself out.
      if (ctx.actor.kind === 'tenant_user' && items.length > 0 && (ctx.ip === null || !parseAllowlist(items).allows(ctx.ip))) {
        refuse(`it does not include your own address ${ctx.ip ?? '(unknown)'}, so it would lock you out`);
      }
      return;
    }
    case 'General.default_timezone':
      try {
        requireTimezone(text);
      } catch {
        refuse(`"${text}" is not a known time zone (expected something like Europe/Paris or UTC)`);
      }
      return;
    case 'General.default_language':
      if (!/^[a-z]{2,3}(-[a-zA-Z0-9]{2,8})?$/.test(text)) refuse(`"${text}" is not a language code such as en or pt-BR`);
      return;
    case 'General.default_currency':
      if (!Intl.supportedValuesOf('currency').includes(text.toUpperCase())) refuse(`"${text}" is not a known ISO 4217 currency code`);
      return;
    case 'JWT.shared_secret':
      if (text !== '' && text.length < 32) refuse('a shared secret must have at least 32 characters');
      return;
    case 'SAML.idp_metadata_file':
    case 'LDAP.tls_ca_file': {
      // Files named here are read by the server: a tenant may only name files inside its own folder.
      if (text === '') return;
      const path = resolve(tenantDir, text);
      const inside = relative(tenantDir, path);
      if (isAbsolute(text) || inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
        refuse('name a file inside the tenant\'s own folder, by a relative path such as saml/idp-metadata.xml');
      }
      return;
    }
    default:
      return;
  }
}

/**
 * Writes the caller's tenant's settings, all or nothing: every name and value is
 * checked before anything is written, platform-only settings are refused, and null
 * removes the tenant's own value (the platform's applies again). Audited in the
 * tenant's log and the platform's with the values before and after, secrets redacted.
 */
export async function changeTenantSettings(ctx: ActContext, input: Readonly<Record<string, SettingInput | null>>): Promise<TenantSettingView[]> {
  const { tenant } = requireOwnTenant(ctx, "change the tenant's settings");
  const { platform } = ctx;
  const view = platform.settings.forTenant(tenant.slug);
  const changes: { name: SettingName; value: SettingInput | null }[] = [];
  for (const [rawName, value] of Object.entries(input)) {
    const name = parseSettingName(rawName);
    if (!isTenantSetting(name)) {
      // The settings module would refuse too, naming the operator's file; a tenant needs no server path.
      throw new PluraError('config_refused', `Setting ${name} may only be set by the platform's operator, not by a tenant.`);
    }
    if (value !== null) checkMeaning(ctx, platform.paths.tenantDir(tenant.slug), name, value);
    changes.push({ name, value });
  }
  if (changes.length === 0) return listFrom(view);
  const before = Object.fromEntries(changes.map(({ name }) => [name, auditValue(name, view.get(name))]));
  platform.settings.setMany(changes, { tenant: tenant.slug });
  const after = Object.fromEntries(changes.map(({ name }) => [name, auditValue(name, view.get(name))]));
  await auditTenantChange(platform, tenant, ctx.actor, ctx.ip, 'settings.changed', { before, after });
  return listFrom(view);
}
