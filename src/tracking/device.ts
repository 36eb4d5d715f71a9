import DeviceDetectorModule from 'node-device-detector';
import ClientHintsModule from 'node-device-detector/client-hints.js';
import { LRUCache } from 'lru-cache';

export interface DeviceInfo {
  readonly deviceType: string;
  readonly deviceBrand: string;
  readonly deviceModel: string;
  readonly osName: string;
  readonly osCode: string;
  readonly osVersion: string;
  readonly browserName: string;
  readonly browserCode: string;
  readonly browserVersion: string;
  readonly browserEngine: string;
  readonly isBot: boolean;
  readonly botName: string | null;
}

// The package's types declare ES default exports, but at run time each module is `module.exports = class`.
const DeviceDetector = DeviceDetectorModule as unknown as typeof DeviceDetectorModule.default;
const ClientHints = ClientHintsModule as unknown as typeof ClientHintsModule.default;

// One detector for the process: building its indexes is the expensive part.
const detector = new DeviceDetector({ deviceIndexes: true, clientIndexes: true, osIndexes: true, deviceAliasCode: false, maxUserAgentSize: 500 });
const hintsParser = new ClientHints();
// Parsing a user agent costs far more than a hit's SQL; the same agents repeat all day.
const cache = new LRUCache<string, DeviceInfo>({ max: 10_000 });
let hits = 0;

/** How often a parse was served from the cache (for tests and metrics). */
export function deviceCacheHits(): number {
  return hits;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Matomo's JS tracker sends client hints as JSON (`uadata`); the detector reads them as Sec-CH-UA headers. */
function hintsAsHeaders(raw: unknown): Record<string, string> | undefined {
  let data: unknown = raw;
  if (typeof raw === 'string') {
    if (raw.trim() === '') return undefined;
    try {
      data = JSON.parse(raw) as Json;
    } catch {
      return undefined;
    }
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const hints = data as Record<string, unknown>;
  const headers: Record<string, string> = {};
  const list = Array.isArray(hints['fullVersionList']) ? hints['fullVersionList'] : Array.isArray(hints['brands']) ? hints['brands'] : [];
  const brands = list
    .filter((item): item is { brand: string; version: string } => typeof item === 'object' && item !== null && typeof (item as { brand?: unknown }).brand === 'string' && typeof (item as { version?: unknown }).version === 'string')
    .map((item) => `"${item.brand.replace(/"/g, '')}";v="${item.version.replace(/"/g, '')}"`);
  if (brands.length > 0) headers['sec-ch-ua-full-version-list'] = brands.join(', ');
  if (typeof hints['mobile'] === 'boolean') headers['sec-ch-ua-mobile'] = hints['mobile'] ? '?1' : '?0';
  for (const [key, header] of [['model', 'sec-ch-ua-model'], ['platform', 'sec-ch-ua-platform'], ['platformVersion', 'sec-ch-ua-platform-version']] as const) {
    const value = hints[key];
    if (typeof value === 'string') headers[header] = `"${value.replace(/"/g, '')}"`;
  }
  return Object.keys(headers).length > 0 ? headers : undefined;
}

const unknown = (value: string | undefined): string => (value && value !== '' ? value : 'unknown');

/** Device, OS, browser and bot flag of a user agent (and client hints), cached per input. */
export function detectDevice(userAgent: string, clientHints?: unknown): DeviceInfo {
  const key = `${userAgent}\u0000${typeof clientHints === 'string' ? clientHints : ''}`;
  const cached = cache.get(key);
  if (cached) {
    hits += 1;
    return cached;
  }
  const headers = hintsAsHeaders(clientHints);
  let info: DeviceInfo;
  try {
    const parsedHints = headers ? hintsParser.parse(headers, {}) : undefined;
    const bot = detector.parseBot(userAgent, parsedHints);
    const result = detector.detect(userAgent, parsedHints);
    const isBot = Boolean(bot && typeof bot.name === 'string' && bot.name !== '');
    info = {
      deviceType: userAgent === '' ? 'unknown' : unknown(result.device.type),
      deviceBrand: result.device.brand ?? '',
      deviceModel: result.device.model ?? '',
      osName: result.os.name ?? '',
      osCode: result.os.short_name ?? '',
      osVersion: result.os.version ?? '',
      browserName: result.client.name ?? '',
      browserCode: result.client.short_name ?? '',
      browserVersion: result.client.version ?? '',
      browserEngine: result.client.engine ?? '',
      isBot,
      botName: isBot ? bot.name : null,
    };
  } catch {
    info = { deviceType: 'unknown', deviceBrand: '', deviceModel: '', osName: '', osCode: '', osVersion: '', browserName: '', browserCode: '', browserVersion: '', browserEngine: '', isBot: false, botName: null };
  }
  cache.set(key, info);
  return info;
}
