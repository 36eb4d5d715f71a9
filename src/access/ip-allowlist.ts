import ipaddr from 'ipaddr.js';
import { PluraError } from '../core/errors.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

export interface Allowlist {
  allows(ip: string): boolean;
}

/** Matomo's `1.2.3.*` wildcard form, as a CIDR range. */
function wildcardToCidr(entry: string): string | null {
  const parts = entry.split('.');
  if (parts.length !== 4 || !parts.includes('*')) return null;
  const firstStar = parts.indexOf('*');
  if (parts.slice(firstStar).some((part) => part !== '*')) return null;
  const fixed = parts.slice(0, firstStar);
  return `${[...fixed, ...parts.slice(firstStar).map(() => '0')].join('.')}/${fixed.length * 8}`;
}

/**
 * ipaddr.js also takes inet_aton shorthands (`10.1` is 10.0.0.1, `010.0.0.1` is octal
 * 8.0.0.1); only dotted-quad decimal IPv4, alone or inside IPv6, is an address here.
 */
function isPlainNotation(text: string): boolean {
  if (!text.includes(':')) return ipaddr.IPv4.isValidFourPartDecimal(text);
  const tail = text.slice(text.lastIndexOf(':') + 1);
  return !tail.includes('.') || ipaddr.IPv4.isValidFourPartDecimal(tail);
}

function parseEntry(entry: string): Range | null {
  const text = entry.trim();
  try {
    const cidr = wildcardToCidr(text) ?? text;
    if (!isPlainNotation(cidr.split('/')[0] ?? '')) return null;
    const address = cidr.includes('/') ? ipaddr.parseCIDR(cidr) : ipaddr.parse(cidr);
    const [base, bits] = Array.isArray(address) ? address : [address, address.kind() === 'ipv4' ? 32 : 128];
    // Clients are normalised to IPv4 (parseAddress), so a `::ffff:a.b.c.d` entry must be too, or it never matches.
    if (base instanceof ipaddr.IPv6 && base.isIPv4MappedAddress() && bits >= 96) return [base.toIPv4Address(), bits - 96];
    return [base, bits];
  } catch {
    return null;
  }
}

/** A problem with one allowlist entry, or null when it is valid. */
export function validateAllowlistEntry(entry: string): string | null {
  return parseEntry(entry) ? null : `"${entry}" is not an IP address, a CIDR range (10.0.0.0/8, 2001:db8::/32) or a wildcard (1.2.3.*).`;
}

/** Normalises an address so `::ffff:1.2.3.4` meets IPv4 rules. */
function parseAddress(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (!isPlainNotation(ip)) return null;
  try {
    return ipaddr.process(ip);
  } catch {
    return null;
  }
}

export function parseAllowlist(entries: readonly string[]): Allowlist {
  const ranges: Range[] = [];
  for (const entry of entries) {
    const range = parseEntry(entry);
    if (!range) throw new PluraError('invalid_input', `IP allowlist: ${validateAllowlistEntry(entry) ?? entry}`);
    ranges.push(range);
  }
  return {
    allows(ip: string): boolean {
      if (ranges.length === 0) return true;
      const address = parseAddress(ip);
      if (!address) return false;
      return ranges.some(([base, bits]) => address.kind() === base.kind() && address.match(base, bits));
    },
  };
}
