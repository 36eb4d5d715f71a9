/**
 * SCIM 2.0 (RFC 7643 resources, RFC 7644 protocol) for one tenant: its identity
 * provider creates, updates, deactivates and deletes the tenant's users and pushes
 * groups, whose memberships drive `[SSO] role_mapping`. Users are the tenant's own
 * `user` rows, written through the user services (limits, validation, audit); groups
 * live in `scim_group` / `scim_group_member`.
 */
import { randomUUID } from 'node:crypto';
import { sql, type RawBuilder, type Selectable, type SqlBool } from 'kysely';
import { filter as filterTester, parse as parseScimFilter, type Filter } from 'scim2-parse-filter';
import { recordAudit } from '../audit/audit.service.js';
import { isPluraError } from '../core/errors.js';
import { ANONYMOUS_LOGIN } from '../access/actors.js';
import type { ActContext } from '../access/context.js';
import { identityStore, type IdentityDb, type UserRow } from '../access/identity.store.js';
import { createUser, deleteUser, setUserActive, updateUser } from '../access/users.service.js';
import { refreshMappedRights } from './sso-sign-in.js';
import type { ScimGroupTable } from './sso.tables.js';

export const SCIM_CONTENT_TYPE = 'application/scim+json';

export const SCHEMAS = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterpriseUser: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  searchRequest: 'urn:ietf:params:scim:api:messages:2.0:SearchRequest',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

/** RFC 7644 §3.12 `scimType` values. */
export type ScimType = 'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'invalidValue' | 'invalidVers' | 'sensitive';

/** A failure with a SCIM status and `scimType`; the SCIM routes render it in the SCIM error schema. */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly scimType: ScimType | null,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ScimError';
  }
}

const badRequest = (scimType: ScimType, message: string): ScimError => new ScimError(400, scimType, message);
const notFound = (kind: 'User' | 'Group', id: string): ScimError => new ScimError(404, null, `${kind} ${JSON.stringify(id.slice(0, 100))} not found.`);

export function scimErrorBody(status: number, scimType: ScimType | null, detail: string): Record<string, unknown> {
  return { schemas: [SCHEMAS.error], status: String(status), ...(scimType ? { scimType } : {}), detail };
}

/** Everything one SCIM request works with. */
export interface ScimCall {
  /** The tenant scope, acting as the system actor `scim` (every change is audited as it). */
  readonly ctx: ActContext;
  readonly db: IdentityDb;
  /** Absolute base URL (`https://host/scim/v2`) for `meta.location` and `$ref`. */
  readonly baseUrl: string;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** SCIM attribute names are case-insensitive (RFC 7643 §2.1): keys lowercased, original names kept for messages. */
function fieldsOf(value: JsonObject): Map<string, { readonly name: string; readonly value: unknown }> {
  return new Map(Object.entries(value).map(([name, field]) => [name.toLowerCase(), { name, value: field }]));
}

function requiredText(value: unknown, what: string, max: number): string {
  if (typeof value !== 'string' || value.trim() === '') throw badRequest('invalidValue', `${what} must be a non-empty string.`);
  const trimmed = value.trim();
  if (trimmed.length > max) throw badRequest('invalidValue', `${what} is longer than ${max} characters.`);
  return trimmed;
}

function optionalText(value: unknown, what: string, max: number): string | null {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return null;
  return requiredText(value, what, max);
}

/** Booleans; Azure AD has been seen sending "True"/"False" strings in PATCH values. */
function booleanValue(value: unknown, what: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw badRequest('invalidValue', `${what} must be true or false.`);
}

/** `schemas` of a request: optional (lenient for hand-written clients), but only schemas we know. */
function checkSchemas(value: unknown, allowed: readonly string[], what: string): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string')) throw badRequest('invalidSyntax', 'schemas must be an array of schema URNs.');
  const known = new Set(allowed.map((urn) => urn.toLowerCase()));
  const unknown = (value as string[]).find((urn) => !known.has(urn.toLowerCase()));
  if (unknown !== undefined) throw badRequest('invalidSyntax', `The schema "${unknown.slice(0, 200)}" is not supported for ${what}; use ${allowed.join(' or ')}.`);
}

// ---------------------------------------------------------------------------
// Listing: filter, pagination, attribute projection

export const MAX_RESULTS = 1000;
const DEFAULT_COUNT = 100;
const MAX_FILTER_LENGTH = 2000;

export interface Projection {
  /** Only these (lowercased, `a` or `a.b`); null: every attribute returned by default. */
  readonly attributes: readonly string[] | null;
  readonly excluded: readonly string[];
}

export interface ListQuery {
  readonly filter: string | null;
  readonly startIndex: number;
  readonly count: number;
  readonly projection: Projection;
}

function attributeList(value: unknown, what: string): string[] | null {
  if (value === undefined || value === null || value === '') return null;
  const parts = typeof value === 'string' ? value.split(',') : Array.isArray(value) && value.every((entry) => typeof entry === 'string') ? (value as string[]) : null;
  if (parts === null) throw badRequest('invalidValue', `${what} must be a comma-separated list of attribute names.`);
  return parts.map((part) => part.trim().toLowerCase()).filter((part) => part !== '');
}

function integerParameter(value: unknown, what: string): number | null {
  if (value === undefined || value === null || value === '') return null;
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d{1,9}$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(number)) throw badRequest('invalidValue', `${what} must be an integer.`);
  return number;
}

export function readProjection(source: Record<string, unknown>): Projection {
  return { attributes: attributeList(source['attributes'], 'attributes'), excluded: attributeList(source['excludedAttributes'], 'excludedAttributes') ?? [] };
}

/** Query parameters of a list (GET) or the body of a `.search` (POST); RFC 7644 §3.4.2. */
export function readListQuery(source: Record<string, unknown>): ListQuery {
  const filter = source['filter'];
  if (filter !== undefined && typeof filter !== 'string') throw badRequest('invalidFilter', 'Send one filter.');
  const startIndex = integerParameter(source['startIndex'], 'startIndex') ?? 1;
  const count = integerParameter(source['count'], 'count') ?? DEFAULT_COUNT;
  return {
    filter: filter === undefined || filter.trim() === '' ? null : filter,
    // RFC 7644 §3.4.2.4: a startIndex below 1 means 1, a negative count means 0.
    startIndex: Math.max(1, startIndex),
    count: Math.min(MAX_RESULTS, Math.max(0, count)),
    projection: readProjection(source),
  };
}

/** Strips the core schema URN from a full attribute name (`urn:...:User:userName`). */
function bareName(name: string, schema: string): string {
  const lower = name.toLowerCase();
  const prefix = `${schema.toLowerCase()}:`;
  return lower.startsWith(prefix) ? lower.slice(prefix.length) : lower;
}

function findKey(resource: JsonObject, lowerName: string): string | undefined {
  return Object.keys(resource).find((key) => key.toLowerCase() === lowerName);
}

function pickSub(value: unknown, sub: string, keep: boolean): unknown {
  const one = (item: unknown): unknown => {
    if (!isObject(item)) return item;
    return Object.fromEntries(Object.entries(item).filter(([key]) => (key.toLowerCase() === sub) === keep));
  };
  return Array.isArray(value) ? value.map(one) : one(value);
}

/** `attributes` / `excludedAttributes` (RFC 7644 §3.9); `id` and `schemas` are always returned. */
export function project(resource: JsonObject, projection: Projection, schema: string): JsonObject {
  const always = new Set(['id', 'schemas']);
  if (projection.attributes !== null) {
    const result: JsonObject = { schemas: resource['schemas'], id: resource['id'] };
    for (const requested of projection.attributes) {
      const [top = '', sub] = bareName(requested, schema).split('.', 2);
      const key = findKey(resource, top);
      if (key === undefined || always.has(key)) continue;
      if (sub === undefined) result[key] = resource[key];
      else {
        const picked = pickSub(resource[key], sub, true);
        const held = result[key];
        result[key] = isObject(held) && isObject(picked) ? { ...held, ...picked } : picked;
      }
    }
    return result;
  }
  const result: JsonObject = { ...resource };
  for (const excluded of projection.excluded) {
    const [top = '', sub] = bareName(excluded, schema).split('.', 2);
    const key = findKey(result, top);
    if (key === undefined || always.has(key)) continue;
    if (sub === undefined) delete result[key];
    else result[key] = pickSub(result[key], sub, false);
  }
  return result;
}

function wantsAttribute(projection: Projection, name: string): boolean {
  if (projection.attributes !== null) return projection.attributes.some((entry) => entry === name || entry.startsWith(`${name}.`));
  return !projection.excluded.includes(name);
}

function listResponse(resources: JsonObject[], total: number, startIndex: number): JsonObject {
  return { schemas: [SCHEMAS.listResponse], totalResults: total, startIndex, itemsPerPage: resources.length, Resources: resources };
}

/** How a filterable attribute maps to SQL. */
type FilterAttribute =
  | { readonly kind: 'text'; readonly column: string; readonly caseExact: boolean }
  | { readonly kind: 'time'; readonly column: string }
  | { readonly kind: 'userId' }
  | { readonly kind: 'active' }
  | { readonly kind: 'member' };

const USER_FILTERS: ReadonlyMap<string, FilterAttribute> = new Map<string, FilterAttribute>([
  ['id', { kind: 'userId' }],
  ['username', { kind: 'text', column: 'user.login', caseExact: false }],
  ['externalid', { kind: 'text', column: 'user.external_id', caseExact: true }],
  ['emails', { kind: 'text', column: 'user.email', caseExact: false }],
  ['emails.value', { kind: 'text', column: 'user.email', caseExact: false }],
  ['displayname', { kind: 'text', column: 'user.alias', caseExact: false }],
  ['name.givenname', { kind: 'text', column: 'user.first_name', caseExact: false }],
  ['name.familyname', { kind: 'text', column: 'user.last_name', caseExact: false }],
  ['active', { kind: 'active' }],
  ['meta.created', { kind: 'time', column: 'user.created_at' }],
  ['meta.lastmodified', { kind: 'time', column: 'user.updated_at' }],
]);

const GROUP_FILTERS: ReadonlyMap<string, FilterAttribute> = new Map<string, FilterAttribute>([
  ['id', { kind: 'text', column: 'scim_group.id', caseExact: true }],
  ['displayname', { kind: 'text', column: 'scim_group.display_name', caseExact: false }],
  ['externalid', { kind: 'text', column: 'scim_group.external_id', caseExact: true }],
  ['members', { kind: 'member' }],
  ['members.value', { kind: 'member' }],
  ['meta.created', { kind: 'time', column: 'scim_group.created_at' }],
  ['meta.lastmodified', { kind: 'time', column: 'scim_group.updated_at' }],
]);

type Condition = RawBuilder<SqlBool>;

const comparison = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' } as const;

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}

function compare(attribute: FilterAttribute, name: string, op: string, value: unknown): Condition {
  const unsupported = (): ScimError => badRequest('invalidFilter', `The operator "${op}" is not supported on ${name}.`);
  switch (attribute.kind) {
    case 'text': {
      if (typeof value !== 'string') throw badRequest('invalidFilter', `${name} compares with a string.`);
      const column = sql.ref(attribute.column);
      const equal = attribute.caseExact ? sql<SqlBool>`${column} = ${value}` : sql<SqlBool>`lower(${column}) = lower(${value})`;
      const like = (pattern: string): Condition => sql<SqlBool>`lower(${column}) like lower(${pattern}) escape '\\'`;
      if (op === 'eq') return equal;
      if (op === 'ne') return sql<SqlBool>`(${column} is null or not (${equal}))`;
      if (op === 'co') return like(`%${escapeLike(value)}%`);
      if (op === 'sw') return like(`${escapeLike(value)}%`);
      if (op === 'ew') return like(`%${escapeLike(value)}`);
      throw unsupported();
    }
    case 'time': {
      const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
      if (Number.isNaN(at)) throw badRequest('invalidFilter', `${name} compares with a date-time such as "2026-01-31T00:00:00Z".`);
      if (!(op in comparison)) throw unsupported();
      return sql<SqlBool>`${sql.ref(attribute.column)} ${sql.raw(comparison[op as keyof typeof comparison])} ${new Date(at).toISOString()}`;
    }
    case 'userId': {
      if (op !== 'eq' && op !== 'ne') throw unsupported();
      const id = typeof value === 'number' || typeof value === 'string' ? String(value) : '';
      const equal = /^\d{1,15}$/.test(id) ? sql<SqlBool>`${sql.ref('user.id')} = ${Number(id)}` : sql<SqlBool>`1 = 0`;
      return op === 'eq' ? equal : sql<SqlBool>`not (${equal})`;
    }
    case 'active': {
      if (op !== 'eq' && op !== 'ne') throw unsupported();
      const wanted = booleanValue(value, name) === (op === 'eq');
      return wanted ? sql<SqlBool>`${sql.ref('user.deactivated_at')} is null` : sql<SqlBool>`${sql.ref('user.deactivated_at')} is not null`;
    }
    case 'member': {
      if (op !== 'eq') throw unsupported();
      const id = typeof value === 'number' || typeof value === 'string' ? String(value) : '';
      if (!/^\d{1,15}$/.test(id)) return sql<SqlBool>`1 = 0`;
      return sql<SqlBool>`exists (select 1 from ${sql.table('scim_group_member')} where ${sql.ref('scim_group_member.group_id')} = ${sql.ref('scim_group.id')} and ${sql.ref('scim_group_member.user_id')} = ${Number(id)})`;
    }
  }
}

function present(attribute: FilterAttribute): Condition {
  switch (attribute.kind) {
    case 'text':
      return sql<SqlBool>`(${sql.ref(attribute.column)} is not null and ${sql.ref(attribute.column)} <> '')`;
    case 'time':
      return sql<SqlBool>`${sql.ref(attribute.column)} is not null`;
    case 'member':
      return sql<SqlBool>`exists (select 1 from ${sql.table('scim_group_member')} where ${sql.ref('scim_group_member.group_id')} = ${sql.ref('scim_group.id')})`;
    default:
      return sql<SqlBool>`1 = 1`;
  }
}

/** `within`: the multi-valued attribute of an enclosing value path (`emails[value eq "x"]` filters `emails.value`). */
function toCondition(filter: Filter, attributes: ReadonlyMap<string, FilterAttribute>, schema: string, within: string | null = null): Condition {
  switch (filter.op) {
    case 'and':
    case 'or':
      return sql<SqlBool>`(${sql.join(filter.filters.map((part) => toCondition(part, attributes, schema, within)), filter.op === 'and' ? sql` and ` : sql` or `)})`;
    case 'not':
      return sql<SqlBool>`(not ${toCondition(filter.filter, attributes, schema, within)})`;
    case '[]':
      if (within !== null) throw badRequest('invalidFilter', 'Value paths cannot be nested.');
      return toCondition(filter.valFilter, attributes, schema, bareName(filter.attrPath, schema));
    default: {
      const name = within === null ? bareName(filter.attrPath, schema) : `${within}.${filter.attrPath.toLowerCase()}`;
      const attribute = attributes.get(name);
      if (!attribute) throw badRequest('invalidFilter', `Filtering on "${name.slice(0, 100)}" is not supported; filter on ${[...attributes.keys()].join(', ')}.`);
      return filter.op === 'pr' ? present(attribute) : compare(attribute, name, filter.op, filter.compValue);
    }
  }
}

/** A SCIM filter as a SQL condition; the library parses, we translate the supported subset. */
function translateFilter(raw: string, attributes: ReadonlyMap<string, FilterAttribute>, schema: string): Condition {
  if (raw.length > MAX_FILTER_LENGTH) throw badRequest('invalidFilter', `The filter is longer than ${MAX_FILTER_LENGTH} characters.`);
  let parsed: Filter;
  try {
    parsed = parseScimFilter(raw);
  } catch (error) {
    throw badRequest('invalidFilter', `The filter ${JSON.stringify(raw.slice(0, 200))} is not valid: ${error instanceof Error ? error.message : String(error)}.`);
  }
  return toCondition(parsed, attributes, schema);
}

// ---------------------------------------------------------------------------
// PATCH operations (RFC 7644 §3.5.2)

type PatchOp = 'add' | 'replace' | 'remove';

interface PatchOperation {
  readonly op: PatchOp;
  readonly path: string | null;
  readonly value: unknown;
}

const MAX_OPERATIONS = 1000;

function readPatchBody(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw badRequest('invalidSyntax', 'A PATCH body must be a PatchOp object with Operations.');
  const fields = fieldsOf(body);
  checkSchemas(fields.get('schemas')?.value, [SCHEMAS.patchOp], 'PATCH');
  for (const [key, field] of fields) {
    if (key !== 'schemas' && key !== 'operations') throw badRequest('invalidSyntax', `Unknown attribute "${field.name.slice(0, 100)}" in a PatchOp request.`);
  }
  const operations = fields.get('operations')?.value;
  if (!Array.isArray(operations) || operations.length === 0) throw badRequest('invalidSyntax', 'Operations must be a non-empty array.');
  if (operations.length > MAX_OPERATIONS) throw new ScimError(413, 'tooMany', `At most ${MAX_OPERATIONS} operations per request.`);
  return operations.map((raw): PatchOperation => {
    if (!isObject(raw)) throw badRequest('invalidSyntax', 'Each operation must be an object with op, path and value.');
    const parts = fieldsOf(raw);
    for (const [key, field] of parts) {
      if (key !== 'op' && key !== 'path' && key !== 'value') throw badRequest('invalidSyntax', `Unknown member "${field.name.slice(0, 100)}" in a PATCH operation.`);
    }
    const op = parts.get('op')?.value;
    const lower = typeof op === 'string' ? op.toLowerCase() : '';
    if (lower !== 'add' && lower !== 'replace' && lower !== 'remove') throw badRequest('invalidSyntax', `The operation "${String(op).slice(0, 50)}" is not add, replace or remove.`);
    const path = parts.get('path')?.value;
    if (path !== undefined && path !== null && (typeof path !== 'string' || path.trim() === '')) throw badRequest('invalidPath', 'path must be a non-empty string.');
    return { op: lower, path: typeof path === 'string' ? path.trim() : null, value: parts.get('value')?.value };
  });
}

interface PatchPath {
  /** Lowercased attribute (core schema prefix stripped); null for an extension attribute we do not keep. */
  readonly attribute: string | null;
  readonly filter: Filter | null;
  readonly sub: string | null;
}

const PATH_PATTERN = /^([A-Za-z][\w$-]*)(?:\[(.+)\])?(?:\.([A-Za-z][\w$-]*))?$/;

/** `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`, optionally behind the resource's schema URN. */
function parsePatchPath(raw: string, schema: string, extensions: readonly string[]): PatchPath {
  if (raw.length > 1000) throw badRequest('invalidPath', 'The path is too long.');
  const lower = raw.toLowerCase();
  if (extensions.some((urn) => lower === urn.toLowerCase() || lower.startsWith(`${urn.toLowerCase()}:`))) return { attribute: null, filter: null, sub: null };
  const prefix = `${schema.toLowerCase()}:`;
  const path = lower.startsWith(prefix) ? raw.slice(prefix.length) : raw;
  const match = PATH_PATTERN.exec(path);
  if (!match) throw badRequest('invalidPath', `The path ${JSON.stringify(raw.slice(0, 200))} is not a valid attribute path.`);
  let filter: Filter | null = null;
  if (match[2] !== undefined) {
    try {
      filter = parseScimFilter(match[2]);
    } catch (error) {
      throw badRequest('invalidPath', `The filter in path ${JSON.stringify(raw.slice(0, 200))} is not valid: ${error instanceof Error ? error.message : String(error)}.`);
    }
  }
  return { attribute: (match[1] ?? '').toLowerCase(), filter, sub: match[3]?.toLowerCase() ?? null };
}

/** A path-less add/replace carries an object whose keys are paths (`{"active": false}`, `{"name.givenName": "A"}`). */
function pathlessEntries(operation: PatchOperation): [string, unknown][] {
  if (operation.op === 'remove') throw badRequest('noTarget', 'A remove operation needs a path.');
  if (!isObject(operation.value)) throw badRequest('invalidValue', `An ${operation.op} operation without a path needs an object value.`);
  return Object.entries(operation.value).filter(([key]) => !['schemas', 'id', 'meta'].includes(key.toLowerCase()));
}

// ---------------------------------------------------------------------------
// Users

/** Matomo's login rule, as users.service applies it. */
const LOGIN_PATTERN = /^[A-Za-z0-9_.@+\-äöüÄÖÜß]{2,100}$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_NAME = 200;
const MAX_EXTERNAL_ID = 500;
const MAX_PASSWORD = 1000;

/** What SCIM can say about a user; `password` is write-only (null: unchanged). */
interface UserDraft {
  login: string;
  email: string;
  givenName: string | null;
  familyName: string | null;
  displayName: string | null;
  externalId: string | null;
  active: boolean;
  password: string | null;
}

/** Core User attributes we keep. */
const USER_ATTRIBUTES = new Set(['schemas', 'id', 'externalid', 'username', 'name', 'displayname', 'emails', 'active', 'password', 'meta', 'groups']);
/** Core User attributes (RFC 7643 §4.1) we accept and do not keep: IdPs send them by default. */
const IGNORED_USER_ATTRIBUTES = new Set(['nickname', 'profileurl', 'title', 'usertype', 'preferredlanguage', 'locale', 'timezone', 'phonenumbers', 'ims', 'photos', 'addresses', 'entitlements', 'roles', 'x509certificates']);
const NAME_ATTRIBUTES = new Set(['givenname', 'familyname', 'formatted', 'middlename', 'honorificprefix', 'honorificsuffix']);
const EMAIL_ATTRIBUTES = new Set(['value', 'type', 'primary', 'display']);

function draftOf(user: UserRow): UserDraft {
  return {
    login: user.login,
    email: user.email,
    givenName: user.first_name,
    familyName: user.last_name,
    displayName: user.alias,
    externalId: user.external_id,
    active: user.deactivated_at === null,
    password: null,
  };
}

/** Applies a `name` object (sub-attributes we keep; formatted and the rest are derived or not kept). */
function applyName(draft: UserDraft, value: unknown): void {
  if (value === undefined || value === null) return;
  if (!isObject(value)) throw badRequest('invalidValue', 'name must be an object (givenName, familyName).');
  for (const [key, field] of fieldsOf(value)) {
    if (key === 'givenname') draft.givenName = optionalText(field.value, 'name.givenName', MAX_NAME);
    else if (key === 'familyname') draft.familyName = optionalText(field.value, 'name.familyName', MAX_NAME);
    else if (!NAME_ATTRIBUTES.has(key)) throw badRequest('invalidSyntax', `Unknown attribute "name.${field.name.slice(0, 100)}".`);
  }
}

/** The primary (else the first) address of an `emails` value; null when it holds none. */
function primaryEmail(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const items = Array.isArray(value) ? value : [value];
  let chosen: string | null = null;
  for (const item of items) {
    if (!isObject(item)) throw badRequest('invalidValue', 'emails must be a list of objects with value, type and primary.');
    const fields = fieldsOf(item);
    for (const [key, field] of fields) {
      if (!EMAIL_ATTRIBUTES.has(key)) throw badRequest('invalidSyntax', `Unknown attribute "emails.${field.name.slice(0, 100)}".`);
    }
    const address = requiredText(fields.get('value')?.value, 'emails.value', 100);
    const primary = fields.get('primary')?.value;
    if (primary !== undefined && primary !== null && booleanValue(primary, 'emails.primary')) return address;
    chosen ??= address;
  }
  return chosen;
}

/** A User resource of a POST (current null) or PUT (replace: attributes left out are cleared, except email and active). */
function readUserBody(body: unknown, current: UserDraft | null): UserDraft {
  if (!isObject(body)) throw badRequest('invalidSyntax', 'The request body must be a SCIM User resource.');
  const fields = fieldsOf(body);
  const enterprise = SCHEMAS.enterpriseUser.toLowerCase();
  checkSchemas(fields.get('schemas')?.value, [SCHEMAS.user, SCHEMAS.enterpriseUser], 'Users');
  for (const [key, field] of fields) {
    if (!USER_ATTRIBUTES.has(key) && !IGNORED_USER_ATTRIBUTES.has(key) && key !== enterprise) {
      throw badRequest('invalidSyntax', `Unknown attribute "${field.name.slice(0, 100)}" for a User; see /scim/v2/Schemas.`);
    }
  }
  const value = (key: string): unknown => fields.get(key)?.value;
  const login = requiredText(value('username'), 'userName', 100);
  const draft: UserDraft = {
    login,
    email: '',
    givenName: null,
    familyName: null,
    displayName: optionalText(value('displayname'), 'displayName', MAX_NAME),
    externalId: optionalText(value('externalid'), 'externalId', MAX_EXTERNAL_ID),
    active: value('active') === undefined || value('active') === null ? (current?.active ?? true) : booleanValue(value('active'), 'active'),
    password: value('password') === undefined || value('password') === null ? null : requiredText(value('password'), 'password', MAX_PASSWORD),
  };
  applyName(draft, value('name'));
  const email = primaryEmail(value('emails')) ?? current?.email ?? (EMAIL_PATTERN.test(login) ? login : null);
  if (email === null) throw badRequest('invalidValue', 'A user needs an email address: send emails, or a userName that is an email address.');
  draft.email = email;
  return draft;
}

function applyUserOperation(draft: UserDraft, op: PatchOp, path: string, value: unknown): void {
  const target = parsePatchPath(path, SCHEMAS.user, [SCHEMAS.enterpriseUser]);
  if (target.attribute === null || IGNORED_USER_ATTRIBUTES.has(target.attribute)) return;
  const remove = op === 'remove';
  const simple = (what: string): void => {
    if (target.filter !== null || target.sub !== null) throw badRequest('invalidPath', `${what} has no sub-attributes.`);
  };
  const required = (what: string): void => {
    if (remove) throw badRequest('invalidValue', `${what} is required and cannot be removed.`);
  };
  switch (target.attribute) {
    case 'username':
      simple('userName');
      required('userName');
      draft.login = requiredText(value, 'userName', 100);
      return;
    case 'displayname':
      simple('displayName');
      draft.displayName = remove ? null : optionalText(value, 'displayName', MAX_NAME);
      return;
    case 'externalid':
      simple('externalId');
      draft.externalId = remove ? null : optionalText(value, 'externalId', MAX_EXTERNAL_ID);
      return;
    case 'active':
      simple('active');
      required('active');
      draft.active = booleanValue(value, 'active');
      return;
    case 'password':
      simple('password');
      required('password');
      draft.password = requiredText(value, 'password', MAX_PASSWORD);
      return;
    case 'name':
      if (target.filter !== null) throw badRequest('invalidPath', 'name is not multi-valued.');
      if (target.sub === null) {
        if (remove) {
          draft.givenName = null;
          draft.familyName = null;
        } else applyName(draft, value);
      } else if (!NAME_ATTRIBUTES.has(target.sub)) throw badRequest('invalidPath', `Unknown attribute "name.${target.sub}".`);
      else if (target.sub === 'givenname') draft.givenName = remove ? null : optionalText(value, 'name.givenName', MAX_NAME);
      else if (target.sub === 'familyname') draft.familyName = remove ? null : optionalText(value, 'name.familyName', MAX_NAME);
      return;
    case 'emails':
      applyEmailOperation(draft, op, target, value);
      return;
    case 'groups':
      throw new ScimError(400, 'mutability', "A user's groups are read-only: change memberships through /Groups.");
    case 'id':
    case 'meta':
      throw new ScimError(400, 'mutability', `${target.attribute} is read-only.`);
    default:
      throw badRequest('invalidPath', `No attribute "${path.slice(0, 100)}" in a User; see /scim/v2/Schemas.`);
  }
}

/** A user has one address, shown as `{value, type: "work", primary: true}`; value paths select it. */
function applyEmailOperation(draft: UserDraft, op: PatchOp, target: PatchPath, value: unknown): void {
  if (target.sub !== null && !EMAIL_ATTRIBUTES.has(target.sub)) throw badRequest('invalidPath', `Unknown attribute "emails.${target.sub}".`);
  if (target.filter !== null && !filterTester(target.filter)({ value: draft.email, type: 'work', primary: true })) {
    // Another address than the one we keep: nothing to replace; adding or removing it changes nothing here.
    if (op === 'replace') throw badRequest('noTarget', 'No email address matches the filter of the path.');
    return;
  }
  const whole = target.sub === null;
  if (!whole && target.sub !== 'value') return; // type, primary, display: not kept
  if (op === 'remove') throw badRequest('invalidValue', 'A user needs an email address; it cannot be removed.');
  if (whole) {
    const address = primaryEmail(value);
    if (address !== null) draft.email = address;
  } else draft.email = requiredText(value, 'emails.value', 100);
}

function patchUserDraft(current: UserDraft, operations: readonly PatchOperation[]): UserDraft {
  const draft: UserDraft = { ...current };
  for (const operation of operations) {
    if (operation.path !== null) applyUserOperation(draft, operation.op, operation.path, operation.value);
    else for (const [key, value] of pathlessEntries(operation)) applyUserOperation(draft, operation.op, key, value);
  }
  return draft;
}

interface GroupRef {
  readonly id: string;
  readonly displayName: string;
}

async function groupsOfUsers(db: IdentityDb, userIds: readonly number[]): Promise<Map<number, GroupRef[]>> {
  const result = new Map<number, GroupRef[]>();
  if (userIds.length === 0) return result;
  const rows = await db
    .selectFrom('scim_group_member')
    .innerJoin('scim_group', 'scim_group.id', 'scim_group_member.group_id')
    .select(['scim_group_member.user_id', 'scim_group.id', 'scim_group.display_name'])
    .where('scim_group_member.user_id', 'in', [...userIds])
    .orderBy('scim_group.display_name')
    .execute();
  for (const row of rows) {
    const list = result.get(row.user_id) ?? [];
    list.push({ id: row.id, displayName: row.display_name });
    result.set(row.user_id, list);
  }
  return result;
}

function userResource(call: ScimCall, user: UserRow, groups: readonly GroupRef[]): JsonObject {
  const formatted = [user.first_name, user.last_name].filter((part) => part !== null && part !== '').join(' ');
  const name = {
    ...(user.first_name !== null ? { givenName: user.first_name } : {}),
    ...(user.last_name !== null ? { familyName: user.last_name } : {}),
    ...(formatted !== '' ? { formatted } : {}),
  };
  return {
    schemas: [SCHEMAS.user],
    id: String(user.id),
    ...(user.external_id !== null ? { externalId: user.external_id } : {}),
    userName: user.login,
    ...(Object.keys(name).length > 0 ? { name } : {}),
    ...(user.alias !== null && user.alias !== '' ? { displayName: user.alias } : {}),
    emails: [{ value: user.email, type: 'work', primary: true }],
    active: user.deactivated_at === null,
    groups: groups.map((group) => ({ value: group.id, display: group.displayName, $ref: `${call.baseUrl}/Groups/${group.id}`, type: 'direct' })),
    meta: { resourceType: 'User', created: user.created_at, lastModified: user.updated_at, location: `${call.baseUrl}/Users/${user.id}` },
  };
}

/** A tenant user by SCIM id (the anonymous user is not a SCIM resource). */
async function requireScimUser(call: ScimCall, id: string): Promise<UserRow> {
  const user = /^\d{1,15}$/.test(id) ? await identityStore.findUserById(call.db, Number(id)) : undefined;
  if (!user || user.login === ANONYMOUS_LOGIN) throw notFound('User', id);
  return user;
}

async function presentScimUser(call: ScimCall, user: UserRow, projection: Projection): Promise<JsonObject> {
  const groups = wantsAttribute(projection, 'groups') ? ((await groupsOfUsers(call.db, [user.id])).get(user.id) ?? []) : [];
  return project(userResource(call, user, groups), projection, SCHEMAS.user);
}

export async function listScimUsers(call: ScimCall, query: ListQuery): Promise<JsonObject> {
  let base = call.db.selectFrom('user').where('login', '!=', ANONYMOUS_LOGIN);
  if (query.filter !== null) base = base.where(translateFilter(query.filter, USER_FILTERS, SCHEMAS.user));
  const total = Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const rows = query.count === 0 ? [] : await base.selectAll('user').orderBy('user.id').limit(query.count).offset(query.startIndex - 1).execute();
  const groups = wantsAttribute(query.projection, 'groups') ? await groupsOfUsers(call.db, rows.map((row) => row.id)) : new Map<number, GroupRef[]>();
  return listResponse(
    rows.map((row) => project(userResource(call, row, groups.get(row.id) ?? []), query.projection, SCHEMAS.user)),
    total,
    query.startIndex,
  );
}

export async function getScimUser(call: ScimCall, id: string, projection: Projection): Promise<JsonObject> {
  return presentScimUser(call, await requireScimUser(call, id), projection);
}

/** Refuses a login or address another user holds, ignoring case as identity providers do (RFC 7643: userName is not case-exact). */
async function assertUnique(call: ScimCall, draft: UserDraft, self: UserRow | null): Promise<void> {
  const others = call.db.selectFrom('user').select('id').$if(self !== null, (query) => query.where('id', '!=', self?.id ?? 0));
  if (!self || draft.login !== self.login) {
    if (!LOGIN_PATTERN.test(draft.login)) throw badRequest('invalidValue', `The userName "${draft.login}" is invalid: use 2 to 100 letters, digits or the characters _ . @ + -.`);
    if (draft.login.toLowerCase() === ANONYMOUS_LOGIN) throw badRequest('invalidValue', 'The userName "anonymous" is reserved.');
    const taken = await others.where(sql<SqlBool>`lower(${sql.ref('login')}) = lower(${draft.login})`).executeTakeFirst();
    if (taken) throw new ScimError(409, 'uniqueness', `The userName "${draft.login}" is already taken.`);
  }
  if (!self || draft.email !== self.email) {
    if (!EMAIL_PATTERN.test(draft.email) || draft.email.length > 100) throw badRequest('invalidValue', `The email "${draft.email}" is not a valid email address.`);
  }
  if (!self || draft.email.toLowerCase() !== self.email.toLowerCase()) {
    const taken = await others.where(sql<SqlBool>`lower(${sql.ref('email')}) = lower(${draft.email})`).executeTakeFirst();
    if (taken) throw new ScimError(409, 'uniqueness', `Another user already has the email address "${draft.email}".`);
  }
}

function auditedFields(draft: UserDraft): Record<string, unknown> {
  return { userName: draft.login, email: draft.email, givenName: draft.givenName, familyName: draft.familyName, displayName: draft.displayName, externalId: draft.externalId, active: draft.active };
}

export async function createScimUser(call: ScimCall, body: unknown, projection: Projection): Promise<{ id: number; resource: JsonObject }> {
  const draft = readUserBody(body, null);
  await assertUnique(call, draft, null);
  // createUser applies the tenant's user limit, the login rules and the password policy, and audits.
  await createUser(call.ctx, { login: draft.login, email: draft.email, password: draft.password, alias: draft.displayName });
  const created = await identityStore.findUserByLogin(call.db, draft.login);
  if (!created) throw new ScimError(500, null, 'The new user could not be read back.');
  await call.db.transaction().execute(async (trx) => {
    await trx.updateTable('user').set({ first_name: draft.givenName, last_name: draft.familyName, external_id: draft.externalId }).where('id', '=', created.id).execute();
    await recordAudit(call.ctx, 'scim.user_created', { after: { id: created.id, ...auditedFields(draft) } }, trx);
  });
  if (!draft.active) {
    await setUserActive(call.ctx, draft.login, false);
    await recordAudit(call.ctx, 'scim.user_deactivated', { after: { id: created.id, userName: draft.login } });
  }
  return { id: created.id, resource: await getScimUser(call, String(created.id), projection) };
}

/**
 * Writes a user's new state: email, display name and password through updateUser
 * (validation, password policy, audit), the attributes only SCIM knows directly,
 * then `active` through setUserActive (sessions end at once on deactivation).
 * Everything that can be refused is checked before the first write.
 */
async function writeUser(call: ScimCall, user: UserRow, next: UserDraft): Promise<void> {
  const before = draftOf(user);
  const changed = (Object.keys(before) as (keyof UserDraft)[]).filter((key) => key !== 'password' && before[key] !== next[key]);
  if (changed.length === 0 && next.password === null) return;
  await assertUnique(call, next, user);
  if (!next.active && before.active && user.superuser === 1) {
    if ((await identityStore.countOtherActiveSuperusers(call.db, user.id)) === 0) throw new ScimError(403, 'mutability', `The user "${user.login}" is the last active super user; it cannot be deactivated.`);
  }
  const serviceChange = {
    ...(next.email !== before.email ? { email: next.email } : {}),
    ...(next.displayName !== before.displayName ? { alias: next.displayName } : {}),
    ...(next.password !== null ? { password: next.password } : {}),
  };
  if (Object.keys(serviceChange).length > 0) await updateUser(call.ctx, user.login, serviceChange);
  const profileChanged = changed.some((key) => key !== 'active') || next.password !== null;
  if (profileChanged) {
    await call.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('user')
        .set({ login: next.login, first_name: next.givenName, last_name: next.familyName, external_id: next.externalId, updated_at: new Date().toISOString() })
        .where('id', '=', user.id)
        .execute();
      const was = auditedFields(before);
      const now = auditedFields(next);
      const keys = Object.keys(now).filter((key) => key !== 'active' && was[key] !== now[key]);
      const pick = (fields: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(keys.map((key) => [key, fields[key]]));
      await recordAudit(call.ctx, 'scim.user_updated', { before: { id: user.id, ...pick(was) }, after: { id: user.id, ...pick(now), ...(next.password !== null ? { password: '(changed)' } : {}) } }, trx);
    });
  }
  if (next.active !== before.active) {
    await setUserActive(call.ctx, next.login, next.active);
    await recordAudit(call.ctx, next.active ? 'scim.user_reactivated' : 'scim.user_deactivated', { after: { id: user.id, userName: next.login } });
  }
}

export async function replaceScimUser(call: ScimCall, id: string, body: unknown, projection: Projection): Promise<JsonObject> {
  const user = await requireScimUser(call, id);
  await writeUser(call, user, readUserBody(body, draftOf(user)));
  return getScimUser(call, String(user.id), projection);
}

export async function patchScimUser(call: ScimCall, id: string, body: unknown, projection: Projection): Promise<JsonObject> {
  const user = await requireScimUser(call, id);
  const operations = readPatchBody(body);
  await writeUser(call, user, patchUserDraft(draftOf(user), operations));
  return getScimUser(call, String(user.id), projection);
}

/** Deletes the user: its sessions, tokens, rights and group memberships go with it. */
export async function deleteScimUser(call: ScimCall, id: string): Promise<void> {
  const user = await requireScimUser(call, id);
  await deleteUser(call.ctx, user.login);
  await recordAudit(call.ctx, 'scim.user_deleted', { before: { id: user.id, userName: user.login, email: user.email, externalId: user.external_id } });
}

// ---------------------------------------------------------------------------
// Groups

type GroupRow = Selectable<ScimGroupTable>;

interface GroupDraft {
  displayName: string;
  externalId: string | null;
  members: Set<number>;
}

const GROUP_ATTRIBUTES = new Set(['schemas', 'id', 'externalid', 'displayname', 'members', 'meta']);
const MEMBER_ATTRIBUTES = new Set(['value', 'display', 'type', '$ref']);
const MAX_GROUP_NAME = 256;
const MAX_MEMBERS_PER_REQUEST = 10_000;

/** User ids of a `members` value (`[{"value": "12"}]`); only users can be members. */
function memberIds(value: unknown): number[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : [value];
  if (items.length > MAX_MEMBERS_PER_REQUEST) throw new ScimError(413, 'tooMany', `At most ${MAX_MEMBERS_PER_REQUEST} members per request.`);
  return items.map((item) => {
    if (!isObject(item)) throw badRequest('invalidValue', 'members must be a list of objects with a value (the user id).');
    const fields = fieldsOf(item);
    for (const [key, field] of fields) {
      if (!MEMBER_ATTRIBUTES.has(key)) throw badRequest('invalidSyntax', `Unknown attribute "members.${field.name.slice(0, 100)}".`);
    }
    const type = fields.get('type')?.value;
    if (type !== undefined && type !== null && (typeof type !== 'string' || type.toLowerCase() !== 'user')) {
      throw badRequest('invalidValue', 'Only users can be group members here (nested groups are not supported).');
    }
    const raw = fields.get('value')?.value;
    const id = typeof raw === 'number' || typeof raw === 'string' ? String(raw).trim() : '';
    if (!/^\d{1,15}$/.test(id)) throw badRequest('invalidValue', `The member ${JSON.stringify(String(raw).slice(0, 100))} is not a user id of this tenant.`);
    return Number(id);
  });
}

function readGroupBody(body: unknown): GroupDraft {
  if (!isObject(body)) throw badRequest('invalidSyntax', 'The request body must be a SCIM Group resource.');
  const fields = fieldsOf(body);
  checkSchemas(fields.get('schemas')?.value, [SCHEMAS.group], 'Groups');
  for (const [key, field] of fields) {
    if (!GROUP_ATTRIBUTES.has(key)) throw badRequest('invalidSyntax', `Unknown attribute "${field.name.slice(0, 100)}" for a Group; see /scim/v2/Schemas.`);
  }
  return {
    displayName: requiredText(fields.get('displayname')?.value, 'displayName', MAX_GROUP_NAME),
    externalId: optionalText(fields.get('externalid')?.value, 'externalId', MAX_EXTERNAL_ID),
    members: new Set(memberIds(fields.get('members')?.value)),
  };
}

function applyGroupOperation(draft: GroupDraft, op: PatchOp, path: string, value: unknown): void {
  const target = parsePatchPath(path, SCHEMAS.group, []);
  const remove = op === 'remove';
  const simple = (what: string): void => {
    if (target.filter !== null || target.sub !== null) throw badRequest('invalidPath', `${what} has no sub-attributes.`);
  };
  switch (target.attribute) {
    case 'displayname':
      simple('displayName');
      if (remove) throw badRequest('invalidValue', 'displayName is required and cannot be removed.');
      draft.displayName = requiredText(value, 'displayName', MAX_GROUP_NAME);
      return;
    case 'externalid':
      simple('externalId');
      draft.externalId = remove ? null : optionalText(value, 'externalId', MAX_EXTERNAL_ID);
      return;
    case 'members': {
      if (target.sub !== null) throw badRequest('invalidPath', 'Address members as a whole or with a filter: members[value eq "<id>"].');
      if (target.filter !== null) {
        if (!remove) throw badRequest('invalidPath', 'A members filter is supported in remove operations only.');
        const matches = filterTester(target.filter);
        for (const id of [...draft.members]) if (matches({ value: String(id), type: 'User' })) draft.members.delete(id);
        return;
      }
      if (op === 'add') for (const id of memberIds(value)) draft.members.add(id);
      else if (op === 'replace') draft.members = new Set(memberIds(value));
      // Azure AD removes with a value list; without a value every member goes.
      else if (value === undefined || value === null) draft.members.clear();
      else for (const id of memberIds(value)) draft.members.delete(id);
      return;
    }
    case 'id':
    case 'meta':
      throw new ScimError(400, 'mutability', `${target.attribute} is read-only.`);
    default:
      throw badRequest('invalidPath', `No attribute "${path.slice(0, 100)}" in a Group; see /scim/v2/Schemas.`);
  }
}

async function membersOf(db: IdentityDb, groupIds: readonly string[]): Promise<Map<string, { id: number; login: string }[]>> {
  const result = new Map<string, { id: number; login: string }[]>();
  if (groupIds.length === 0) return result;
  const rows = await db
    .selectFrom('scim_group_member')
    .innerJoin('user', 'user.id', 'scim_group_member.user_id')
    .select(['scim_group_member.group_id', 'user.id', 'user.login'])
    .where('scim_group_member.group_id', 'in', [...groupIds])
    .orderBy('user.id')
    .execute();
  for (const row of rows) {
    const list = result.get(row.group_id) ?? [];
    list.push({ id: row.id, login: row.login });
    result.set(row.group_id, list);
  }
  return result;
}

function groupResource(call: ScimCall, group: GroupRow, members: readonly { id: number; login: string }[]): JsonObject {
  return {
    schemas: [SCHEMAS.group],
    id: group.id,
    ...(group.external_id !== null ? { externalId: group.external_id } : {}),
    displayName: group.display_name,
    members: members.map((member) => ({ value: String(member.id), display: member.login, type: 'User', $ref: `${call.baseUrl}/Users/${member.id}` })),
    meta: { resourceType: 'Group', created: group.created_at, lastModified: group.updated_at, location: `${call.baseUrl}/Groups/${group.id}` },
  };
}

async function requireScimGroup(call: ScimCall, id: string): Promise<GroupRow> {
  const group = id.length <= 100 ? await call.db.selectFrom('scim_group').selectAll().where('id', '=', id).executeTakeFirst() : undefined;
  if (!group) throw notFound('Group', id);
  return group;
}

async function presentGroup(call: ScimCall, id: string, projection: Projection): Promise<JsonObject> {
  const group = await requireScimGroup(call, id);
  const members = wantsAttribute(projection, 'members') ? ((await membersOf(call.db, [group.id])).get(group.id) ?? []) : [];
  return project(groupResource(call, group, members), projection, SCHEMAS.group);
}

export async function listScimGroups(call: ScimCall, query: ListQuery): Promise<JsonObject> {
  let base = call.db.selectFrom('scim_group');
  if (query.filter !== null) base = base.where(translateFilter(query.filter, GROUP_FILTERS, SCHEMAS.group));
  const total = Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const rows = query.count === 0 ? [] : await base.selectAll('scim_group').orderBy('scim_group.created_at').orderBy('scim_group.id').limit(query.count).offset(query.startIndex - 1).execute();
  // Azure AD lists groups with excludedAttributes=members: large groups are then not read at all.
  const members = wantsAttribute(query.projection, 'members') ? await membersOf(call.db, rows.map((row) => row.id)) : new Map<string, { id: number; login: string }[]>();
  return listResponse(
    rows.map((row) => project(groupResource(call, row, members.get(row.id) ?? []), query.projection, SCHEMAS.group)),
    total,
    query.startIndex,
  );
}

export function getScimGroup(call: ScimCall, id: string, projection: Projection): Promise<JsonObject> {
  return presentGroup(call, id, projection);
}

const INSERT_CHUNK = 500;

/**
 * Stores a group's new state and re-applies the role mapping to every user whose
 * groups changed (all members when the name changed: the mapping keys on names).
 */
async function writeGroup(call: ScimCall, existing: GroupRow | null, draft: GroupDraft, action: 'scim.group_created' | 'scim.group_updated'): Promise<string> {
  const clash = await call.db
    .selectFrom('scim_group')
    .select('id')
    .where(sql<SqlBool>`lower(${sql.ref('display_name')}) = lower(${draft.displayName})`)
    .$if(existing !== null, (query) => query.where('id', '!=', existing?.id ?? ''))
    .executeTakeFirst();
  if (clash) throw new ScimError(409, 'uniqueness', `A group named "${draft.displayName}" already exists.`);
  const wanted = [...draft.members];
  if (wanted.length > 0) {
    const found = new Set<number>();
    for (let i = 0; i < wanted.length; i += INSERT_CHUNK) {
      const rows = await call.db.selectFrom('user').select('id').where('id', 'in', wanted.slice(i, i + INSERT_CHUNK)).where('login', '!=', ANONYMOUS_LOGIN).execute();
      for (const row of rows) found.add(row.id);
    }
    const missing = wanted.find((id) => !found.has(id));
    if (missing !== undefined) throw badRequest('invalidValue', `There is no user with id "${missing}" in this tenant.`);
  }
  const now = new Date().toISOString();
  const id = existing?.id ?? randomUUID();
  const previous = existing ? new Set(((await membersOf(call.db, [id])).get(id) ?? []).map((member) => member.id)) : new Set<number>();
  const added = wanted.filter((userId) => !previous.has(userId));
  const removed = [...previous].filter((userId) => !draft.members.has(userId));
  const renamed = existing !== null && existing.display_name !== draft.displayName;
  const changed = existing === null || renamed || existing.external_id !== draft.externalId || added.length > 0 || removed.length > 0;
  if (!changed) return id;
  await call.db.transaction().execute(async (trx) => {
    if (existing) {
      await trx.updateTable('scim_group').set({ display_name: draft.displayName, external_id: draft.externalId, updated_at: now }).where('id', '=', id).execute();
    } else {
      await trx.insertInto('scim_group').values({ id, display_name: draft.displayName, external_id: draft.externalId, created_at: now, updated_at: now }).execute();
    }
    for (let i = 0; i < removed.length; i += INSERT_CHUNK) {
      await trx.deleteFrom('scim_group_member').where('group_id', '=', id).where('user_id', 'in', removed.slice(i, i + INSERT_CHUNK)).execute();
    }
    for (let i = 0; i < added.length; i += INSERT_CHUNK) {
      await trx.insertInto('scim_group_member').values(added.slice(i, i + INSERT_CHUNK).map((userId) => ({ group_id: id, user_id: userId }))).execute();
    }
    await recordAudit(
      call.ctx,
      action,
      {
        ...(existing ? { before: { id, displayName: existing.display_name, externalId: existing.external_id } } : {}),
        after: { id, displayName: draft.displayName, externalId: draft.externalId, added, removed },
      },
      trx,
    );
    await refreshRights(call, trx, renamed ? [...new Set([...wanted, ...removed])] : [...added, ...removed]);
  });
  return id;
}

/** Re-applies the role mapping to users whose SCIM groups changed, in the membership's transaction. */
async function refreshRights(call: ScimCall, trx: IdentityDb, userIds: readonly number[]): Promise<void> {
  for (const userId of userIds) {
    const user = await identityStore.findUserById(trx, userId);
    if (user) await refreshMappedRights(call.ctx, trx, user);
  }
}

export async function createScimGroup(call: ScimCall, body: unknown, projection: Projection): Promise<{ id: string; resource: JsonObject }> {
  const id = await writeGroup(call, null, readGroupBody(body), 'scim.group_created');
  return { id, resource: await presentGroup(call, id, projection) };
}

export async function replaceScimGroup(call: ScimCall, id: string, body: unknown, projection: Projection): Promise<JsonObject> {
  const group = await requireScimGroup(call, id);
  await writeGroup(call, group, readGroupBody(body), 'scim.group_updated');
  return presentGroup(call, id, projection);
}

export async function patchScimGroup(call: ScimCall, id: string, body: unknown, projection: Projection): Promise<JsonObject> {
  const group = await requireScimGroup(call, id);
  const operations = readPatchBody(body);
  const current = (await membersOf(call.db, [id])).get(id) ?? [];
  const draft: GroupDraft = { displayName: group.display_name, externalId: group.external_id, members: new Set(current.map((member) => member.id)) };
  for (const operation of operations) {
    if (operation.path !== null) applyGroupOperation(draft, operation.op, operation.path, operation.value);
    else for (const [key, value] of pathlessEntries(operation)) applyGroupOperation(draft, operation.op, key, value);
  }
  await writeGroup(call, group, draft, 'scim.group_updated');
  return presentGroup(call, id, projection);
}

export async function deleteScimGroup(call: ScimCall, id: string): Promise<void> {
  const group = await requireScimGroup(call, id);
  const members = ((await membersOf(call.db, [id])).get(id) ?? []).map((member) => member.id);
  await call.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('scim_group').where('id', '=', id).execute();
    await recordAudit(call.ctx, 'scim.group_deleted', { before: { id, displayName: group.display_name, externalId: group.external_id, members } }, trx);
    await refreshRights(call, trx, members);
  });
}

// ---------------------------------------------------------------------------
// Discovery (RFC 7644 §4, RFC 7643 §5-7)

export function serviceProviderConfig(baseUrl: string): JsonObject {
  return {
    schemas: [SCHEMAS.serviceProviderConfig],
    documentationUri: 'https://datatracker.ietf.org/doc/html/rfc7644',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: true },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'A SCIM token of this tenant (POST /api/v1/scim/tokens or `plura scim:token:create`), sent as Authorization: Bearer <token>.',
        specUri: 'https://datatracker.ietf.org/doc/html/rfc6750',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

export function resourceTypes(baseUrl: string): JsonObject[] {
  const type = (id: 'User' | 'Group', endpoint: string, description: string, schema: string): JsonObject => ({
    schemas: [SCHEMAS.resourceType],
    id,
    name: id,
    endpoint,
    description,
    schema,
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${id}` },
  });
  return [type('User', '/Users', 'A user of this tenant', SCHEMAS.user), type('Group', '/Groups', 'A group of users; role mapping grants rights by group name', SCHEMAS.group)];
}

interface AttributeOptions {
  readonly type?: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
  readonly multiValued?: boolean;
  readonly required?: boolean;
  readonly caseExact?: boolean;
  readonly mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  readonly returned?: 'always' | 'never' | 'default' | 'request';
  readonly uniqueness?: 'none' | 'server' | 'global';
  readonly subAttributes?: readonly JsonObject[];
  readonly referenceTypes?: readonly string[];
  readonly canonicalValues?: readonly string[];
}

function attribute(name: string, description: string, options: AttributeOptions = {}): JsonObject {
  const type = options.type ?? 'string';
  return {
    name,
    type,
    multiValued: options.multiValued ?? false,
    description,
    required: options.required ?? false,
    ...(type === 'string' || type === 'reference' ? { caseExact: options.caseExact ?? false } : {}),
    ...(options.canonicalValues ? { canonicalValues: options.canonicalValues } : {}),
    ...(options.referenceTypes ? { referenceTypes: options.referenceTypes } : {}),
    ...(options.subAttributes ? { subAttributes: options.subAttributes } : {}),
    mutability: options.mutability ?? 'readWrite',
    returned: options.returned ?? 'default',
    uniqueness: options.uniqueness ?? 'none',
  };
}

/** The attributes this service keeps (others of the core User schema are accepted and not kept). */
export function schemaDocuments(baseUrl: string): JsonObject[] {
  const user: JsonObject = {
    schemas: [SCHEMAS.schema],
    id: SCHEMAS.user,
    name: 'User',
    description: 'User Account',
    attributes: [
      attribute('userName', 'The login of the user, unique in the tenant (2-100 letters, digits or _ . @ + -).', { required: true, uniqueness: 'server' }),
      attribute('name', "The user's name.", {
        type: 'complex',
        subAttributes: [
          attribute('formatted', 'Given and family name, for display.', { mutability: 'readOnly' }),
          attribute('givenName', 'Given name.'),
          attribute('familyName', 'Family name.'),
        ],
      }),
      attribute('displayName', 'The name shown for the user (its alias).'),
      attribute('emails', 'The address of the user; one is kept (the primary one, else the first).', {
        multiValued: true,
        type: 'complex',
        required: true,
        subAttributes: [
          attribute('value', 'Email address.'),
          attribute('type', 'Always "work".', { canonicalValues: ['work'] }),
          attribute('primary', 'Always true.', { type: 'boolean' }),
        ],
      }),
      attribute('active', 'false deactivates the user: no sign-in, sessions end, tokens are refused until reactivated.', { type: 'boolean' }),
      attribute('password', 'A password for password sign-in (the tenant password policy applies).', { mutability: 'writeOnly', returned: 'never', caseExact: true }),
      attribute('groups', 'SCIM groups of the user.', {
        multiValued: true,
        type: 'complex',
        mutability: 'readOnly',
        subAttributes: [
          attribute('value', 'Group id.', { mutability: 'readOnly' }),
          attribute('$ref', 'Group URI.', { type: 'reference', referenceTypes: ['Group'], mutability: 'readOnly' }),
          attribute('display', 'Group name.', { mutability: 'readOnly' }),
          attribute('type', 'Always "direct".', { mutability: 'readOnly', canonicalValues: ['direct'] }),
        ],
      }),
      attribute('externalId', "The identity provider's id of the user.", { caseExact: true }),
    ],
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${SCHEMAS.user}` },
  };
  const group: JsonObject = {
    schemas: [SCHEMAS.schema],
    id: SCHEMAS.group,
    name: 'Group',
    description: 'Group',
    attributes: [
      attribute('displayName', 'The group name, unique in the tenant; [SSO] role_mapping keys on it.', { required: true, uniqueness: 'server' }),
      attribute('members', 'Users in the group.', {
        multiValued: true,
        type: 'complex',
        subAttributes: [
          attribute('value', 'User id.', { mutability: 'immutable' }),
          attribute('$ref', 'User URI.', { type: 'reference', referenceTypes: ['User'], mutability: 'immutable' }),
          attribute('display', 'User login.', { mutability: 'readOnly' }),
          attribute('type', 'Always "User".', { mutability: 'immutable', canonicalValues: ['User'] }),
        ],
      }),
      attribute('externalId', "The identity provider's id of the group.", { caseExact: true }),
    ],
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${SCHEMAS.group}` },
  };
  return [user, group];
}

/** How a PluraError from the user services reads in SCIM. */
export function scimTypeOf(error: unknown): ScimType | null {
  if (!isPluraError(error)) return null;
  if (error.code === 'duplicate_user') return 'uniqueness';
  if (error.code === 'invalid_input' || error.code === 'weak_password') return 'invalidValue';
  return null;
}
