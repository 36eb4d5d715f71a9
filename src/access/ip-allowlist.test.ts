import { describe, expect, it } from 'vitest';
import { PluraError } from '../core/errors.js';
import { parseAllowlist, validateAllowlistEntry } from './ip-allowlist.js';

describe('parseAllowlist', () => {
  it('allows every client when the list is empty', () => {
    const list = parseAllowlist([]);
    expect(list.allows('1.2.3.4')).toBe(true);
    expect(list.allows('2001:db8::1')).toBe(true);
    expect(list.allows('not an ip')).toBe(true);
  });

  it('matches single IPv4 addresses exactly', () => {
    const list = parseAllowlist(['192.168.1.10']);
    expect(list.allows('192.168.1.10')).toBe(true);
    expect(list.allows('192.168.1.11')).toBe(false);
    expect(list.allows('10.0.0.1')).toBe(false);
  });

  it('matches single IPv6 addresses in any notation', () => {
    const list = parseAllowlist(['2001:db8::1']);
    expect(list.allows('2001:db8::1')).toBe(true);
    expect(list.allows('2001:0db8:0000:0000:0000:0000:0000:0001')).toBe(true);
    expect(list.allows('2001:DB8::1')).toBe(true);
    expect(list.allows('2001:db8::2')).toBe(false);
  });

  it('matches IPv4 CIDR ranges', () => {
    const list = parseAllowlist(['10.0.0.0/8', '172.16.0.0/12']);
    expect(list.allows('10.0.0.0')).toBe(true);
    expect(list.allows('10.255.255.255')).toBe(true);
    expect(list.allows('172.31.0.1')).toBe(true);
    expect(list.allows('172.32.0.1')).toBe(false);
    expect(list.allows('11.0.0.1')).toBe(false);
  });

  it('matches IPv6 CIDR ranges', () => {
    const list = parseAllowlist(['2001:db8::/32']);
    expect(list.allows('2001:db8::1')).toBe(true);
    expect(list.allows('2001:db8:ffff:ffff::1')).toBe(true);
    expect(list.allows('2001:db9::1')).toBe(false);
    expect(list.allows('10.0.0.1')).toBe(false);
  });

  it('matches Matomo 1.2.3.* wildcards', () => {
    const list = parseAllowlist(['1.2.3.*']);
    expect(list.allows('1.2.3.0')).toBe(true);
    expect(list.allows('1.2.3.255')).toBe(true);
    expect(list.allows('1.2.4.1')).toBe(false);
    const wide = parseAllowlist(['10.*.*.*']);
    expect(wide.allows('10.20.30.40')).toBe(true);
    expect(wide.allows('11.20.30.40')).toBe(false);
    expect(parseAllowlist(['172.16.*.*']).allows('172.16.99.1')).toBe(true);
    expect(parseAllowlist(['172.16.*.*']).allows('172.17.0.1')).toBe(false);
  });

  it('treats an IPv4-mapped IPv6 client as the IPv4 address', () => {
    const list = parseAllowlist(['1.2.3.4', '10.0.0.0/8', '192.168.0.*']);
    expect(list.allows('::ffff:1.2.3.4')).toBe(true);
    expect(list.allows('::ffff:10.9.8.7')).toBe(true);
    expect(list.allows('::ffff:192.168.0.200')).toBe(true);
    expect(list.allows('::ffff:1.2.3.5')).toBe(false);
    expect(list.allows('::ffff:11.0.0.1')).toBe(false);
  });

  it('matches IPv4-mapped IPv6 entries against IPv4 clients in either notation', () => {
    const list = parseAllowlist(['::ffff:1.2.3.4', '::ffff:10.0.0.0/104']);
    expect(list.allows('1.2.3.4')).toBe(true);
    expect(list.allows('::ffff:1.2.3.4')).toBe(true);
    expect(list.allows('10.200.0.1')).toBe(true);
    expect(list.allows('1.2.3.5')).toBe(false);
    expect(list.allows('11.0.0.1')).toBe(false);
    // A mapped range wider than the IPv4 space stays an IPv6 rule.
    expect(parseAllowlist(['::ffff:0.0.0.0/95']).allows('1.2.3.4')).toBe(false);
  });

  it('never lets an IPv4 rule match an unrelated IPv6 address or the reverse', () => {
    expect(parseAllowlist(['0.0.0.0/0']).allows('2001:db8::1')).toBe(false);
    expect(parseAllowlist(['::/0']).allows('1.2.3.4')).toBe(false);
    expect(parseAllowlist(['0.0.0.0/0']).allows('8.8.8.8')).toBe(true);
    expect(parseAllowlist(['::/0']).allows('2001:db8::1')).toBe(true);
  });

  it('trims whitespace around entries', () => {
    const list = parseAllowlist(['  10.0.0.1  ', '\t2001:db8::/32\n']);
    expect(list.allows('10.0.0.1')).toBe(true);
    expect(list.allows('2001:db8::5')).toBe(true);
  });

  it('refuses clients whose address cannot be parsed', () => {
    const list = parseAllowlist(['0.0.0.0/0', '::/0']);
    for (const ip of ['', 'unknown', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.4/32', 'example.com', '2001:db8:::1']) {
      expect(list.allows(ip), `client ${JSON.stringify(ip)}`).toBe(false);
    }
  });

  it('does not read inet_aton shorthands or octal/hex parts as addresses', () => {
    // ipaddr.js would take `10.1` as 10.0.0.1 and `010.0.0.1` as octal 8.0.0.1.
    const list = parseAllowlist(['10.0.0.1', '8.0.0.1', '127.0.0.1']);
    for (const ip of ['10.1', '167772161', '010.0.0.1', '0x7f.0.0.1', '127.1', '::ffff:0x7f.0.0.1']) {
      expect(list.allows(ip), `client ${JSON.stringify(ip)}`).toBe(false);
    }
    expect(list.allows('10.0.0.1')).toBe(true);
    expect(list.allows('::ffff:127.0.0.1')).toBe(true);
    for (const entry of ['10.1', '010.0.0.1', '192.168.001.010', '0x7f.0.0.1', '10.1/16']) {
      expect(() => parseAllowlist([entry]), `entry ${JSON.stringify(entry)}`).toThrow(PluraError);
    }
  });

  it('throws an invalid_input PluraError naming the bad entry', () => {
    for (const bad of ['not-an-ip', '10.0.0.0/33', '2001:db8::/129', '1.2.*.4', '*.2.3.4', '1.2.3.4.5', '300.1.1.1', '']) {
      let caught: unknown;
      try {
        parseAllowlist(['10.0.0.1', bad]);
      } catch (error) {
        caught = error;
      }
      expect(caught, `entry ${JSON.stringify(bad)}`).toBeInstanceOf(PluraError);
      const error = caught as PluraError;
      expect(error.code).toBe('invalid_input');
      expect(error.message).toContain(`"${bad}"`);
    }
  });
});

describe('validateAllowlistEntry', () => {
  it('returns null for every accepted form', () => {
    for (const entry of ['1.2.3.4', '10.0.0.0/8', '2001:db8::1', '2001:db8::/32', '1.2.3.*', '1.2.*.*', '::ffff:1.2.3.4']) {
      expect(validateAllowlistEntry(entry)).toBeNull();
    }
  });

  it('describes the problem with a bad entry', () => {
    const problem = validateAllowlistEntry('nope');
    expect(problem).toContain('"nope"');
    expect(problem).toContain('CIDR');
  });
});
