import { PluraError } from '../core/errors.js';

/**
 * One flat view of a Matomo API call's parameters. Matomo merges $_GET and $_POST
 * with POST winning; token_auth is "secure" only when it came in the body and not
 * in the query string.
 */
export interface MatomoParams {
  /** The value PHP would see: POST over GET; a repeated plain name gives its last value; a list its first item. */
  get(name: string): string | undefined;
  /** Missing or empty: Matomo's "Please specify a value for '<name>'." */
  require(name: string): string;
  /** `name[]=a&name[]=b`, `name[0]=a`, a repeated name, or a comma list "a,b"; trimmed, empties dropped. */
  getList(name: string): string[];
  /** Every raw value given for `name` (or `name[...]`), without comma splitting or trimming. */
  getAll(name: string): string[];
  /** '1'/'true' ⇒ true, '0'/'false'/'' ⇒ false, missing or anything else ⇒ fallback. */
  getBool(name: string, fallback: boolean): boolean;
  /** Missing or empty ⇒ undefined; not a whole number ⇒ MatomoParamError naming the parameter. */
  getInt(name: string): number | undefined;
  has(name: string): boolean;
  /** Where token_auth came from, for Matomo's "secure token" rule: secure iff in POST and not in GET. */
  readonly tokenAuth: { readonly value: string; readonly secure: boolean } | undefined;
  /** Every name → value (first value for lists), for logging and bulk requests. */
  entries(): [string, string][];
}

/**
 * A parameter is missing or malformed. A PluraError (`invalid_input`) so every surface
 * renders it like other bad input: Matomo answers such errors with status 200.
 */
export class MatomoParamError extends PluraError {
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'MatomoParamError';
  }
}

/** The values of one name: `list` when it came as `name[]`/`name[i]`, so `get` reads the first item. */
interface Entry {
  readonly values: readonly string[];
  readonly list: boolean;
}

type Source = Map<string, Entry>;

function stringsOf(raw: unknown): string[] {
  if (typeof raw === 'string') return [raw];
  // Anything else (numbers from a JSON body, nested objects) is not an HTTP parameter value.
  if (Array.isArray(raw)) return raw.filter((item): item is string => typeof item === 'string');
  return [];
}

/** Reads one source (query or body) the way PHP fills $_GET/$_POST from a query string. */
function collect(source: unknown): Source {
  const out: Source = new Map();
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return out;
  // Matomo (PHP): `a[]` appends, `a[3]` sets index 3 (a repeat overwrites in place), order is first insertion.
  const lists = new Map<string, { items: Map<number, string>; next: number }>();
  for (const [rawKey, raw] of Object.entries(source)) {
    const values = stringsOf(raw);
    if (values.length === 0) continue;
    const match = /^(.+?)\[(\d*)\]$/.exec(rawKey);
    if (!match) {
      // A plain name replaces any earlier list of that name, as a later PHP assignment would.
      lists.delete(rawKey);
      out.set(rawKey, { values, list: false });
      continue;
    }
    const name = match[1] ?? rawKey;
    const index = match[2] ?? '';
    const list = (out.get(name)?.list === true ? lists.get(name) : undefined) ?? { items: new Map<number, string>(), next: 0 };
    for (const value of values) {
      const at = index === '' ? list.next : Number(index);
      list.items.set(at, value);
      list.next = Math.max(list.next, at + 1);
    }
    lists.set(name, list);
    out.set(name, { values: [...list.items.values()], list: true });
  }
  return out;
}

function scalar(entry: Entry | undefined): string | undefined {
  if (!entry) return undefined;
  // Matomo (PHP): `a=1&a=2` leaves a=2; for a list we take its first item.
  return entry.list ? entry.values[0] : entry.values[entry.values.length - 1];
}

function build(get: Source, post: Source): MatomoParams {
  // Matomo: $_GET + $_POST, POST winning per name.
  const merged: Source = new Map([...get, ...post]);
  const first = (name: string): string | undefined => scalar(merged.get(name));
  const postToken = scalar(post.get('token_auth'));
  const getToken = scalar(get.get('token_auth'));
  const token = postToken ?? getToken;
  return {
    get: first,
    require(name) {
      const value = first(name);
      if (value === undefined || value === '') throw new MatomoParamError(`Please specify a value for '${name}'.`);
      return value;
    },
    getList(name) {
      const entry = merged.get(name);
      if (!entry) return [];
      const only = entry.values[0];
      const items = !entry.list && entry.values.length === 1 && only !== undefined ? only.split(',') : entry.values;
      return items.map((item) => item.trim()).filter((item) => item !== '');
    },
    getAll: (name) => [...(merged.get(name)?.values ?? [])],
    getBool(name, fallback) {
      const value = first(name)?.trim().toLowerCase();
      if (value === '1' || value === 'true') return true;
      if (value === '0' || value === 'false' || value === '') return false;
      return fallback;
    },
    getInt(name) {
      const value = first(name);
      if (value === undefined || value.trim() === '') return undefined;
      const number = Number(value.trim());
      if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(number)) {
        throw new MatomoParamError(`The parameter '${name}' must be a whole number, not "${value}".`);
      }
      return number;
    },
    has: (name) => merged.has(name),
    // Matomo: only a token sent in the body and absent from the URL counts as secure (URLs end up in logs).
    tokenAuth: token === undefined || token === '' ? undefined : { value: token, secure: postToken !== undefined && getToken === undefined },
    entries: () => [...merged.keys()].map((name): [string, string] => [name, first(name) ?? '']),
  };
}

/** Merges Fastify's `request.query` and `request.body` (either may be anything) into one view. */
export function parseMatomoParams(query: unknown, body: unknown): MatomoParams {
  return build(collect(query), collect(body));
}

/** Parses "?a=1&b=2" or "a=1&b=2" (a bulk request's urls[i]) into MatomoParams (as GET params). */
export function parseMatomoQueryString(qs: string): MatomoParams {
  const search = new URLSearchParams(qs.startsWith('?') ? qs.slice(1) : qs);
  const raw: Record<string, string[]> = {};
  for (const [key, value] of search) {
    // Own-property check: a key such as "constructor" must not pick up Object.prototype members.
    const existing = Object.prototype.hasOwnProperty.call(raw, key) ? raw[key] : undefined;
    if (existing) existing.push(value);
    else Object.defineProperty(raw, key, { value: [value], enumerable: true, writable: true, configurable: true });
  }
  return build(collect(raw), new Map());
}
