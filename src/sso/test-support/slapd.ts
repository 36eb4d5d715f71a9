import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { generate } from 'selfsigned';
import { freePort } from '../../http/test-support/free-port.js';

/**
 * A real OpenLDAP server (Debian's `slapd`) for tests: its own configuration,
 * database and TLS certificate in a temporary folder, listening on a free loopback
 * port, with the `memberof` overlay (so `memberOf` is maintained by the server),
 * the `ppolicy` overlay (for `pwdAccountLockedTime`) and the monitor backend (to
 * count open connections).
 */
export interface Slapd {
  /** ldap:// (plain, StartTLS offered). */
  readonly url: string;
  readonly port: number;
  /** ldaps:// (TLS from the first byte) on a second port. */
  readonly ldapsUrl: string;
  readonly suffix: string;
  readonly adminDn: string;
  readonly adminPassword: string;
  /** PEM of the self-signed certificate slapd serves for StartTLS (CN and SAN localhost, 127.0.0.1). */
  readonly caPem: string;
  readonly caFile: string;
  readonly dir: string;
  /** Runs `fn` with a client bound as the root DN (to add, change and delete entries). */
  admin<T>(fn: (client: Client) => Promise<T>): Promise<T>;
  /** Client connections slapd holds open right now, not counting the one asking. */
  openConnections(): Promise<number>;
  /** Freezes the process (SIGSTOP): connections are accepted by the kernel but never answered. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

const SLAPD_CANDIDATES = ['/usr/sbin/slapd', '/usr/local/sbin/slapd', '/usr/local/libexec/slapd'];
const MODULE_DIRS = ['/usr/lib/ldap', '/usr/lib/x86_64-linux-gnu/ldap', '/usr/lib/aarch64-linux-gnu/ldap', '/usr/local/libexec/openldap'];
const SCHEMA_DIRS = ['/etc/ldap/schema', '/etc/openldap/schema', '/usr/local/etc/openldap/schema'];

function findSlapd(): { binary: string; modules: string; schema: string } {
  const binary = SLAPD_CANDIDATES.find((path) => existsSync(path));
  const modules = MODULE_DIRS.find((dir) => existsSync(join(dir, 'memberof.so')));
  const schema = SCHEMA_DIRS.find((dir) => existsSync(join(dir, 'inetorgperson.schema')));
  if (!binary || !modules || !schema) {
    throw new Error(
      'The LDAP tests need a real OpenLDAP server: install Debian\'s "slapd" and "ldap-utils" packages ' +
        '(`apt-get install slapd ldap-utils`; .ci/run installs them). ' +
        `Looked for slapd in ${SLAPD_CANDIDATES.join(', ')}, its modules (memberof.so) in ${MODULE_DIRS.join(', ')} and its schema in ${SCHEMA_DIRS.join(', ')}.`,
    );
  }
  return { binary, modules, schema };
}

const running = new Set<ChildProcess>();
// A crashed test run must not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startSlapd(options: { suffix?: string } = {}): Promise<Slapd> {
  const { binary, modules, schema } = findSlapd();
  const suffix = options.suffix ?? 'dc=example,dc=org';
  const adminDn = `cn=admin,${suffix}`;
  const adminPassword = 'slapd-admin-secret';
  const dir = mkdtempSync(join(tmpdir(), 'plura-slapd-'));
  mkdirSync(join(dir, 'data'));
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  const caFile = join(dir, 'cert.pem');
  writeFileSync(caFile, pems.cert);
  writeFileSync(join(dir, 'key.pem'), pems.private, { mode: 0o600 });
  writeFileSync(
    join(dir, 'slapd.conf'),
    `include ${schema}/core.schema
include ${schema}/cosine.schema
include ${schema}/inetorgperson.schema
include ${schema}/nis.schema
modulepath ${modules}
moduleload back_mdb
moduleload back_monitor
moduleload memberof
moduleload ppolicy
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
TLSCertificateFile ${dir}/cert.pem
TLSCertificateKeyFile ${dir}/key.pem

database monitor
access to * by dn.exact="${adminDn}" read by * none

database mdb
maxsize 67108864
suffix "${suffix}"
rootdn "${adminDn}"
rootpw ${adminPassword}
directory ${dir}/data
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
overlay ppolicy
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
`,
  );

  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = `ldaps://127.0.0.1:${await freePort()}`;
  const output: string[] = [];
  // -d keeps slapd in the foreground (a child we own); -d 0 logs nothing but fatal errors.
  const child = spawn(binary, ['-f', join(dir, 'slapd.conf'), '-h', `${url}/ ${ldapsUrl}/`, '-d', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code;
      running.delete(child);
      resolve();
    }),
  );

  const admin = async <T>(fn: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ url, timeout: 5000, connectTimeout: 5000 });
    try {
      await client.bind(adminDn, adminPassword);
      return await fn(client);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`slapd exited (${exited}) at start:\n${output.join('')}`);
    try {
      await admin((client) => client.search('', { scope: 'base', attributes: ['namingContexts'] }));
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`slapd did not answer on ${url} within 15 s (${String(error)}):\n${output.join('')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const dc = /^dc=([^,]+)/i.exec(suffix)?.[1] ?? 'example';
  await admin((client) => client.add(suffix, { objectClass: ['top', 'dcObject', 'organization'], o: dc, dc }));

  return {
    url,
    port,
    ldapsUrl,
    suffix,
    adminDn,
    adminPassword,
    caPem: pems.cert,
    caFile,
    dir,
    admin,
    async openConnections() {
      return admin(async (client) => {
        const { searchEntries } = await client.search('cn=Current,cn=Connections,cn=Monitor', { scope: 'base', attributes: ['monitorCounter'] });
        const value = searchEntries[0]?.['monitorCounter'];
        // Minus the connection asking.
        return Number(Array.isArray(value) ? value[0] : value) - 1;
      });
    },
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
    async stop() {
      if (exited === undefined) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exit;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
