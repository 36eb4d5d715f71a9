import { readFile } from 'node:fs/promises';
import { providerEnabled } from './provider-settings.js';
import { isIP } from 'node:net';
import { isAbsolute, join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { Client, Filter, FilterParser, InsufficientAccessError, InvalidCredentialsError, ResultCodeError, UnwillingToPerformError, type Entry } from 'ldapts';
import { PluraError, describeError } from '../core/errors.js';
import { recordAudit } from '../audit/audit.service.js';
import { assertIpNotBlocked, bruteForceRule, recordLoginFailure } from '../access/brute-force.js';
import { identityDbFor, settingsFor, type Scope } from '../access/context.js';
import type { Client as HttpClient } from '../access/login.service.js';
import type { Actor } from '../access/policy.js';
import type { Platform } from '../platform/platform.js';
import { signInWithSso, type SsoSignInResult } from './sso-sign-in.js';

/** One scope's `[LDAP]` settings, checked. */
export interface LdapConfig {
  readonly displayName: string;
  readonly url: string;
  readonly startTls: boolean;
  /** PEM text of the trusted CAs, or null for the system CAs. */
  readonly tlsCa: string | null;
  readonly bindDn: string;
  readonly bindPassword: string;
  readonly baseDn: string;
  readonly userFilter: string;
  readonly attributeEmail: string;
  readonly attributeFirstName: string;
  readonly attributeLastName: string;
  readonly groupSource: 'memberOf' | 'search';
  readonly groupBaseDn: string;
  readonly groupFilter: string;
  readonly groupNameAttribute: string;
  readonly timeoutMs: number;
  readonly userProvisioning: boolean;
}

/** A user the directory vouched for (its password bound successfully). */
export interface LdapUser {
  readonly dn: string;
  readonly email: string;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly groups: readonly string[];
}

/** Why the directory did not vouch for a login; all of them are "wrong username and/or password" to the caller. */
export type LdapRefusal = 'empty_password' | 'unknown_user' | 'ambiguous_user' | 'wrong_password';

export type LdapOutcome = { readonly ok: true; readonly user: LdapUser } | { readonly ok: false; readonly reason: LdapRefusal };

const MAX_GROUP_ENTRIES = 1000;

// ---------------------------------------------------------------------------
// Distinguished names (RFC 4514): enough to name a group and to compare DNs.

interface Ava {
  readonly type: string;
  readonly value: string;
}

/**
 * Splits a DN into its RDNs (each a list of type/value pairs), decoding escapes
 * (`\,`, `\2C`, UTF-8 `\C3\A9`). Throws on a malformed DN.
 */
export function parseDn(dn: string): Ava[][] {
  const text = dn.trim();
  const rdns: Ava[][] = [];
  if (text === '') return rdns;
  let rdn: Ava[] = [];
  let i = 0;
  for (;;) {
    const equals = text.indexOf('=', i);
    if (equals < 0) throw new Error(`"${dn}" is not a distinguished name.`);
    const type = text.slice(i, equals).trim();
    if (!/^[A-Za-z][\w-]*$|^\d+(\.\d+)*$/.test(type)) throw new Error(`"${dn}" is not a distinguished name (attribute type "${type}").`);
    i = equals + 1;
    while (text[i] === ' ') i++;
    // Bytes of the value; unescaped spaces count only when something follows them.
    const bytes: number[] = [];
    let spaces = 0;
    const push = (values: Iterable<number>): void => {
      for (; spaces > 0; spaces--) bytes.push(0x20);
      bytes.push(...values);
    };
    let end: string | undefined;
    while (i < text.length) {
      const ch = String.fromCodePoint(text.codePointAt(i) ?? 0);
      if (ch === ',' || ch === '+' || ch === ';') {
        end = ch;
        i++;
        break;
      }
      if (ch === '\\') {
        const hex = text.slice(i + 1, i + 3);
        if (/^[0-9a-fA-F]{2}$/.test(hex)) {
          push([parseInt(hex, 16)]);
          i += 3;
        } else if (i + 1 < text.length) {
          const escaped = String.fromCodePoint(text.codePointAt(i + 1) ?? 0);
          push(Buffer.from(escaped, 'utf8'));
          i += 1 + escaped.length;
        } else {
          throw new Error(`"${dn}" ends with a lone backslash.`);
        }
        continue;
      }
      if (ch === ' ') spaces++;
      else push(Buffer.from(ch, 'utf8'));
      i += ch.length;
    }
    rdn.push({ type, value: Buffer.from(bytes).toString('utf8') });
    if (end !== '+') {
      rdns.push(rdn);
      rdn = [];
    }
    if (end === undefined) return rdns;
  }
}

function escapeDnValue(value: string): string {
  return value
    .replace(/[\\,+"<>;=]/g, '\\$&')
    .replace(/^[ #]/, '\\$&')
    .replace(/ $/, '\\ ');
}

/**
 * A DN in one canonical spelling — types and values lower-cased, spaces and
 * escapes normalised — so `uid=Alice, ou=People,...` and `UID=alice,ou=people,...`
 * are the same identity (the usual attributes match case-insensitively).
 */
export function normalizeDn(dn: string): string {
  return parseDn(dn)
    .map((rdn) =>
      rdn
        .map((ava) => `${ava.type.toLowerCase()}=${escapeDnValue(ava.value.toLowerCase())}`)
        .sort()
        .join('+'),
    )
    .join(',');
}

/** The value of a DN's first RDN (`cn=Analysts,ou=groups,...` → `Analysts`), or null for a malformed DN. */
export function firstRdnValue(dn: string): string | null {
  try {
    const value = parseDn(dn)[0]?.[0]?.value;
    return value === undefined || value === '' ? null : value;
  } catch {
    return null;
  }
}

/** Replaces each `{name}` placeholder with its RFC 4515-escaped value. */
export function fillFilter(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = values[name];
    return value === undefined ? whole : Filter.escape(value);
  });
}

// ---------------------------------------------------------------------------
// Configuration

function configInvalid(message: string): PluraError {
  return new PluraError('config_invalid', `LDAP sign-in is misconfigured: ${message}`);
}

function assertFilter(name: string, template: string, placeholders: Readonly<Record<string, string>>): void {
  try {
    FilterParser.parseString(fillFilter(template, placeholders));
  } catch (error) {
    throw configInvalid(`[LDAP] ${name} "${template}" is not a valid LDAP filter (${describeError(error)}).`);
  }
}

/** Reads and checks a scope's `[LDAP]` settings; refuses when LDAP is off or incomplete. */
export async function ldapConfigFor(platform: Platform, scope: Scope): Promise<LdapConfig> {
  const settings = settingsFor(platform, scope);
  const where = scope.kind === 'tenant' ? `tenant "${scope.tenant.slug}"` : 'the platform';
  if (!providerEnabled(platform, scope, 'LDAP')) throw new PluraError('sso_not_configured', `LDAP sign-in is not enabled for ${where}.`);
  const url = settings.get('LDAP.url').trim();
  const baseDn = settings.get('LDAP.base_dn').trim();
  if (url === '' || baseDn === '') throw new PluraError('sso_not_configured', `LDAP sign-in for ${where} needs [LDAP] url and base_dn.`);
  if (!/^ldaps?:\/\/[^/?#\s]+\/?$/i.test(url)) throw configInvalid(`[LDAP] url "${url}" must be ldap://host[:port] or ldaps://host[:port].`);
  const userFilter = settings.get('LDAP.user_filter').trim();
  if (!userFilter.includes('{login}')) throw configInvalid(`[LDAP] user_filter "${userFilter}" must contain {login}.`);
  assertFilter('user_filter', userFilter, { login: 'x' });
  const groupSource = settings.get('LDAP.group_source') === 'search' ? 'search' : 'memberOf';
  const groupFilter = settings.get('LDAP.group_filter').trim();
  if (groupSource === 'search') assertFilter('group_filter', groupFilter, { login: 'x', dn: 'cn=x' });
  for (const dn of [baseDn, settings.get('LDAP.group_base_dn'), settings.get('LDAP.bind_dn')]) {
    try {
      parseDn(dn);
    } catch (error) {
      throw configInvalid(`${describeError(error)} (in [LDAP] base_dn, group_base_dn or bind_dn)`);
    }
  }
  let tlsCa: string | null = null;
  const caFile = settings.get('LDAP.tls_ca_file').trim();
  if (caFile !== '') {
    const folder = scope.kind === 'tenant' ? platform.paths.tenantDir(scope.tenant.slug) : platform.paths.configDir;
    const path = isAbsolute(caFile) ? caFile : join(folder, caFile);
    try {
      tlsCa = await readFile(path, 'utf8');
    } catch (error) {
      throw configInvalid(`[LDAP] tls_ca_file "${caFile}" cannot be read (${describeError(error)}).`);
    }
  }
  return {
    displayName: settings.get('LDAP.display_name'),
    url,
    startTls: settings.get('LDAP.start_tls'),
    tlsCa,
    bindDn: settings.get('LDAP.bind_dn').trim(),
    bindPassword: settings.get('LDAP.bind_password'),
    baseDn,
    userFilter,
    attributeEmail: settings.get('LDAP.attribute_email').trim(),
    attributeFirstName: settings.get('LDAP.attribute_first_name').trim(),
    attributeLastName: settings.get('LDAP.attribute_last_name').trim(),
    groupSource,
    groupBaseDn: settings.get('LDAP.group_base_dn').trim() || baseDn,
    groupFilter,
    groupNameAttribute: settings.get('LDAP.group_name_attribute').trim(),
    timeoutMs: settings.get('LDAP.timeout_ms'),
    userProvisioning: settings.get('LDAP.user_provisioning'),
  };
}

// ---------------------------------------------------------------------------
// Talking to the directory

/** The directory could not be asked (down, slow, TLS, service account, configuration). */
export class DirectoryUnavailable extends Error {
  constructor(
    readonly publicMessage: string,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'DirectoryUnavailable';
  }
}

function tlsOptionsFor(config: LdapConfig): ConnectionOptions {
  const host = new URL(config.url).hostname.replace(/^\[|\]$/g, '');
  return {
    minVersion: 'TLSv1.2',
    host,
    // SNI takes host names only.
    ...(isIP(host) === 0 ? { servername: host } : {}),
    ...(config.tlsCa !== null ? { ca: config.tlsCa } : {}),
  };
}

/** Runs `fn` on a fresh connection (StartTLS first when configured) and always unbinds and closes it. */
async function withConnection<T>(config: LdapConfig, fn: (client: Client) => Promise<T>): Promise<T> {
  const tlsOptions = tlsOptionsFor(config);
  const ldaps = config.url.toLowerCase().startsWith('ldaps://');
  // ldapts speaks TLS from the first byte whenever tlsOptions are given, so ldap:// gets none.
  const client = new Client({ url: config.url, timeout: config.timeoutMs, connectTimeout: config.timeoutMs, ...(ldaps ? { tlsOptions } : {}) });
  try {
    if (config.startTls && !ldaps) {
      // ldapts bounds the StartTLS request but not the TLS handshake after it.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error('StartTLS: Operation timed out')), config.timeoutMs);
      });
      await step(config, 'StartTLS', async () => {
        try {
          await Promise.race([client.startTLS({ ...tlsOptions }), deadline]);
        } finally {
          clearTimeout(timer);
        }
      });
    }
    return await fn(client);
  } finally {
    // unbind() also destroys the socket, even when the server does not answer.
    await client.unbind().catch(() => undefined);
  }
}

function describeDirectoryError(config: LdapConfig, error: unknown, step: string): DirectoryUnavailable {
  const name = `The directory "${config.displayName}"`;
  const message = describeError(error);
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : '';
  if (/timed? ?out/i.test(message) || code === 'ETIMEDOUT') {
    return new DirectoryUnavailable(`${name} did not answer within ${config.timeoutMs} ms; try again later.`, `${step}: ${message}`);
  }
  if (error instanceof ResultCodeError) {
    return new DirectoryUnavailable(`${name} refused the request (LDAP result ${error.code}); an administrator must check the [LDAP] settings.`, `${step}: ${message}`);
  }
  if (/certificate|self.signed|TLS|SSL|handshake/i.test(`${code} ${message}`)) {
    return new DirectoryUnavailable(`${name} could not be reached securely (TLS: ${message}); an administrator must check [LDAP] url, start_tls and tls_ca_file.`, `${step}: ${message}`);
  }
  return new DirectoryUnavailable(`${name} cannot be reached right now; try again later.`, `${step}: ${code ? `${code} ` : ''}${message}`);
}

async function step<T>(config: LdapConfig, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof DirectoryUnavailable) throw error;
    throw describeDirectoryError(config, error, name);
  }
}

function attributeValues(entry: Entry, attribute: string): string[] {
  const key = Object.keys(entry).find((name) => name.toLowerCase() === attribute.toLowerCase());
  if (key === undefined || key === 'dn') return [];
  const raw = entry[key];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.map((value) => (typeof value === 'string' ? value : value.toString('utf8')));
}

const firstValue = (entry: Entry, attribute: string): string | null => (attribute === '' ? null : (attributeValues(entry, attribute)[0] ?? null));

/**
 * Checks a login and password against the directory: finds the one entry the
 * user filter matches (as the service account, or anonymously), binds as that
 * entry with the password, then reads the user's groups. A refusal is returned;
 * a directory that cannot be asked throws DirectoryUnavailable.
 */
export async function authenticateLdap(config: LdapConfig, login: string, password: string): Promise<LdapOutcome> {
  // An empty password is an unauthenticated bind, which most directories accept: never send one.
  if (password === '') return { ok: false, reason: 'empty_password' };
  return withConnection(config, async (service) => {
    if (config.bindDn !== '') {
      await step(config, 'service account bind', async () => {
        try {
          await service.bind(config.bindDn, config.bindPassword);
        } catch (error) {
          if (error instanceof InvalidCredentialsError) {
            throw new DirectoryUnavailable(
              `The directory "${config.displayName}" refused Plura's service account; an administrator must check [LDAP] bind_dn and bind_password.`,
              `service account bind: ${describeError(error)}`,
            );
          }
          throw error;
        }
      });
    }
    const attributes = [config.attributeEmail, config.attributeFirstName, config.attributeLastName, ...(config.groupSource === 'memberOf' ? ['memberOf'] : [])].filter((name) => name !== '');
    const found = await step(config, 'user search', () =>
      service.search(config.baseDn, { scope: 'sub', filter: fillFilter(config.userFilter, { login }), attributes, sizeLimit: 2 }),
    );
    const entries = found.searchEntries;
    if (entries.length === 0) return { ok: false, reason: 'unknown_user' };
    const entry = entries[0];
    if (entries.length > 1 || entry === undefined) return { ok: false, reason: 'ambiguous_user' };

    // The password is checked on a connection of its own, so the service connection stays the service account's.
    const bound = await withConnection(config, (asUser) =>
      step(config, 'user bind', async () => {
        try {
          await asUser.bind(entry.dn, password);
          return true;
        } catch (error) {
          // 49: wrong password (also locked or disabled accounts in AD and ppolicy); 50, 53: the directory will not let this user in.
          if (error instanceof InvalidCredentialsError || error instanceof InsufficientAccessError || error instanceof UnwillingToPerformError) return false;
          throw error;
        }
      }),
    );
    if (!bound) return { ok: false, reason: 'wrong_password' };

    let groups: string[];
    if (config.groupSource === 'memberOf') {
      groups = attributeValues(entry, 'memberOf').map(firstRdnValue).filter((name): name is string => name !== null);
    } else {
      const result = await step(config, 'group search', () =>
        service.search(config.groupBaseDn, {
          scope: 'sub',
          filter: fillFilter(config.groupFilter, { dn: entry.dn, login }),
          attributes: [config.groupNameAttribute],
          paged: { pageSize: 200 },
        }),
      );
      groups = result.searchEntries.slice(0, MAX_GROUP_ENTRIES).flatMap((group) => attributeValues(group, config.groupNameAttribute).slice(0, 1));
    }
    return {
      ok: true,
      user: {
        dn: entry.dn,
        email: firstValue(entry, config.attributeEmail) ?? '',
        firstName: firstValue(entry, config.attributeFirstName),
        lastName: firstValue(entry, config.attributeLastName),
        groups,
      },
    };
  });
}

// ---------------------------------------------------------------------------
// Sign-in

export interface LdapCredentials {
  readonly login: string;
  readonly password: string;
}

const anonymousOf = (scope: Scope): Actor => ({ kind: 'anonymous', tenant: scope.kind === 'tenant' ? scope.tenant.slug : null, sites: new Map() });

/**
 * POST /auth/ldap/login: checks the login and password against the scope's
 * directory (brute-force counted like a password sign-in), then signs the user in
 * through the SSO foundation (linked by the user's DN, provisioned when allowed,
 * groups and role mapping refreshed).
 */
export async function signInWithLdap(platform: Platform, scope: Scope, credentials: LdapCredentials, client: HttpClient & { remember: boolean }, now = new Date()): Promise<SsoSignInResult> {
  const config = await ldapConfigFor(platform, scope);
  const db = identityDbFor(platform, scope);
  await assertIpNotBlocked(db, client.ip, bruteForceRule(settingsFor(platform, scope)), now);
  const anonymous = { platform, scope, actor: anonymousOf(scope), ip: client.ip };

  let outcome: LdapOutcome;
  try {
    outcome = await authenticateLdap(config, credentials.login, credentials.password);
  } catch (error) {
    if (!(error instanceof DirectoryUnavailable)) throw error;
    await recordAudit({ ...anonymous, actor: { kind: 'system', name: 'sso:ldap' } }, 'sso.refused', {
      after: { provider: 'ldap', login: credentials.login, reason: error.publicMessage, detail: error.detail },
    });
    throw new PluraError('sso_unavailable', error.publicMessage, { cause: error });
  }
  if (!outcome.ok) {
    await recordLoginFailure(db, client.ip, credentials.login, now);
    await recordAudit(anonymous, 'login.failure', { after: { login: credentials.login, provider: 'ldap', reason: outcome.reason } });
    throw new PluraError('invalid_credentials', 'Wrong username and/or password.');
  }
  const { user } = outcome;
  let subject: string;
  try {
    subject = normalizeDn(user.dn);
  } catch {
    subject = user.dn.toLowerCase();
  }
  return signInWithSso(
    platform,
    scope,
    { provider: 'ldap', subject, email: user.email, login: credentials.login, firstName: user.firstName, lastName: user.lastName, groups: user.groups },
    { provisioning: config.userProvisioning, client, remember: client.remember, now },
  );
}
