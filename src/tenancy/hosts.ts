import { domainToASCII } from 'node:url';
import { isIP } from 'node:net';
import { PluraError } from '../core/errors.js';

/**
 * Normalizes a Host header value (or a host given by an operator) to the form the
 * registry stores: lowercase, port stripped, trailing dot dropped, IPv6 without
 * brackets, international names in punycode. Returns null for what cannot be a host.
 */
/** Host headers repeat on every request; their normal form is remembered (bounded). */
const normalized = new Map<string, string | null>();

export function normalizeHost(raw: string): string | null {
  const known = normalized.get(raw);
  if (known !== undefined) return known;
  const host = normalizeHostUncached(raw);
  if (normalized.size >= 10_000) normalized.clear();
  normalized.set(raw, host);
  return host;
}

function normalizeHostUncached(raw: string): string | null {
  let host = raw.trim().toLowerCase();
  if (host.length === 0 || host.length > 300) return null;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return null;
    const rest = host.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    host = host.slice(1, end);
    return isIP(host) === 6 ? host : null;
  }
  if (isIP(host) === 6) return host;
  const colon = host.lastIndexOf(':');
  if (colon >= 0) {
    if (!/^\d{1,5}$/.test(host.slice(colon + 1))) return null;
    host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (isIP(host) === 4) return host;
  const ascii = domainToASCII(host);
  if (ascii === '' || ascii.length > 253) return null;
  const labels = ascii.split('.');
  const validLabel = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
  return labels.every((label) => validLabel.test(label)) ? ascii : null;
}

/** Normalizes a hostname an operator gave, or throws a clear error naming it. */
export function requireHost(raw: string): string {
  const host = normalizeHost(raw);
  if (host === null || raw.includes('/')) {
    throw new PluraError('invalid_host', `"${raw}" is not a valid hostname (expected something like analytics.example.com).`);
  }
  return host;
}
