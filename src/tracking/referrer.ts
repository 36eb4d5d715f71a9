import searchEngineData from './data/search-engines.json' with { type: 'json' };
import socialData from './data/socials.json' with { type: 'json' };

/** How a visit arrived, as Matomo's Referrers reports group it. */
export type ReferrerType = 'direct' | 'website' | 'search' | 'social' | 'campaign';

export interface ReferrerInfo {
  readonly type: ReferrerType;
  /** Website host (without `www.`), search engine or social network name, or campaign name; '' for direct. */
  readonly name: string;
  /** Search keyword or campaign keyword; '' if unknown. */
  readonly keyword: string;
  /** The referrer URL as sent ('' for direct entries). */
  readonly url: string;
}

/** Query parameters that carry a campaign's name and keyword, first non-empty one wins. */
export interface CampaignKeys {
  readonly name: readonly string[];
  readonly keyword: readonly string[];
}

/** Matomo's defaults (`campaign_var_name`, `campaign_keyword_var_name` in its global.ini.php). */
export const defaultCampaignKeys: CampaignKeys = Object.freeze({
  name: Object.freeze(['pk_cpn', 'pk_campaign', 'piwik_campaign', 'mtm_campaign', 'matomo_campaign', 'utm_campaign', 'utm_source', 'utm_medium']),
  keyword: Object.freeze(['pk_kwd', 'pk_keyword', 'piwik_kwd', 'mtm_kwd', 'mtm_keyword', 'matomo_kwd', 'utm_term']),
});

export interface ClassifyReferrerInput {
  /** The landing page URL (`url`). */
  readonly pageUrl: string;
  /** The referrer URL (`urlref`). */
  readonly referrerUrl: string;
  /** The site's host names (main URL and aliases); their subdomains count as the site too. */
  readonly siteHosts: readonly string[];
  /** Campaign name the JS tracker remembered from an earlier landing (`_rcn`). */
  readonly campaignName?: string;
  /** Campaign keyword the JS tracker remembered (`_rck`). */
  readonly campaignKeyword?: string;
  readonly campaignKeys?: CampaignKeys;
}

// ---------------------------------------------------------------------------------------------
// Reference data, compiled once at load.

interface EngineConfig {
  readonly urls: readonly string[];
  readonly params: readonly string[];
  readonly hiddenkeyword?: readonly string[];
}

interface CompiledEngine {
  readonly name: string;
  /** Path prefix the referrer must start with ('' for any). */
  readonly path: string;
  readonly params: readonly (string | RegExp)[];
  readonly hidden: readonly RegExp[];
}

/** A `{}` placeholder: a country code or TLD, including combined ones such as `co.uk` or `com.br`. */
const PLACEHOLDER = '(?:[a-z]{2,3}|(?:com|org|net|co|it|edu|ac|gov)\\.[a-z]{2})';

/** `'/re/'` in the data is a regular expression; anything else is a plain value. */
function dataRegex(value: string): RegExp | null {
  if (value.length < 2 || !value.startsWith('/') || !value.endsWith('/')) return null;
  try {
    return new RegExp(value.slice(1, -1), 'i');
  } catch {
    return null;
  }
}

const stripWww = (host: string): string => (host.startsWith('www.') ? host.slice(4) : host);

const exactEngines = new Map<string, CompiledEngine[]>();
const patternEngines: { readonly host: RegExp; readonly engine: CompiledEngine }[] = [];

for (const [name, configs] of Object.entries(searchEngineData as Record<string, readonly EngineConfig[]>)) {
  for (const config of configs) {
    const params = config.params.map((p) => dataRegex(p) ?? p);
    const hidden = (config.hiddenkeyword ?? []).map((p) => dataRegex(p)).filter((p): p is RegExp => p !== null);
    for (const url of config.urls) {
      const lower = url.trim().toLowerCase();
      const slash = lower.indexOf('/');
      const host = stripWww(slash === -1 ? lower : lower.slice(0, slash));
      const path = slash === -1 ? '' : lower.slice(slash);
      const engine: CompiledEngine = { name, path, params, hidden };
      if (host.includes('{}')) {
        const source = host.split('{}').map((part) => part.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join(PLACEHOLDER);
        patternEngines.push({ host: new RegExp(`^${source}$`), engine });
      } else {
        const list = exactEngines.get(host) ?? [];
        list.push(engine);
        exactEngines.set(host, list);
      }
    }
  }
}
// Path-specific definitions (google.com/cse) are more specific than the bare host.
for (const list of exactEngines.values()) list.sort((a, b) => b.path.length - a.path.length);
patternEngines.sort((a, b) => b.engine.path.length - a.engine.path.length);

const socials = new Map<string, string>();
for (const [name, hosts] of Object.entries(socialData as Record<string, readonly string[]>)) {
  for (const host of hosts) {
    const key = stripWww(host.trim().toLowerCase().replace(/^android-app:\/\//, '').replace(/\/.*$/, ''));
    if (key !== '' && !socials.has(key)) socials.set(key, name);
  }
}

// ---------------------------------------------------------------------------------------------
// URL helpers: nothing here throws on malformed input.

function parseUrl(raw: string): URL | null {
  const value = raw.trim();
  if (value === '' || value.length > 8192) return null;
  try {
    return new URL(value);
  } catch {
    // A referrer without a scheme ("example.com/page") is still a host.
    if (/^[a-z0-9.-]+\.[a-z]{2,}(?:[:/?#]|$)/i.test(value)) {
      try {
        return new URL(`http://${value}`);
      } catch {
        return null;
      }
    }
    return null;
  }
}

/** Lower-cased host of an http(s) or android-app URL, without a trailing dot; '' if none. */
function hostOf(url: URL): string {
  if (url.protocol !== 'http:' && url.protocol !== 'https:' && url.protocol !== 'android-app:') return '';
  return url.hostname.toLowerCase().replace(/\.$/, '');
}

function normaliseSiteHost(raw: string): string {
  let host = raw.trim().toLowerCase();
  if (host.includes('://')) {
    const parsed = parseUrl(host);
    host = parsed ? parsed.hostname : '';
  }
  host = host.replace(/[/?#].*$/, '').replace(/:\d+$/, '').replace(/^\*\./, '').replace(/\.$/, '');
  return stripWww(host);
}

function safeDecode(value: string): string {
  const spaced = value.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/** Query-string style parameters of a query or fragment, keys lower-cased, first occurrence kept. */
function paramsOf(source: string): Map<string, string> {
  const params = new Map<string, string>();
  const text = source.replace(/^[?#]/, '');
  if (text === '') return params;
  // A fragment may be a route ("#/page?utm_campaign=x"): read the part after its own '?'.
  const query = text.includes('=') && text.includes('?') && text.indexOf('?') < text.indexOf('=') ? text.slice(text.indexOf('?') + 1) : text;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = safeDecode(pair.slice(0, eq)).trim().toLowerCase();
    if (!params.has(key)) params.set(key, safeDecode(pair.slice(eq + 1)));
  }
  return params;
}

function firstValue(params: Map<string, string>, keys: readonly string[]): string {
  for (const key of keys) {
    const value = params.get(key.toLowerCase())?.trim();
    if (value) return value;
  }
  return '';
}

// ---------------------------------------------------------------------------------------------
// The branches.

function campaignFromPage(pageUrl: string, keys: CampaignKeys): { name: string; keyword: string } | null {
  const value = pageUrl.trim();
  const hashAt = value.indexOf('#');
  const beforeHash = hashAt === -1 ? value : value.slice(0, hashAt);
  const queryAt = beforeHash.indexOf('?');
  const sources = [queryAt === -1 ? '' : beforeHash.slice(queryAt + 1), hashAt === -1 ? '' : value.slice(hashAt + 1)];
  for (const source of sources) {
    const params = paramsOf(source);
    const name = firstValue(params, keys.name);
    if (name !== '') return { name, keyword: firstValue(params, keys.keyword) };
  }
  return null;
}

function isSiteHost(host: string, siteHosts: readonly string[], pageHost: string): boolean {
  const bare = stripWww(host);
  if (pageHost !== '' && bare === stripWww(pageHost)) return true;
  for (const raw of siteHosts) {
    const site = normaliseSiteHost(raw);
    if (site !== '' && (bare === site || bare.endsWith(`.${site}`))) return true;
  }
  return false;
}

function findEngines(host: string, path: string): CompiledEngine[] {
  const bare = stripWww(host);
  const matches = (engine: CompiledEngine): boolean => engine.path === '' || path.startsWith(engine.path);
  const found = (exactEngines.get(bare) ?? []).filter(matches);
  for (const { host: pattern, engine } of patternEngines) {
    if (pattern.test(bare) && matches(engine)) found.push(engine);
  }
  return found;
}

function searchEngine(url: URL, host: string): { name: string; keyword: string } | null {
  const path = url.pathname.toLowerCase();
  const engines = findEngines(host, path);
  if (engines.length === 0) return null;
  const query = paramsOf(url.search);
  const fragment = paramsOf(url.hash);
  const pathAndQuery = `${url.pathname}${url.search}`;
  for (const engine of engines) {
    for (const param of engine.params) {
      let keyword = '';
      if (typeof param === 'string') {
        keyword = firstValue(query, [param]) || firstValue(fragment, [param]);
      } else {
        const match = param.exec(pathAndQuery);
        if (match?.[1]) keyword = safeDecode(match[1]).trim();
      }
      if (keyword !== '') return { name: engine.name, keyword: keyword.toLowerCase() };
    }
  }
  // No keyword: still a search if the engine is known to hide it there (Google's "not provided").
  const visiblePath = url.pathname === '/' ? '' : url.pathname;
  for (const engine of engines) {
    if (engine.hidden.some((re) => re.test(visiblePath) || re.test(url.pathname))) return { name: engine.name, keyword: '' };
  }
  return null;
}

function socialNetwork(host: string): string | null {
  let candidate = stripWww(host);
  // Subdomains of a network count (m.facebook.com, old.reddit.com), but never a bare TLD.
  while (candidate.includes('.')) {
    const name = socials.get(candidate);
    if (name !== undefined) return name;
    candidate = candidate.slice(candidate.indexOf('.') + 1);
  }
  return null;
}

/**
 * Classifies a visit's referrer as Matomo does, in its order: a campaign (campaign parameters in the
 * landing page's query or fragment, then the tracker's remembered `_rcn`/`_rck`), a direct entry (no
 * referrer, or one from the site itself or a subdomain of one of its hosts), a search engine (with the
 * keyword when the engine still sends it), a social network, else a website. Campaign names and all
 * keywords are lower-cased as Matomo stores them. Never throws.
 */
export function classifyReferrer(input: ClassifyReferrerInput): ReferrerInfo {
  const pageUrl = typeof input.pageUrl === 'string' ? input.pageUrl : '';
  const referrerUrl = typeof input.referrerUrl === 'string' ? input.referrerUrl.trim() : '';
  const keys = input.campaignKeys ?? defaultCampaignKeys;

  const campaign = campaignFromPage(pageUrl, keys);
  if (campaign) return { type: 'campaign', name: campaign.name.toLowerCase(), keyword: campaign.keyword.toLowerCase(), url: referrerUrl };
  const rememberedName = input.campaignName?.trim() ?? '';
  if (rememberedName !== '') {
    return { type: 'campaign', name: rememberedName.toLowerCase(), keyword: (input.campaignKeyword?.trim() ?? '').toLowerCase(), url: referrerUrl };
  }

  const referrer = parseUrl(referrerUrl);
  const host = referrer ? hostOf(referrer) : '';
  if (!referrer || host === '') return { type: 'direct', name: '', keyword: '', url: '' };
  const page = parseUrl(pageUrl);
  if (isSiteHost(host, input.siteHosts, page ? hostOf(page) : '')) return { type: 'direct', name: '', keyword: '', url: '' };

  const search = searchEngine(referrer, host);
  if (search) return { type: 'search', name: search.name, keyword: search.keyword, url: referrerUrl };
  const social = socialNetwork(host);
  if (social) return { type: 'social', name: social, keyword: '', url: referrerUrl };
  return { type: 'website', name: stripWww(host), keyword: '', url: referrerUrl };
}
