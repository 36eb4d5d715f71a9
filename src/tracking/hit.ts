import { createHash } from 'node:crypto';
import { TextDecoder } from 'node:util';

/** What the HTTP edge knows of one tracking request besides its parameters. */
export interface HitMeta {
  readonly ip: string;
  readonly userAgent: string;
  readonly acceptLanguage: string;
  readonly refererHeader: string;
  readonly doNotTrack: boolean;
  readonly receivedAt: number;
}

/**
 * A hit as it arrived: the query string and form body of a single request, or one
 * entry of a bulk request (a "?a=b&..." string or an object of parameters).
 */
export type HitSource = { readonly q: string; readonly f?: string } | { readonly b: unknown };

/** Long escaped values repeat from hit to hit (user agents, page URLs): their decoded form is remembered (bounded). */
const decodedLong = new Map<string, string>();

function decodePart(part: string): string {
  if (part.length > 48) {
    const known = decodedLong.get(part);
    if (known !== undefined) return known;
  }
  const spaced = part.includes('+') ? part.replaceAll('+', ' ') : part;
  const decoded = spaced.includes('%') ? decodeURIComponent(spaced) : spaced;
  if (part.length > 48) {
    if (decodedLong.size >= 2000) decodedLong.clear();
    decodedLong.set(part, decoded);
  }
  return decoded;
}

/**
 * Adds the pairs of a query string to `into`, keeping values already there (Matomo:
 * GET wins over POST). Decodes as URLSearchParams does; the fast path splits and
 * decodes directly (hits are parsed twice, on receipt and when applied), and only a
 * string with a malformed escape goes through URLSearchParams, which keeps it as text.
 */
function addQuery(into: Map<string, string>, query: string): void {
  if (query === '') return;
  const pairs: [string, string][] = [];
  try {
    for (const part of query.split('&')) {
      if (part === '') continue;
      const equals = part.indexOf('=');
      pairs.push(equals < 0 ? [decodePart(part), ''] : [decodePart(part.slice(0, equals)), decodePart(part.slice(equals + 1))]);
    }
  } catch {
    pairs.length = 0;
    for (const pair of new URLSearchParams(query)) pairs.push(pair);
  }
  for (const [key, value] of pairs) if (!into.has(key)) into.set(key, value);
}

/** Percent-decodes to bytes ("+" is a space), for text in another charset than UTF-8. */
function percentBytes(text: string): Buffer {
  const raw = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(raw.length);
  let length = 0;
  const hex = (byte: number | undefined): number => {
    if (byte === undefined) return -1;
    if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
    const lower = byte | 0x20;
    return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
  };
  for (let i = 0; i < raw.length; i += 1) {
    const byte = raw[i] ?? 0;
    const high = hex(raw[i + 1]);
    const low = hex(raw[i + 2]);
    if (byte === 0x25 && high >= 0 && low >= 0) {
      out[length] = high * 16 + low;
      i += 2;
    } else out[length] = byte === 0x2b ? 0x20 : byte;
    length += 1;
  }
  return out.subarray(0, length);
}

/**
 * Matomo's `cs`: the page's charset when it is not UTF-8. The escaped bytes of the
 * request are then read in that charset (an unknown charset leaves the UTF-8 reading).
 */
function withCharset(params: Map<string, string>, queries: readonly string[]): Map<string, string> {
  const charset = params.get('cs')?.trim() ?? '';
  if (charset === '' || /^utf-?8$/i.test(charset)) return params;
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset);
  } catch {
    return params;
  }
  const decoded = new Map<string, string>();
  for (const query of queries) {
    for (const part of query.split('&')) {
      if (part === '') continue;
      const equals = part.indexOf('=');
      const key = decoder.decode(percentBytes(equals < 0 ? part : part.slice(0, equals)));
      if (!decoded.has(key)) decoded.set(key, equals < 0 ? '' : decoder.decode(percentBytes(part.slice(equals + 1))));
    }
  }
  return decoded;
}

/**
 * Parameters as the journal keeps them: decoded, flat (name, value, name, value,
 * ...), in order, and without `token_auth`: the token was checked on receipt, and
 * the journal on disk never holds a credential.
 */
export function flatParams(params: ReadonlyMap<string, string>): string[] {
  const flat: string[] = [];
  for (const [name, value] of params) if (name !== 'token_auth') flat.push(name, value);
  return flat;
}

export function paramsOfFlat(flat: readonly string[]): Map<string, string> {
  const params = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) params.set(flat[i]!, flat[i + 1]!);
  return params;
}

/** The parameters of a hit source; null for a bulk entry that is neither a query string nor an object. */
export function paramsOf(source: HitSource): Map<string, string> | null {
  if ('q' in source) {
    const params = new Map<string, string>();
    addQuery(params, source.q);
    addQuery(params, source.f ?? '');
    return params.has('cs') ? withCharset(params, [source.q, source.f ?? '']) : params;
  }
  const entry = source.b;
  if (typeof entry === 'string') {
    const index = entry.indexOf('?');
    // Matomo: a string without a query part is dropped.
    if (index < 0) return null;
    const params = new Map<string, string>();
    addQuery(params, entry.slice(index + 1));
    return params.has('cs') ? withCharset(params, [entry.slice(index + 1)]) : params;
  }
  if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
    const map = new Map<string, string>();
    for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
      if (typeof value === 'string') map.set(key, value);
      else if (typeof value === 'number' || typeof value === 'boolean') map.set(key, String(typeof value === 'boolean' ? Number(value) : value));
      else if (value !== null && value !== undefined) map.set(key, JSON.stringify(value));
    }
    return map;
  }
  return null;
}

/** A tracking request that passed validation: typed, trimmed and bounded. */
export interface Hit {
  readonly siteId: number;
  readonly record: boolean;
  readonly params: ReadonlyMap<string, string>;
  readonly meta: HitMeta;
  readonly url: string;
  readonly actionName: string;
  readonly urlRef: string;
  /** Forced (`cid`) or cookie (`_id`) visitor id, 16 lowercase hex. */
  readonly forcedVisitorId: string | null;
  readonly cookieVisitorId: string | null;
  readonly userId: string | null;
  readonly newVisit: boolean;
  readonly ping: boolean;
  /** Unix seconds: `cdt` when given (and allowed), else the time received. */
  readonly at: number;
  readonly usesCustomTime: boolean;
  /** Parameters that only a token with write or admin access may set. */
  readonly privileged: readonly string[];
}

export class HitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HitError';
  }
}

/** Matomo: values are cut at 1024 characters for URLs (page_maximum_length); other strings at 255–1024. */
const MAX_URL = 1024;
const MAX_TEXT = 500;
const MAX_PARAMS = 300;
const HEX16 = /^[0-9a-f]{16}$/i;

/** Matomo's parameters that need a token with write/admin access (country, region, ... and `cip`). */
const TOKEN_ONLY = ['cip', 'country', 'region', 'city', 'lat', 'long'] as const;

/** Refuses strings that are not well-formed text (lone surrogates from broken UTF-8 decoding, NUL). */
function checkText(name: string, value: string): void {
  if (value.includes('\u0000')) throw new HitError(`The parameter '${name}' contains a NUL character.`);
  // Node decodes invalid UTF-8 as U+FFFD; a value made mostly of it was not text.
  if (value.includes('\uFFFD')) throw new HitError(`The parameter '${name}' is not valid UTF-8.`);
  for (let i = 0; i < value.length; i += 1) {
    const code = value.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) throw new HitError(`The parameter '${name}' is not valid UTF-8.`);
      i += 1;
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      throw new HitError(`The parameter '${name}' is not valid UTF-8.`);
    }
  }
}

function parseCustomTime(raw: string, now: number): number {
  const trimmed = raw.trim();
  let seconds: number;
  if (/^\d{9,11}(\.\d+)?$/.test(trimmed)) seconds = Math.floor(Number(trimmed));
  else if (/^\d{12,13}$/.test(trimmed)) seconds = Math.floor(Number(trimmed) / 1000);
  else {
    const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(trimmed) ? trimmed : `${trimmed.replace(' ', 'T')}Z`);
    if (Number.isNaN(ms)) throw new HitError(`The parameter 'cdt' must be a UTC date-time (YYYY-MM-DD HH:MM:SS) or a unix timestamp, not "${raw}".`);
    seconds = Math.floor(ms / 1000);
  }
  // Matomo: a time in the future or more than 20 years back is ignored.
  if (seconds > now + 60 || seconds < now - 20 * 365 * 86400) return now;
  return seconds;
}

/**
 * Validates one tracking request (`idsite`, `rec`, identities, times, limits).
 * Matomo: GET wins over POST for the same name; the caller merges in that order.
 */
export function parseHit(
  params: ReadonlyMap<string, string>,
  meta: HitMeta,
  /** `checked`: the text was validated when the hit was accepted (the applier re-reading the journal). */
  options: { customTimeWithoutTokenSeconds: number; checked?: boolean },
): Hit {
  if (params.size > MAX_PARAMS) throw new HitError(`Too many parameters (${params.size}); at most ${MAX_PARAMS}.`);
  if (!options.checked) validateText(params);
  return buildHit(params, meta, options);
}

function validateText(params: ReadonlyMap<string, string>): void {
  for (const [name, value] of params) {
    checkText(name, name);
    checkText(name, value);
    if (value.length > 8192 && name !== 'ec_items' && name !== 'uadata' && name !== 'data') {
      throw new HitError(`The parameter '${name}' is longer than 8192 characters.`);
    }
  }
}

function buildHit(params: ReadonlyMap<string, string>, meta: HitMeta, options: { customTimeWithoutTokenSeconds: number }): Hit {
  const rawSite = params.get('idsite') ?? '';
  if (!/^\d+$/.test(rawSite.trim()) || Number(rawSite) < 1 || Number(rawSite) > 2 ** 31) {
    throw new HitError(`Invalid idSite: '${rawSite}'. It must be a positive site id of this tenant.`);
  }
  const cid = params.get('cid');
  if (cid !== undefined && cid !== '' && !HEX16.test(cid)) throw new HitError(`The parameter 'cid' must be exactly 16 hexadecimal characters, not "${cid}".`);
  const cookieId = params.get('_id');
  const cookieVisitorId = cookieId && /^[0-9a-f]{16,}$/i.test(cookieId) ? cookieId.slice(0, 16).toLowerCase() : null;
  const rawUserId = params.get('uid')?.trim();
  const userId = rawUserId ? rawUserId.slice(0, 200) : null;

  const privileged: string[] = TOKEN_ONLY.filter((name) => (params.get(name) ?? '') !== '');
  let at = meta.receivedAt;
  let usesCustomTime = false;
  const cdt = params.get('cdt');
  if (cdt) {
    at = parseCustomTime(cdt, meta.receivedAt);
    usesCustomTime = at !== meta.receivedAt;
    if (meta.receivedAt - at > options.customTimeWithoutTokenSeconds) privileged.push('cdt');
  }
  const cdo = params.get('cdo');
  if (cdo && /^\d+$/.test(cdo)) at -= Number(cdo);

  // Matomo: without url and urlref, the Referer header is the page ("image tracker" mode).
  let url = params.get('url') ?? '';
  const urlRef = params.get('urlref') ?? '';
  if (url === '' && urlRef === '' && meta.refererHeader) url = meta.refererHeader;

  return {
    siteId: Number(rawSite),
    record: params.get('rec') === '1',
    params,
    meta,
    url: url.slice(0, MAX_URL),
    actionName: (params.get('action_name') ?? '').trim().slice(0, MAX_TEXT),
    urlRef: urlRef.slice(0, MAX_URL),
    forcedVisitorId: cid ? cid.toLowerCase() : null,
    cookieVisitorId,
    userId,
    newVisit: params.get('new_visit') === '1',
    ping: params.get('ping') === '1',
    at,
    usesCustomTime,
    privileged,
  };
}

/** Matomo: the visitor id of a user id is the first 16 hex characters of sha1(uid). */
export function visitorIdFromUserId(userId: string): string {
  return createHash('sha1').update(userId).digest('hex').slice(0, 16);
}

/** A cookieless visitor id: salted per day and site, so it cannot follow anyone across days. */
export function fingerprintVisitorId(salt: string, siteId: number, ip: string, userAgent: string, language: string): string {
  return createHash('sha256').update(`${salt}\u0000${siteId}\u0000${ip}\u0000${userAgent}\u0000${language}`).digest('hex').slice(0, 16);
}

/** Matomo: anonymise an IP by zeroing its last bytes (IPv6: the matching share of its 16 bytes). */
export function anonymizeIp(ip: string, bytes: number): string {
  if (bytes <= 0) return ip;
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(ip);
  if (v4) {
    const parts = v4.slice(1, 5);
    for (let i = 0; i < Math.min(bytes, 4); i += 1) parts[3 - i] = '0';
    return parts.join('.');
  }
  if (ip.includes(':')) {
    // IPv6: 0 bytes → none, 1 → /64 kept, 2 → /48, 3 → /32 (Matomo's mapping).
    const keep = bytes === 1 ? 4 : bytes === 2 ? 3 : 2;
    const [head = '', tail] = ip.split('::');
    const headGroups = head === '' ? [] : head.split(':');
    const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
    const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
    return `${groups.slice(0, keep).join(':')}::`;
  }
  return ip;
}
