import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PluraError } from '../core/errors.js';
import { settingDefinitions } from './definitions.js';
import { Settings, formatSettingValue, parseSettingName } from './settings.js';

let dataDir: string;
let clock: number;
const now = (): number => clock;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'plura-settings-'));
  clock = 1_000_000;
});

afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

const commonIni = (): string => join(dataDir, 'config', 'common.ini');
const tenantIni = (slug: string): string => join(dataDir, 'tenants', slug, 'config.ini');

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

function load(env: NodeJS.ProcessEnv = {}): Settings {
  return Settings.load({ dataDir, env, now });
}

function caught(action: () => unknown): PluraError {
  try {
    action();
  } catch (error) {
    if (error instanceof PluraError) return error;
    throw error;
  }
  throw new Error('expected a PluraError');
}

const matomoFirstLine = '; <?php exit; ?> DO NOT REMOVE THIS LINE\n';

describe('layers', () => {
  it('uses built-in defaults when nothing is configured', () => {
    const settings = load();
    expect(settings.get('Tracker.visit_standard_length')).toBe(1800);
    expect(settings.get('General.create_demo_tenant')).toBe(true);
    expect(settings.get('General.trusted_proxies')).toEqual([]);
    const resolved = settings.resolve('database.max_open_stores');
    expect(resolved).toMatchObject({
      name: 'database.max_open_stores',
      section: 'database',
      key: 'max_open_stores',
      value: 2000,
      layer: 'default',
      source: 'built-in',
      scope: 'platform',
    });
    const names = settings.list().map((s) => s.name);
    expect(names).toHaveLength(Object.keys(settingDefinitions).length);
    expect(names).toEqual([...names].sort());
    expect(settings.warnings).toEqual([]);
  });

  it('lets common.ini override a default', () => {
    write(commonIni(), '; operator settings\n[Tracker]\nvisit_standard_length = 600\n');
    const settings = load();
    expect(settings.get('Tracker.visit_standard_length')).toBe(600);
    expect(settings.resolve('Tracker.visit_standard_length')).toMatchObject({ layer: 'common', source: commonIni() });
  });

  it('lets the environment override common.ini', () => {
    write(commonIni(), '[Tracker]\nvisit_standard_length = 600\n[database]\nmax_open_stores = 10\n');
    const settings = load({ PLURA_TRACKER_VISIT_STANDARD_LENGTH: '900', PLURA_DATABASE_MAX_OPEN_STORES: '5' });
    expect(settings.get('Tracker.visit_standard_length')).toBe(900);
    expect(settings.resolve('Tracker.visit_standard_length')).toMatchObject({
      layer: 'environment',
      source: 'PLURA_TRACKER_VISIT_STANDARD_LENGTH',
    });
    expect(settings.get('database.max_open_stores')).toBe(5);
  });

  it('lets a tenant file override the environment, for that tenant only', () => {
    write(tenantIni('acme'), '[Tracker]\nvisit_standard_length = 1200\n[General]\ndefault_timezone = "Europe/Paris"\n');
    const settings = load({ PLURA_TRACKER_VISIT_STANDARD_LENGTH: '900' });
    const acme = settings.forTenant('acme');
    expect(acme.get('Tracker.visit_standard_length')).toBe(1200);
    expect(acme.get('General.default_timezone')).toBe('Europe/Paris');
    expect(acme.resolve('Tracker.visit_standard_length')).toMatchObject({ layer: 'tenant', source: tenantIni('acme') });
    expect(settings.forTenant('other').get('Tracker.visit_standard_length')).toBe(900);
    expect(settings.get('Tracker.visit_standard_length')).toBe(900);
    expect(settings.forTenant('acme')).toBe(acme);
  });

  it('rejects a bad value in the environment, naming the variable', () => {
    const error = caught(() => load({ PLURA_DATABASE_MAX_OPEN_STORES: 'lots' }));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain('database.max_open_stores');
    expect(error.message).toContain('PLURA_DATABASE_MAX_OPEN_STORES');
    expect(error.message).toContain("'lots'");
  });
});

describe('tenant files', () => {
  it('refuses a platform-only setting, naming the key and the file', () => {
    write(tenantIni('acme'), '[database]\nregistry_url = "postgres://db/plura"\n');
    const settings = load();
    const error = caught(() => settings.forTenant('acme'));
    expect(error.code).toBe('config_refused');
    expect(error.message).toContain('database.registry_url');
    expect(error.message).toContain(tenantIni('acme'));
    expect(error.message).toContain(commonIni());
    expect(caught(() => settings.checkTenant('acme')).code).toBe('config_refused');
  });

  it('refuses a platform-scope setting outside [database]', () => {
    write(tenantIni('acme'), '[General]\nplatform_host = evil.example\n');
    const error = caught(() => load().forTenant('acme'));
    expect(error.code).toBe('config_refused');
    expect(error.message).toContain('General.platform_host');
  });

  it('refuses unknown keys in a platform-only section of a tenant file, but only warns in common.ini', () => {
    write(tenantIni('acme'), '[database]\nhost = 127.0.0.1\n');
    write(commonIni(), '[database]\nhost = 127.0.0.1\n');
    const settings = load();
    const error = caught(() => settings.forTenant('acme'));
    expect(error.code).toBe('config_refused');
    expect(error.message).toContain('database.host');
    expect(error.message).toContain(tenantIni('acme'));
    expect(settings.warnings).toEqual([`Unknown setting database.host in ${commonIni()} (line 2), ignored.`]);
  });

  it('validates without caching in checkTenant', () => {
    write(tenantIni('acme'), '[Tracker]\nvisit_standard_length = 60\n');
    const settings = load();
    expect(() => settings.checkTenant('acme')).not.toThrow();
    write(tenantIni('acme'), '[Tracker]\nvisit_standard_length = soon\n');
    expect(caught(() => settings.checkTenant('acme')).code).toBe('config_invalid');
  });

  it('refuses slugs that would leave the tenants folder', () => {
    expect(caught(() => load().forTenant('../config')).code).toBe('invalid_slug');
  });
});

describe('Matomo compatibility', () => {
  it('reads config.ini.php and common.ini.php with the PHP guard line', () => {
    write(
      join(dataDir, 'config', 'common.ini.php'),
      `${matomoFirstLine}[General]\ndefault_language = "fr"\ntrusted_proxies[] = "10.0.0.1"\ntrusted_proxies[] = "10.0.0.2"\n`,
    );
    write(join(dataDir, 'tenants', 'acme', 'config.ini.php'), `${matomoFirstLine}[Tracker]\nvisit_standard_length = 300\n`);
    const settings = load();
    expect(settings.get('General.default_language')).toBe('fr');
    expect(settings.get('General.trusted_proxies')).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(settings.resolve('General.default_language').source).toBe(join(dataDir, 'config', 'common.ini.php'));
    expect(settings.forTenant('acme').get('Tracker.visit_standard_length')).toBe(300);
  });

  it('lets the plain .ini win over the .ini.php of the same layer', () => {
    write(join(dataDir, 'config', 'common.ini.php'), `${matomoFirstLine}[General]\ndefault_language = "fr"\ndefault_currency = EUR\n`);
    write(commonIni(), '[General]\ndefault_language = de\n');
    const settings = load();
    expect(settings.resolve('General.default_language')).toMatchObject({ value: 'de', source: commonIni() });
    expect(settings.resolve('General.default_currency')).toMatchObject({
      value: 'EUR',
      source: join(dataDir, 'config', 'common.ini.php'),
    });
  });

  it('reads quoted values, inline comments, boolean words and comma lists', () => {
    write(
      commonIni(),
      [
        '[General]',
        'default_timezone = "Europe/Paris" ; comment after a quoted value',
        "default_currency = 'EUR'",
        'default_language = en ; bare value with a comment',
        'platform_host = "a;b#c"',
        'create_demo_tenant = off',
        'trusted_proxies = "10.0.0.0/8, 127.0.0.1,"',
        '# hash comment',
        '',
      ].join('\n'),
    );
    const settings = load();
    expect(settings.get('General.default_timezone')).toBe('Europe/Paris');
    expect(settings.get('General.default_currency')).toBe('EUR');
    expect(settings.get('General.default_language')).toBe('en');
    expect(settings.get('General.platform_host')).toBe('a;b#c');
    expect(settings.get('General.create_demo_tenant')).toBe(false);
    expect(settings.get('General.trusted_proxies')).toEqual(['10.0.0.0/8', '127.0.0.1']);
  });

  it('accepts every boolean spelling', () => {
    for (const [word, expected] of [
      ['1', true], ['0', false], ['true', true], ['False', false], ['ON', true], ['off', false], ['yes', true], ['no', false],
    ] as const) {
      write(commonIni(), `[General]\ncreate_demo_tenant = ${word}\n`);
      expect(load().get('General.create_demo_tenant')).toBe(expected);
    }
    write(commonIni(), '[General]\ncreate_demo_tenant = maybe\n');
    expect(caught(() => load()).message).toContain("'maybe'");
  });
});

describe('errors in files', () => {
  it('reports a corrupt line with its number', () => {
    write(commonIni(), '[General]\ndefault_language = en\ngarbage\n');
    const error = caught(() => load());
    expect(error.code).toBe('config_invalid');
    expect(error.message).toBe(`Cannot read ${commonIni()}: line 3 is not \`key = value\` or \`[section]\`: 'garbage'`);
  });

  it('reports a key outside any section, an unterminated quote and a broken header', () => {
    write(commonIni(), 'default_language = en\n');
    expect(caught(() => load()).message).toContain('line 1');
    write(commonIni(), '[General]\n\ndefault_language = "en\n');
    expect(caught(() => load()).message).toContain('line 3');
    write(commonIni(), '[General\n');
    expect(caught(() => load()).code).toBe('config_invalid');
  });

  it('reports a bad int naming the key, the value and the file', () => {
    write(tenantIni('acme'), '[Tracker]\nvisit_standard_length = 30min\n');
    const error = caught(() => load().forTenant('acme'));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toBe(
      `Invalid value for Tracker.visit_standard_length in ${tenantIni('acme')} (line 2): '30min' is not a whole number.`,
    );
  });

  it('reports an int out of range', () => {
    write(commonIni(), '[Tracker]\nvisit_standard_length = 0\n');
    expect(caught(() => load()).message).toContain("'0' is out of range: it must be between 1 and 86400");
  });

  it('refuses a list written for a single-valued setting', () => {
    write(commonIni(), '[Tracker]\nvisit_standard_length[] = 10\n');
    expect(caught(() => load()).message).toContain('takes a single value');
  });

  it('reports a file that cannot be read', () => {
    mkdirSync(commonIni(), { recursive: true });
    const error = caught(() => load());
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain(commonIni());
  });

  it('warns about unknown keys, suggesting a setting that differs only in case', () => {
    write(commonIni(), '[Foo]\nbar = 1\nbar = 2\n[tracker]\nvisit_standard_length = 5\n');
    expect(load().warnings).toEqual([
      `Unknown setting Foo.bar in ${commonIni()} (line 2), ignored.`,
      `Unknown setting tracker.visit_standard_length in ${commonIni()} (line 5), ignored (did you mean Tracker.visit_standard_length?).`,
    ]);
  });

  it('includes common and tenant warnings in a tenant view', () => {
    write(commonIni(), '[Foo]\nbar = 1\n');
    write(tenantIni('acme'), '[Tracker]\nunknown = 1\n');
    const settings = load();
    expect(settings.forTenant('acme').warnings).toHaveLength(2);
    expect(settings.warnings).toHaveLength(1);
  });
});

describe('set and unset', () => {
  it('edits common.ini in place, keeping comments and other lines', () => {
    write(
      commonIni(),
      '; Operator settings\n[General]\n; the demo\ncreate_demo_tenant = 1\n\n[Tracker]\n; thirty minutes\nvisit_standard_length = 1800 ; default\n',
    );
    const settings = load();
    expect(settings.set('Tracker.visit_standard_length', '600')).toBe(commonIni());
    expect(settings.set('General.default_language', 'de')).toBe(commonIni());
    expect(readFileSync(commonIni(), 'utf8')).toBe(
      '; Operator settings\n[General]\n; the demo\ncreate_demo_tenant = 1\ndefault_language = "de"\n\n[Tracker]\n; thirty minutes\nvisit_standard_length = 600\n',
    );
    expect(settings.get('Tracker.visit_standard_length')).toBe(600);
    expect(settings.get('General.default_language')).toBe('de');
  });

  it('appends a new section and writes lists as key[] lines', () => {
    write(commonIni(), '[Tracker]\nvisit_standard_length = 60\n');
    const settings = load();
    settings.set('General.trusted_proxies', '10.0.0.1, 10.0.0.2');
    settings.set('General.create_demo_tenant', 'no');
    expect(readFileSync(commonIni(), 'utf8')).toBe(
      '[Tracker]\nvisit_standard_length = 60\n\n[General]\ntrusted_proxies[] = "10.0.0.1"\ntrusted_proxies[] = "10.0.0.2"\ncreate_demo_tenant = 0\n',
    );
    expect(settings.get('General.trusted_proxies')).toEqual(['10.0.0.1', '10.0.0.2']);
    settings.set('General.trusted_proxies', '127.0.0.1');
    expect(readFileSync(commonIni(), 'utf8')).toContain('[General]\ntrusted_proxies[] = "127.0.0.1"\ncreate_demo_tenant = 0\n');
    settings.set('General.trusted_proxies', '');
    expect(settings.get('General.trusted_proxies')).toEqual([]);
  });

  it('creates a tenant file and its folders, and accepts a case-insensitive name', () => {
    const settings = load({ PLURA_TRACKER_VISIT_STANDARD_LENGTH: '900' });
    expect(settings.forTenant('acme').get('Tracker.visit_standard_length')).toBe(900);
    expect(settings.set('tracker.Visit_Standard_Length', '120', { tenant: 'acme' })).toBe(tenantIni('acme'));
    expect(readFileSync(tenantIni('acme'), 'utf8')).toBe('[Tracker]\nvisit_standard_length = 120\n');
    expect(settings.forTenant('acme').get('Tracker.visit_standard_length')).toBe(120);
  });

  it('edits the .ini.php when it is the only file of the layer', () => {
    const php = join(dataDir, 'tenants', 'acme', 'config.ini.php');
    write(php, `${matomoFirstLine}[General]\ndefault_language = "fr"\n`);
    const settings = load();
    expect(settings.set('General.default_language', 'it', { tenant: 'acme' })).toBe(php);
    expect(readFileSync(php, 'utf8')).toBe(`${matomoFirstLine}[General]\ndefault_language = "it"\n`);
    expect(existsSync(tenantIni('acme'))).toBe(false);
    expect(settings.forTenant('acme').get('General.default_language')).toBe('it');
  });

  it('keeps Windows line endings', () => {
    write(commonIni(), '[General]\r\ndefault_language = en\r\n');
    load().set('General.default_currency', 'EUR');
    expect(readFileSync(commonIni(), 'utf8')).toBe('[General]\r\ndefault_language = en\r\ndefault_currency = "EUR"\r\n');
  });

  it('refuses a platform-only setting for a tenant', () => {
    const settings = load();
    const error = caught(() => settings.set('database.max_open_stores', '5', { tenant: 'acme' }));
    expect(error.code).toBe('config_refused');
    expect(error.message).toContain('database.max_open_stores');
    expect(caught(() => settings.set('General.platform_host', 'x', { tenant: 'acme' })).code).toBe('config_refused');
    expect(existsSync(tenantIni('acme'))).toBe(false);
  });

  it('refuses unknown settings and bad values', () => {
    const settings = load();
    const unknown = caught(() => settings.set('Tracker.visit_length', '5'));
    expect(unknown.code).toBe('unknown_setting');
    expect(unknown.message).toContain('visit_standard_length');
    const invalid = caught(() => settings.set('Tracker.visit_standard_length', 'soon'));
    expect(invalid.code).toBe('invalid_input');
    expect(invalid.message).toContain("'soon'");
    expect(existsSync(commonIni())).toBe(false);
  });

  it('refuses to edit a corrupt file', () => {
    write(tenantIni('acme'), '[General]\nnonsense\n');
    const settings = load();
    const error = caught(() => settings.set('General.default_language', 'de', { tenant: 'acme' }));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain('line 2');
    expect(readFileSync(tenantIni('acme'), 'utf8')).toBe('[General]\nnonsense\n');
  });

  it('unsets a key so the lower layer applies again', () => {
    write(commonIni(), '[Tracker]\nvisit_standard_length = 600\n');
    write(tenantIni('acme'), '; tenant\n[Tracker]\nvisit_standard_length = 60\n[General]\ndefault_language = fr\n');
    const settings = load();
    expect(settings.forTenant('acme').get('Tracker.visit_standard_length')).toBe(60);
    expect(settings.unset('Tracker.visit_standard_length', { tenant: 'acme' })).toBe(tenantIni('acme'));
    expect(readFileSync(tenantIni('acme'), 'utf8')).toBe('; tenant\n[Tracker]\n[General]\ndefault_language = fr\n');
    expect(settings.forTenant('acme').resolve('Tracker.visit_standard_length')).toMatchObject({ value: 600, layer: 'common' });
    settings.unset('Tracker.visit_standard_length');
    expect(settings.get('Tracker.visit_standard_length')).toBe(1800);
    expect(settings.forTenant('acme').get('Tracker.visit_standard_length')).toBe(1800);
  });

  it('unsets without creating a missing file', () => {
    const settings = load();
    expect(settings.unset('General.default_language', { tenant: 'acme' })).toBe(tenantIni('acme'));
    expect(existsSync(tenantIni('acme'))).toBe(false);
  });
});

describe('setMany', () => {
  it('writes typed values in one go: numbers, booleans, lists as key[] lines, null removing a key', () => {
    write(commonIni(), '[Tracker]\nhonor_do_not_track = 1\n');
    write(tenantIni('acme'), '; acme\n[General]\ndefault_language = fr\n');
    const settings = load();
    const file = settings.setMany(
      [
        { name: 'Security.password_min_length', value: 12 },
        { name: 'Security.login_allowlist_ip', value: ['10.0.0.0/8', '2001:db8::/32'] },
        // false is a value, not a removal: it must beat common.ini's 1.
        { name: 'Tracker.honor_do_not_track', value: false },
        { name: 'General.default_language', value: null },
        { name: 'General.default_currency', value: 'EUR' },
      ],
      { tenant: 'acme' },
    );
    expect(file).toBe(tenantIni('acme'));
    expect(readFileSync(file, 'utf8')).toBe(
      '; acme\n[General]\ndefault_currency = "EUR"\n\n[Security]\npassword_min_length = 12\nlogin_allowlist_ip[] = "10.0.0.0/8"\nlogin_allowlist_ip[] = "2001:db8::/32"\n\n[Tracker]\nhonor_do_not_track = 0\n',
    );
    const acme = settings.forTenant('acme');
    expect(acme.get('Security.login_allowlist_ip')).toEqual(['10.0.0.0/8', '2001:db8::/32']);
    expect(acme.resolve('Tracker.honor_do_not_track')).toMatchObject({ value: false, layer: 'tenant' });
    expect(acme.resolve('General.default_language')).toMatchObject({ value: 'en', layer: 'default' });
    settings.setMany([{ name: 'Tracker.honor_do_not_track', value: null }], { tenant: 'acme' });
    expect(acme.resolve('Tracker.honor_do_not_track')).toMatchObject({ value: true, layer: 'common' });
  });

  it('writes nothing when one change is bad, naming the setting', () => {
    write(tenantIni('acme'), '[General]\ndefault_language = fr\n');
    const settings = load();
    const bad = caught(() =>
      settings.setMany(
        [
          { name: 'General.default_language', value: 'de' },
          { name: 'Security.password_min_length', value: 'twelve' },
        ],
        { tenant: 'acme' },
      ),
    );
    expect(bad.code).toBe('invalid_input');
    expect(bad.message).toBe("Invalid value for Security.password_min_length: 'twelve' is not a whole number.");
    expect(caught(() => settings.setMany([{ name: 'Security.password_min_length', value: 12.5 }], { tenant: 'acme' })).message).toContain("'12.5' is not a whole number");
    expect(caught(() => settings.setMany([{ name: 'Security.password_min_length', value: ['12'] }], { tenant: 'acme' })).message).toContain('takes a single value, not a list');
    expect(caught(() => settings.setMany([{ name: 'Security.require_mfa', value: 'maybe' }], { tenant: 'acme' })).message).toContain("'maybe' is not a boolean");
    expect(caught(() => settings.setMany([{ name: 'General.default_currency', value: 5 }], { tenant: 'acme' })).message).toContain('5 is not a text');
    expect(caught(() => settings.setMany([{ name: 'Security.login_allowlist_ip', value: true }], { tenant: 'acme' })).message).toContain('true is not a list of text');
    const refused = caught(() => settings.setMany([{ name: 'General.default_language', value: 'de' }, { name: 'database.secret', value: 'x' }], { tenant: 'acme' }));
    expect(refused.code).toBe('config_refused');
    expect(caught(() => settings.setMany([{ name: 'General.default_language', value: 'de' }, { name: 'general.DEFAULT_language', value: 'it' }], { tenant: 'acme' })).message).toContain('named twice');
    expect(caught(() => settings.setMany([{ name: 'General.no_such_key', value: 1 }], { tenant: 'acme' })).code).toBe('unknown_setting');
    expect(readFileSync(tenantIni('acme'), 'utf8')).toBe('[General]\ndefault_language = fr\n');
  });

  it('keeps line breaks and quotes inside a value from becoming lines of their own', () => {
    const settings = load();
    settings.setMany([{ name: 'Mail.from_name', value: 'Acme "Reports"\n[database]\nsecret = x' }], { tenant: 'acme' });
    expect(settings.forTenant('acme').get('Mail.from_name')).toBe('Acme "Reports"\n[database]\nsecret = x');
    expect(readFileSync(tenantIni('acme'), 'utf8').split('\n')).toHaveLength(3);
  });
});

describe('re-reading edited files', () => {
  it('picks up a tenant file change after the one-second re-check', () => {
    write(tenantIni('acme'), '[Tracker]\nvisit_standard_length = 1200\n');
    const settings = load();
    const acme = settings.forTenant('acme');
    expect(acme.get('Tracker.visit_standard_length')).toBe(1200);
    write(tenantIni('acme'), '[Tracker]\nvisit_standard_length = 45 ; shorter\n');
    clock += 999;
    expect(settings.forTenant('acme').get('Tracker.visit_standard_length')).toBe(1200);
    clock += 1;
    expect(settings.forTenant('acme').get('Tracker.visit_standard_length')).toBe(45);
    expect(acme.get('Tracker.visit_standard_length')).toBe(45);
  });

  it('picks up common.ini changes in the platform and tenant views', () => {
    const settings = load();
    const acme = settings.forTenant('acme');
    expect(acme.get('Tracker.visit_standard_length')).toBe(1800);
    write(commonIni(), '[Tracker]\nvisit_standard_length = 77\n');
    expect(settings.get('Tracker.visit_standard_length')).toBe(1800);
    clock += 1000;
    expect(settings.get('Tracker.visit_standard_length')).toBe(77);
    expect(acme.get('Tracker.visit_standard_length')).toBe(77);
  });

  it('fails while a file is broken and recovers when it is fixed', () => {
    write(tenantIni('acme'), '[Tracker]\nvisit_standard_length = 1200\n');
    const settings = load();
    const acme = settings.forTenant('acme');
    write(tenantIni('acme'), '[Tracker]\nvisit_standard_length = 1200\noops\n');
    clock += 1000;
    expect(caught(() => acme.get('Tracker.visit_standard_length')).code).toBe('config_invalid');
    expect(caught(() => settings.forTenant('acme')).message).toContain('line 3');
    expect(settings.get('Tracker.visit_standard_length')).toBe(1800);
    write(tenantIni('acme'), '[Tracker]\nvisit_standard_length = 1300\n');
    clock += 1000;
    expect(acme.get('Tracker.visit_standard_length')).toBe(1300);
  });

  it('reloads a forgotten tenant from disk', () => {
    write(tenantIni('acme'), '[Tracker]\nvisit_standard_length = 1200\n');
    const settings = load();
    expect(settings.forTenant('acme').get('Tracker.visit_standard_length')).toBe(1200);
    rmSync(join(dataDir, 'tenants', 'acme'), { recursive: true });
    settings.forgetTenant('acme');
    expect(settings.forTenant('acme').get('Tracker.visit_standard_length')).toBe(1800);
  });
});

describe('names and formatting', () => {
  it('parses setting names exactly or ignoring case', () => {
    expect(parseSettingName('Tracker.visit_standard_length')).toBe('Tracker.visit_standard_length');
    expect(parseSettingName('DATABASE.MAX_OPEN_STORES')).toBe('database.max_open_stores');
    expect(caught(() => parseSettingName('nodot')).message).toContain('Section.key');
    expect(caught(() => parseSettingName('Nope.key')).message).toContain('Embedding, General, JWT, LDAP, Mail, OIDC, SAML, SCIM, SSO, Security, Tracker, database');
    expect(caught(() => parseSettingName('Nope.key')).code).toBe('unknown_setting');
  });

  it('formats values readably', () => {
    expect(formatSettingValue(['a', 'b'])).toBe('a, b');
    expect(formatSettingValue(true)).toBe('1');
    expect(formatSettingValue(false)).toBe('0');
    expect(formatSettingValue(1800)).toBe('1800');
    expect(formatSettingValue('en')).toBe('en');
  });
});
