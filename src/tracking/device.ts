import { createRequire } from 'node:module';
import type * as DeviceDetectorTypes from 'node-device-detector';
import type * as ClientHintsTypes from 'node-device-detector/client-hints.js';
import type { ResultClientHints } from 'node-device-detector/client-hints.js';
import { LRUCache } from 'lru-cache';

/** What a visit records about the device, OS and browser behind a user agent. */
export interface DeviceInfo {
  /** desktop, smartphone, tablet, phablet, tv, console, wearable, ... or 'unknown'. */
  readonly deviceType: string;
  readonly deviceBrand: string;
  readonly deviceModel: string;
  readonly osName: string;
  /** Matomo's short OS code (WIN, MAC, AND, IOS, LIN, ...). */
  readonly osCode: string;
  readonly osVersion: string;
  readonly browserName: string;
  /** Matomo's short browser code (CH, FF, SF, ...). */
  readonly browserCode: string;
  readonly browserVersion: string;
  readonly browserEngine: string;
  /** A crawler or monitor (HTTP libraries such as curl count as clients, as in Matomo). */
  readonly isBot: boolean;
  readonly botName: string | null;
}

/** The detector only reads this much of a user agent; the cache key is cut the same way. */
const MAX_UA = 500;
/** Client hints longer than this are not worth parsing (a real `uadata` is a few hundred bytes). */
const MAX_HINTS = 4_000;
const CACHE_SIZE = 10_000;

// One detector for the process: building its indexes is the expensive part.
// The package is CommonJS (`module.exports = Class`) but typed as `export default class`, which
// NodeNext reads as `module.exports.default`: load it with require so types and run time agree.
const require = createRequire(import.meta.url);
const DeviceDetector = require('node-device-detector') as typeof DeviceDetectorTypes.default.default;
const ClientHints = require('node-device-detector/client-hints.js') as typeof ClientHintsTypes.default.default;
const detector = new DeviceDetector({
  deviceIndexes: true,
  clientIndexes: true,
  osIndexes: true,
  deviceAliasCode: false,
  deviceInfo: false,
  deviceTrusted: false,
  maxUserAgentSize: MAX_UA,
});
const hintsParser = new ClientHints();

// Parsing a user agent costs far more than a hit's SQL, and the same agents repeat all day.
const cache = new LRUCache<string, DeviceInfo>({ max: CACHE_SIZE });
let hits = 0;

/** How many detections were served from the cache since start (for tests and metrics). */
export function deviceCacheHits(): number {
  return hits;
}

const EMPTY: DeviceInfo = Object.freeze({
  deviceType: 'unknown',
  deviceBrand: '',
  deviceModel: '',
  osName: '',
  osCode: '',
  osVersion: '',
  browserName: '',
  browserCode: '',
  browserVersion: '',
  browserEngine: '',
  isBot: false,
  botName: null,
});

const clean = (value: string): string => value.replace(/["\\]/g, '').slice(0, 100);

/**
 * Matomo's JS tracker sends client hints as JSON (`uadata`:
 * `{"fullVersionList":[{"brand","version"}],"mobile":bool,"model","platform","platformVersion"}`);
 * the detector reads them as the Sec-CH-UA-* request headers. Anything malformed yields no hints.
 */
function hintsAsHeaders(raw: unknown): Record<string, string> | undefined {
  let data: unknown = raw;
  if (typeof raw === 'string') {
    if (raw.length > MAX_HINTS || raw.trim() === '') return undefined;
    try {
      data = JSON.parse(raw) as unknown;
    } catch {
      return undefined;
    }
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const hints = data as Record<string, unknown>;
  const headers: Record<string, string> = {};
  const fullList = hints['fullVersionList'];
  const list: unknown[] = Array.isArray(fullList) ? fullList : Array.isArray(hints['brands']) ? (hints['brands'] as unknown[]) : [];
  const brands: string[] = [];
  for (const item of list.slice(0, 20)) {
    if (typeof item !== 'object' || item === null) continue;
    const { brand, version } = item as { brand?: unknown; version?: unknown };
    if (typeof brand === 'string' && typeof version === 'string') brands.push(`"${clean(brand)}";v="${clean(version)}"`);
  }
  if (brands.length > 0) headers['sec-ch-ua-full-version-list'] = brands.join(', ');
  if (typeof hints['mobile'] === 'boolean') headers['sec-ch-ua-mobile'] = hints['mobile'] ? '?1' : '?0';
  for (const [key, header] of [
    ['model', 'sec-ch-ua-model'],
    ['platform', 'sec-ch-ua-platform'],
    ['platformVersion', 'sec-ch-ua-platform-version'],
  ] as const) {
    const value = hints[key];
    if (typeof value === 'string') headers[header] = `"${clean(value)}"`;
  }
  return Object.keys(headers).length > 0 ? headers : undefined;
}

function detectUncached(userAgent: string, headers: Record<string, string> | undefined): DeviceInfo {
  if (userAgent.trim() === '') return EMPTY;
  const hints: ResultClientHints | undefined = headers ? hintsParser.parse(headers, {}) : undefined;
  const bot = detector.parseBot(userAgent, hints) as Partial<{ name: string }>;
  if (typeof bot.name === 'string' && bot.name !== '') return Object.freeze({ ...EMPTY, isBot: true, botName: bot.name });

  const result = detector.detect(userAgent, hints);
  const client = result.client;
  // Matomo: HTTP libraries (curl, python-requests, ...) are clients, not bots: server-side
  // trackers and log importers send through them, and their hits are recorded.
  return Object.freeze({
    deviceType: result.device.type || 'unknown',
    deviceBrand: result.device.brand ?? '',
    deviceModel: result.device.model ?? '',
    osName: result.os.name ?? '',
    osCode: result.os.short_name ?? '',
    osVersion: result.os.version ?? '',
    browserName: client.name ?? '',
    browserCode: client.short_name ?? '',
    browserVersion: client.version ?? '',
    browserEngine: client.engine ?? '',
    isBot: false,
    botName: null,
  });
}

/**
 * The detector compiles its regular expressions lazily: the first few agents of each kind cost up to
 * a second or two of CPU, later ones milliseconds. A server may call this once at start (off the
 * request path) so that its first visitors do not pay for it. Fills no cache entries.
 */
export function warmUpDeviceDetection(): void {
  for (const ua of [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
    'curl/8.5.0',
  ]) {
    try {
      detectUncached(ua, undefined);
    } catch {
      // Warming up is best effort.
    }
  }
}

/**
 * Device, OS, browser and bot flag of a user agent, refined by the client hints Matomo's JS tracker
 * sends as `uadata` (a JSON string, or the already parsed object). Cached (LRU, 10,000 entries) by
 * user agent and normalised hints; never throws. The returned object is frozen and shared.
 */
export function detectDevice(userAgent: string, clientHints?: unknown): DeviceInfo {
  const ua = typeof userAgent === 'string' ? userAgent.slice(0, MAX_UA) : '';
  const headers = clientHints === undefined || clientHints === null ? undefined : hintsAsHeaders(clientHints);
  const key = headers ? `${ua}\u0000${JSON.stringify(headers)}` : ua;
  const cached = cache.get(key);
  if (cached) {
    hits += 1;
    return cached;
  }
  let info: DeviceInfo;
  try {
    info = detectUncached(ua, headers);
  } catch {
    info = EMPTY;
  }
  cache.set(key, info);
  return info;
}
