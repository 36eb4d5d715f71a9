/**
 * Effective settings, in layers (lowest first): built-in defaults → the operator's
 * `config/common.ini` → `PLURA_<SECTION>_<KEY>` environment variables → a tenant's
 * `tenants/<slug>/config.ini`. Matomo's `*.ini.php` files are read too (before the
 * plain `.ini` of the same layer, which wins), to ease migration.
 *
 * Values are resolved once per change and kept; files are re-examined (stat only) at
 * most once per second, so `get` on a hot path is a property lookup and a clock read.
 */
import { join } from 'node:path';
import { PluraError } from '../core/errors.js';
import { dataPaths } from '../core/paths.js';
import type { DataPaths } from '../core/paths.js';
import { isSettingName, platformOnlySections, settingDefinitions } from './definitions.js';
import type { AnySettingValue, SettingDefinition, SettingName, SettingScope, SettingValue } from './definitions.js';
import { fileSignature, parseIni, quoteIniValue, readIniFile, replaceIniEntry, writeFileAtomically } from './ini-file.js';

export type SettingLayer = 'default' | 'common' | 'environment' | 'tenant';

/** A value as JSON carries it: text (as in a file), a number, a boolean, or the items of a list setting. */
export type SettingInput = string | number | boolean | readonly string[];

/** One change of `setMany`: a value to write, or null to remove the setting from the file (the lower layer applies again). */
export interface SettingChange {
  readonly name: string;
  readonly value: SettingInput | null;
}

export interface ResolvedSetting {
  /** `Section.key`, e.g. `Tracker.visit_standard_length`. */
  readonly name: SettingName;
  readonly section: string;
  readonly key: string;
  readonly value: AnySettingValue;
  readonly layer: SettingLayer;
  /** `built-in`, the environment variable's name, or the absolute path of the file. */
  readonly source: string;
  readonly scope: SettingScope;
  readonly description: string;
}

export interface SettingsView {
  get<N extends SettingName>(name: N): SettingValue<N>;
  resolve(name: SettingName): ResolvedSetting;
  /** Every defined setting, sorted by name. */
  list(): ResolvedSetting[];
  /** Problems that did not stop loading, such as unknown keys in a file. */
  readonly warnings: readonly string[];
}

export interface SettingsLoadOptions {
  readonly dataDir: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Clock in milliseconds, for tests of the once-a-second file re-check. */
  readonly now?: () => number;
}

const recheckIntervalMs = 1000;

const allNames: readonly SettingName[] = (Object.keys(settingDefinitions) as SettingName[]).sort((a, b) =>
  a < b ? -1 : a > b ? 1 : 0,
);

/** One layer read from files or the environment: the settings it sets, and what it had to say. */
interface Layer {
  readonly values: ReadonlyMap<SettingName, { readonly value: AnySettingValue; readonly source: string }>;
  readonly warnings: readonly string[];
}

interface ResolvedValues {
  readonly byName: Readonly<Record<SettingName, ResolvedSetting>>;
  readonly sorted: readonly ResolvedSetting[];
  readonly warnings: readonly string[];
}

interface TenantEntry {
  readonly files: readonly string[];
  checkedAt: number;
  signature: string | undefined;
  layer: Layer | undefined;
  error: unknown;
  /** `generation` of the platform values `values` was built on. */
  builtOn: number;
  values: ResolvedValues | undefined;
  readonly view: SettingsView;
}

type RawValue = { readonly kind: 'scalar'; readonly text: string } | { readonly kind: 'list'; readonly items: string[] };

class View implements SettingsView {
  constructor(private readonly current: () => ResolvedValues) {}

  get<N extends SettingName>(name: N): SettingValue<N> {
    return lookup(this.current(), name).value as SettingValue<N>;
  }

  resolve(name: SettingName): ResolvedSetting {
    return lookup(this.current(), name);
  }

  list(): ResolvedSetting[] {
    return [...this.current().sorted];
  }

  get warnings(): readonly string[] {
    return this.current().warnings;
  }
}

/** The platform's settings (defaults → common → environment), and each tenant's on request. */
export class Settings implements SettingsView {
  private readonly view = new View(() => this.platformValues(this.now()));
  private readonly commonFiles: readonly string[];
  private commonCheckedAt: number;
  private commonSignature: string | undefined;
  private commonError: unknown;
  private platform: ResolvedValues;
  /** Bumped whenever the platform values change, so tenant values built on them are rebuilt. */
  private generation = 0;
  private readonly tenants = new Map<string, TenantEntry>();

  private constructor(
    private readonly paths: DataPaths,
    private readonly environment: Layer,
    private readonly now: () => number,
    private common: Layer,
    commonSignature: string,
  ) {
    this.commonFiles = layerFiles(paths.configDir, 'common');
    this.commonSignature = commonSignature;
    this.commonCheckedAt = now();
    this.platform = this.resolvePlatform();
  }

  /** Reads common.ini (and common.ini.php) and the environment. Throws config_invalid. */
  static load(options: SettingsLoadOptions): Settings {
    const paths = dataPaths(options.dataDir);
    const environment = readEnvironmentLayer(options.env ?? process.env);
    const files = layerFiles(paths.configDir, 'common');
    const signature = fileSignature(files);
    const common = readFileLayer(files, undefined);
    return new Settings(paths, environment, options.now ?? Date.now, common, signature);
  }

  get<N extends SettingName>(name: N): SettingValue<N> {
    return this.view.get(name);
  }

  resolve(name: SettingName): ResolvedSetting {
    return this.view.resolve(name);
  }

  list(): ResolvedSetting[] {
    return this.view.list();
  }

  get warnings(): readonly string[] {
    return this.view.warnings;
  }

  /**
   * Effective settings for one tenant (adds the tenant layer). Cached per slug; the
   * tenant's files are re-checked (stat) at most once per second so edits apply
   * without restart, and the returned view stays current. Throws config_invalid /
   * config_refused (also later, from the view, if a file turns bad).
   */
  forTenant(slug: string): SettingsView {
    let entry = this.tenants.get(slug);
    if (!entry) {
      checkSlug(slug);
      const created: TenantEntry = {
        files: layerFiles(this.paths.tenantDir(slug), 'tenant'),
        checkedAt: Number.NEGATIVE_INFINITY,
        signature: undefined,
        layer: undefined,
        error: undefined,
        builtOn: -1,
        values: undefined,
        view: new View(() => this.tenantValues(created)),
      };
      entry = created;
      this.tenants.set(slug, entry);
    }
    this.tenantValues(entry);
    return entry.view;
  }

  /** Validates a tenant's files without caching. Throws config_invalid / config_refused. */
  checkTenant(slug: string): void {
    checkSlug(slug);
    readFileLayer(layerFiles(this.paths.tenantDir(slug), 'tenant'), this.commonIniPath());
  }

  /** Drops cached tenant settings (e.g. after the tenant is deleted). */
  forgetTenant(slug: string): void {
    this.tenants.delete(slug);
  }

  /**
   * Writes one setting into common.ini (no tenant) or the tenant's config.ini (or the
   * `.ini.php` variant when only that exists), keeping every other line. Throws
   * unknown_setting, config_refused (platform-only setting for a tenant),
   * invalid_input (bad value; lists are comma-separated), config_invalid (the file is
   * malformed). Returns the absolute path written.
   */
  set(name: string, rawValue: string, options: { tenant?: string } = {}): string {
    return this.setMany([{ name, value: rawValue }], options);
  }

  /** Removes a setting from the file `set` would write, so the lower layer applies again. Returns the path. */
  unset(name: string, options: { tenant?: string } = {}): string {
    return this.setMany([{ name, value: null }], options);
  }

  /**
   * Writes several settings into one file, all or nothing: every name and value is
   * checked first (the same errors as `set`, naming the setting), then the file is
   * replaced once. A null value removes the setting (as `unset`). Returns the path.
   */
  setMany(changes: readonly SettingChange[], options: { tenant?: string } = {}): string {
    const edits: { name: SettingName; lines: string[] }[] = [];
    for (const change of changes) {
      const settingName = parseSettingName(change.name);
      this.refuseForTenant(settingName, options.tenant);
      if (edits.some((edit) => edit.name === settingName)) {
        throw new PluraError('invalid_input', `Setting ${settingName} is named twice.`);
      }
      const parsed = change.value === null ? null : parseInput(settingDefinitions[settingName], change.value);
      if (parsed !== null && 'problem' in parsed) {
        throw new PluraError('invalid_input', `Invalid value for ${settingName}: ${parsed.problem}.`);
      }
      edits.push({ name: settingName, lines: parsed === null ? [] : iniLinesFor(splitName(settingName).key, parsed.value) });
    }
    return this.editFile(options.tenant, edits);
  }

  private refuseForTenant(name: SettingName, tenant: string | undefined): void {
    if (tenant === undefined) return;
    checkSlug(tenant);
    if (isPlatformOnly(name)) {
      throw new PluraError(
        'config_refused',
        `Setting ${name} may only be set by the operator (${this.commonIniPath()} or the environment), not for tenant ${tenant}.`,
      );
    }
  }

  private editFile(tenant: string | undefined, edits: readonly { readonly name: SettingName; readonly lines: readonly string[] }[]): string {
    const files =
      tenant === undefined
        ? this.commonFiles
        : layerFiles(this.paths.tenantDir(tenant), 'tenant');
    const [phpFile, iniFile] = files as [string, string];
    let file = iniFile;
    let doc = readIniFile(iniFile);
    if (!doc) {
      const phpDoc = readIniFile(phpFile);
      if (phpDoc) {
        file = phpFile;
        doc = phpDoc;
      }
    }
    let current = doc ?? { file, text: '', lines: [] };
    let changed = false;
    for (const edit of edits) {
      const { section, key } = splitName(edit.name);
      const present = current.lines.some((line) => line.kind === 'entry' && line.section === section && line.key === key);
      if (edit.lines.length === 0 && !present) continue;
      // Re-read after each edit: the next one needs the line numbers of the text as it now is.
      current = parseIni(replaceIniEntry(current, section, key, edit.lines), file);
      changed = true;
    }
    if (!changed) return file;
    writeFileAtomically(file, current.text);
    // Re-examine the changed layer at the next read instead of waiting for the clock.
    if (tenant === undefined) this.commonCheckedAt = Number.NEGATIVE_INFINITY;
    else {
      const entry = this.tenants.get(tenant);
      if (entry) entry.checkedAt = Number.NEGATIVE_INFINITY;
    }
    return file;
  }

  private platformValues(time: number): ResolvedValues {
    if (time - this.commonCheckedAt >= recheckIntervalMs) {
      this.commonCheckedAt = time;
      this.reloadCommonIfChanged();
    }
    if (this.commonError !== undefined) throw this.commonError;
    return this.platform;
  }

  private reloadCommonIfChanged(): void {
    let signature: string | undefined;
    try {
      signature = fileSignature(this.commonFiles);
      if (signature === this.commonSignature) return;
      this.common = readFileLayer(this.commonFiles, undefined);
      this.commonError = undefined;
      this.platform = this.resolvePlatform();
      this.generation += 1;
    } catch (error) {
      // Kept until the file changes again, so a bad file is not re-read on every call.
      this.commonError = error;
    }
    this.commonSignature = signature;
  }

  private tenantValues(entry: TenantEntry): ResolvedValues {
    const time = this.now();
    const platform = this.platformValues(time);
    if (time - entry.checkedAt >= recheckIntervalMs) {
      entry.checkedAt = time;
      let signature: string | undefined;
      try {
        signature = fileSignature(entry.files);
        if (signature !== entry.signature) {
          entry.layer = readFileLayer(entry.files, this.commonIniPath());
          entry.error = undefined;
          entry.builtOn = -1;
        }
      } catch (error) {
        entry.error = error;
      }
      entry.signature = signature;
    }
    if (entry.error !== undefined) throw entry.error;
    if (entry.values === undefined || entry.builtOn !== this.generation) {
      entry.values = resolveLayers(
        [
          ['common', this.common],
          ['environment', this.environment],
          ['tenant', entry.layer ?? emptyLayer],
        ],
        [...platform.warnings, ...(entry.layer?.warnings ?? [])],
      );
      entry.builtOn = this.generation;
    }
    return entry.values;
  }

  private resolvePlatform(): ResolvedValues {
    return resolveLayers(
      [
        ['common', this.common],
        ['environment', this.environment],
      ],
      this.common.warnings,
    );
  }

  private commonIniPath(): string {
    return join(this.paths.configDir, 'common.ini');
  }
}

/** A value for display: lists joined by ', ', booleans as 1/0 (as Matomo writes them), the rest as text. */
export function formatSettingValue(value: AnySettingValue): string {
  if (typeof value === 'object') return value.join(', ');
  if (typeof value === 'boolean') return value ? '1' : '0';
  return String(value);
}

/**
 * The setting called `name`: `Section.key` exactly, or differing only in case. Throws
 * unknown_setting, naming the keys of the section when the section exists.
 */
export function parseSettingName(name: string): SettingName {
  const trimmed = name.trim();
  if (isSettingName(trimmed)) return trimmed;
  const caseless = findCaseless(trimmed);
  if (caseless) return caseless;
  const dot = trimmed.indexOf('.');
  if (dot <= 0) {
    throw new PluraError(
      'unknown_setting',
      `Unknown setting '${trimmed}': settings are named Section.key, e.g. Tracker.visit_standard_length.`,
    );
  }
  const section = trimmed.slice(0, dot).toLowerCase();
  const siblings = allNames.map(splitName).filter((candidate) => candidate.section.toLowerCase() === section);
  const first = siblings[0];
  if (first) {
    throw new PluraError(
      'unknown_setting',
      `Unknown setting '${trimmed}': [${first.section}] has ${siblings.map((s) => s.key).join(', ')}.`,
    );
  }
  const sections = [...new Set(allNames.map((n) => splitName(n).section))];
  throw new PluraError('unknown_setting', `Unknown setting '${trimmed}': the sections are ${sections.join(', ')}.`);
}

const emptyLayer: Layer = { values: new Map(), warnings: [] };

function lookup(values: ResolvedValues, name: SettingName): ResolvedSetting {
  const setting = values.byName[name];
  // Only reachable from untyped callers.
  if (setting === undefined) throw new PluraError('unknown_setting', `Unknown setting '${String(name)}'.`);
  return setting;
}

function resolveLayers(
  layers: ReadonlyArray<readonly [SettingLayer, Layer]>,
  warnings: readonly string[],
): ResolvedValues {
  const byName = {} as Record<SettingName, ResolvedSetting>;
  for (const name of allNames) {
    const definition: SettingDefinition = settingDefinitions[name];
    let value: AnySettingValue = definition.type === 'list' ? Object.freeze([...definition.default]) : definition.default;
    let layer: SettingLayer = 'default';
    let source = 'built-in';
    for (const [layerName, data] of layers) {
      const set = data.values.get(name);
      if (set) {
        value = set.value;
        layer = layerName;
        source = set.source;
      }
    }
    const { section, key } = splitName(name);
    byName[name] = Object.freeze({
      name,
      section,
      key,
      value,
      layer,
      source,
      scope: definition.scope,
      description: definition.description,
    });
  }
  return {
    byName: Object.freeze(byName),
    sorted: Object.freeze(allNames.map((name) => byName[name])),
    warnings: Object.freeze([...warnings]),
  };
}

/**
 * Reads the files of one layer, later files winning. `tenantOf` is the operator's
 * common.ini path when the files belong to a tenant (platform-only keys are then
 * refused), undefined for the common layer.
 */
function readFileLayer(files: readonly string[], tenantOf: string | undefined): Layer {
  const values = new Map<SettingName, { value: AnySettingValue; source: string }>();
  const warnings: string[] = [];
  for (const file of files) {
    const doc = readIniFile(file);
    if (!doc) continue;
    const raw = new Map<SettingName, { value: RawValue; lineNumber: number }>();
    const warned = new Set<string>();
    for (const line of doc.lines) {
      if (line.kind !== 'entry') continue;
      const name = `${line.section}.${line.key}`;
      if (tenantOf !== undefined && (isPlatformOnlySection(line.section) || (isSettingName(name) && isPlatformOnly(name)))) {
        throw new PluraError(
          'config_refused',
          `Setting ${name} may only be set by the operator (${tenantOf} or the environment), not in tenant file ${file}.`,
        );
      }
      if (!isSettingName(name)) {
        if (!warned.has(name)) {
          warned.add(name);
          const caseless = findCaseless(name);
          const hint = caseless ? ` (did you mean ${caseless}?)` : '';
          warnings.push(`Unknown setting ${name} in ${file} (line ${line.lineNumber}), ignored${hint}.`);
        }
        continue;
      }
      raw.set(name, { value: addRawValue(raw.get(name)?.value, line.value, line.isArray), lineNumber: line.lineNumber });
    }
    for (const [name, { value, lineNumber }] of raw) {
      const parsed = parseValue(settingDefinitions[name], value);
      if ('problem' in parsed) {
        throw new PluraError('config_invalid', `Invalid value for ${name} in ${file} (line ${lineNumber}): ${parsed.problem}.`);
      }
      values.set(name, { value: parsed.value, source: file });
    }
  }
  return { values, warnings };
}

/** Follows the `ini` package: `key[] =` items accumulate (after an earlier plain value); a plain `key =` replaces. */
function addRawValue(previous: RawValue | undefined, text: string, isArray: boolean): RawValue {
  if (!isArray) return { kind: 'scalar', text };
  if (previous === undefined) return { kind: 'list', items: [text] };
  return { kind: 'list', items: previous.kind === 'list' ? [...previous.items, text] : [previous.text, text] };
}

function readEnvironmentLayer(env: NodeJS.ProcessEnv): Layer {
  const values = new Map<SettingName, { value: AnySettingValue; source: string }>();
  for (const name of allNames) {
    const variable = environmentVariable(name);
    const text = env[variable];
    if (text === undefined) continue;
    const parsed = parseValue(settingDefinitions[name], { kind: 'scalar', text });
    if ('problem' in parsed) {
      throw new PluraError(
        'config_invalid',
        `Invalid value for ${name} in environment variable ${variable}: ${parsed.problem}.`,
      );
    }
    values.set(name, { value: parsed.value, source: variable });
  }
  return { values, warnings: [] };
}

function environmentVariable(name: SettingName): string {
  const { section, key } = splitName(name);
  return `PLURA_${section.toUpperCase()}_${key.toUpperCase()}`;
}

const trueWords = new Set(['1', 'true', 'on', 'yes']);
const falseWords = new Set(['0', 'false', 'off', 'no']);

/** Checks a value against its definition; `problem` completes "Invalid value for X: …". */
function parseValue(definition: SettingDefinition, raw: RawValue): { value: AnySettingValue } | { problem: string } {
  if (definition.type === 'list') {
    const items = raw.kind === 'list' ? raw.items : raw.text.split(',');
    return { value: Object.freeze(items.map((item) => item.trim()).filter((item) => item !== '')) };
  }
  if (raw.kind === 'list') {
    return { problem: `it is written as a list (key[] = …) but takes a single value` };
  }
  const text = raw.text.trim();
  switch (definition.type) {
    case 'int': {
      const number = Number(text);
      if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(number)) {
        return { problem: `'${text}' is not a whole number` };
      }
      const { min, max } = definition;
      if ((min !== undefined && number < min) || (max !== undefined && number > max)) {
        const range =
          min !== undefined && max !== undefined
            ? `between ${min} and ${max}`
            : min !== undefined
              ? `at least ${min}`
              : `at most ${String(max)}`;
        return { problem: `'${text}' is out of range: it must be ${range}` };
      }
      return { value: number };
    }
    case 'bool': {
      const word = text.toLowerCase();
      if (trueWords.has(word)) return { value: true };
      if (falseWords.has(word)) return { value: false };
      return { problem: `'${text}' is not a boolean (use 1/0, true/false, on/off or yes/no)` };
    }
    case 'string':
      if (definition.allowed && !definition.allowed.includes(text)) {
        return { problem: `'${text}' is not one of ${definition.allowed.join(', ')}` };
      }
      return { value: text };
  }
}

/** Checks a JSON value against its definition, as `parseValue` checks the text of a file. */
function parseInput(definition: SettingDefinition, input: SettingInput): { value: AnySettingValue } | { problem: string } {
  if (typeof input === 'object') {
    if (definition.type !== 'list') return { problem: 'it takes a single value, not a list' };
    return parseValue(definition, { kind: 'list', items: [...input] });
  }
  if (typeof input === 'boolean') {
    if (definition.type !== 'bool') return { problem: `${String(input)} is not a ${typeLabel(definition)}` };
    return { value: input };
  }
  if (typeof input === 'number') {
    if (definition.type !== 'int' && definition.type !== 'bool') return { problem: `${input} is not a ${typeLabel(definition)}` };
    return parseValue(definition, { kind: 'scalar', text: String(input) });
  }
  return parseValue(definition, { kind: 'scalar', text: input });
}

function typeLabel(definition: SettingDefinition): string {
  switch (definition.type) {
    case 'int':
      return 'whole number';
    case 'bool':
      return 'boolean';
    case 'string':
      return 'text';
    case 'list':
      return 'list of text';
  }
}

/** The lines `set` writes: Matomo's style, `key[] =` per list item, booleans as 1/0, text quoted. */
function iniLinesFor(key: string, value: AnySettingValue): string[] {
  if (typeof value === 'object') {
    return value.length === 0 ? [`${key} = ""`] : value.map((item) => `${key}[] = ${quoteIniValue(item)}`);
  }
  if (typeof value === 'boolean') return [`${key} = ${value ? 1 : 0}`];
  if (typeof value === 'number') return [`${key} = ${value}`];
  return [`${key} = ${quoteIniValue(value)}`];
}

function layerFiles(dir: string, layer: 'common' | 'tenant'): readonly string[] {
  const base = layer === 'common' ? 'common' : 'config';
  return [join(dir, `${base}.ini.php`), join(dir, `${base}.ini`)];
}

function splitName(name: SettingName): { section: string; key: string } {
  const dot = name.indexOf('.');
  return { section: name.slice(0, dot), key: name.slice(dot + 1) };
}

function isPlatformOnlySection(section: string): boolean {
  // Case-insensitive on purpose: a `[Database]` section is refused in a tenant file too.
  const lower = section.toLowerCase();
  return platformOnlySections.some((candidate) => candidate.toLowerCase() === lower);
}

/**
 * Secrets are never shown or audited in clear: text settings named like a secret or a
 * password, and the connection URLs that may carry credentials (numbers such as
 * Security.password_min_length are not secrets).
 */
export function isSecretSetting(name: SettingName): boolean {
  return settingDefinitions[name].type === 'string' && /secret|password|redis_url|registry_url/i.test(name);
}

/** May a tenant's config.ini set this (not platform-only by itself or by its section)? */
export function isTenantSetting(name: SettingName): boolean {
  return !isPlatformOnly(name);
}

function isPlatformOnly(name: SettingName): boolean {
  return settingDefinitions[name].scope === 'platform' || isPlatformOnlySection(splitName(name).section);
}

function findCaseless(name: string): SettingName | undefined {
  const lower = name.toLowerCase();
  return allNames.find((candidate) => candidate.toLowerCase() === lower);
}

function checkSlug(slug: string): void {
  // The slug becomes a folder name; the tenancy module validates it fully, this only keeps paths inside tenants/.
  if (slug === '' || slug === '.' || slug === '..' || /[/\\\0]/.test(slug)) {
    throw new PluraError('invalid_slug', `Invalid tenant slug '${slug}'.`);
  }
}
