import { PluraError } from '../core/errors.js';

/**
 * One flat view of a Matomo API call's parameters. Matomo merges $_GET and $_POST
 * with POST winning; token_auth is "secure" only when it came in the body and not
 * in the query string.
 */
export interface MatomoParams {
  get(name: string): string | undefined;
  /** Missing or empty: Matomo's "Please specify a value for '<name>'." */
  require(name: string): string;
  /** `name[]=a&name[]=b`, `name[0]=a`, or a comma list. */
  getList(name: string): string[];
  /** Every value given for `name` (or `name[...]`), without comma splitting. */
  getAll(name: string): string[];
  getBool(name: string, fallback: boolean): boolean;
  getInt(name: string): number | undefined;
  has(name: string): boolean;
  readonly tokenAuth: { readonly value: string; readonly secure: boolean } | undefined;
  entries(): [string, string][];
}

type Values = Map<string, string[]>;

function collect(source: unknown, into: Values): void {
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return;
  for (const [rawKey, raw] of Object.entries(source as Record<string, unknown>)) {
    const values = typeof raw === 'string' ? [raw] : typeof raw === 'number' ? [String(raw)] : Array.isArray(raw) ? raw.filter((item): item is string => typeof item === 'string') : [];
    if (values.length === 0) continue;
    // name[] and name[3] both collect into name.
    const match = /^(.+?)\[(\d*)\]$/.exec(rawKey);
    const key = match?.[1] ?? rawKey;
    if (match) into.set(key, [...(into.get(key) ?? []), ...values]);
    else into.set(key, values);
  }
}

function build(get: Values, post: Values): MatomoParams {
  const merged: Values = new Map([...get, ...post]);
  const first = (name: string): string | undefined => merged.get(name)?.[0];
  const fromPost = post.get('token_auth')?.[0];
  const fromGet = get.get('token_auth')?.[0];
  const tokenValue = fromPost ?? fromGet;
  return {
    get: first,
    require(name) {
      const value = first(name);
      if (value === undefined || value === '') throw new PluraError('invalid_input', `Please specify a value for '${name}'.`);
      return value;
    },
    getList(name) {
      const values = merged.get(name) ?? [];
      const flat = values.length === 1 ? (values[0] ?? '').split(',') : values;
      return flat.map((value) => value.trim()).filter((value) => value !== '');
    },
    getAll: (name) => [...(merged.get(name) ?? [])],
    getBool(name, fallback) {
      const value = first(name);
      if (value === undefined) return fallback;
      return value === '1' || value.toLowerCase() === 'true';
    },
    getInt(name) {
      const value = first(name);
      if (value === undefined || value === '') return undefined;
      if (!/^-?\d+$/.test(value.trim())) throw new PluraError('invalid_input', `The parameter '${name}' must be a whole number, not "${value}".`);
      return Number(value);
    },
    has: (name) => merged.has(name),
    tokenAuth: tokenValue === undefined || tokenValue === '' ? undefined : { value: tokenValue, secure: fromPost !== undefined && fromGet === undefined },
    entries: () => [...merged.entries()].map(([key, values]) => [key, values[0] ?? '']),
  };
}

export function parseMatomoParams(query: unknown, body: unknown): MatomoParams {
  const get: Values = new Map();
  const post: Values = new Map();
  collect(query, get);
  collect(body, post);
  return build(get, post);
}

/** A bulk request's `urls[i]` ("?a=1&b=2"), read as GET parameters. */
export function parseMatomoQueryString(qs: string): MatomoParams {
  const search = new URLSearchParams(qs.startsWith('?') ? qs.slice(1) : qs);
  const get: Values = new Map();
  const raw: Record<string, string[]> = {};
  for (const [key, value] of search) raw[key] = [...(raw[key] ?? []), value];
  collect(raw, get);
  return build(get, new Map());
}
