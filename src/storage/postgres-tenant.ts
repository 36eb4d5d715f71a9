import { createHmac } from 'node:crypto';
import pg from 'pg';
import { PluraError, describeError } from '../core/errors.js';
import { openPostgres, parsePostgresUrl, quoteIdentifier, redactUrl, type OpenDatabase, type PostgresConnection } from './database.js';

/**
 * A tenant placed on PostgreSQL: its own schema, owned by its own login role, which
 * holds no privilege anywhere else. The registry stores the server URL *without*
 * credentials; the role's password is derived from the platform secret, so no
 * tenant database password is ever written down.
 */
export interface PostgresTenantLocation {
  readonly url: string;
  readonly schema: string;
  readonly role: string;
}

export function postgresNamesFor(prefix: string, slug: string): { schema: string; role: string } {
  // Slugs may hold '-', which PostgreSQL identifiers accept only quoted; keep names plain.
  const name = `${prefix}${slug.replace(/-/g, '_')}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(name) || name.length > 63) {
    throw new PluraError(
      'invalid_input',
      `The PostgreSQL role name "${name}" (setting database.postgres_role_prefix + slug) must be at most 63 lowercase letters, digits or underscores.`,
    );
  }
  return { schema: name, role: name };
}

export function tenantRolePassword(secret: string, role: string): string {
  return createHmac('sha256', secret).update(`tenant-role:${role}`).digest('base64url');
}

async function withAdminClient<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const connection = parsePostgresUrl(adminUrl);
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new PluraError(
      'storage_unavailable',
      `Cannot reach PostgreSQL at ${redactUrl(adminUrl)}: ${describeError(error)}.`,
      { cause: error },
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Creates the tenant's role and schema with an account that may create roles.
 * Fails if either exists already (another installation with the same prefix, or a
 * leftover), rather than adopting data we did not create.
 */
export async function provisionPostgresTenant(
  adminUrl: string,
  names: { schema: string; role: string },
  secret: string,
): Promise<PostgresTenantLocation> {
  await withAdminClient(adminUrl, async (client) => {
    const exists = await client.query<{ found: boolean }>(
      `select exists(select 1 from pg_roles where rolname = $1) or exists(select 1 from pg_namespace where nspname = $2) as found`,
      [names.role, names.schema],
    );
    if (exists.rows[0]?.found) {
      throw new PluraError(
        'duplicate_tenant',
        `PostgreSQL role or schema "${names.role}" already exists on ${redactUrl(adminUrl)}; choose another slug or database.postgres_role_prefix.`,
      );
    }
    const password = tenantRolePassword(secret, names.role);
    const role = quoteIdentifier(names.role);
    const schema = quoteIdentifier(names.schema);
    const database = quoteIdentifier(parsePostgresUrl(adminUrl).database);
    try {
      await client.query('begin');
      // NOINHERIT and no membership anywhere: the role holds only what is granted here.
      await client.query(`create role ${role} login noinherit nocreatedb nocreaterole password ${client.escapeLiteral(password)}`);
      await client.query(`grant connect on database ${database} to ${role}`);
      await client.query(`create schema ${schema} authorization ${role}`);
      await client.query(`revoke all on schema ${schema} from public`);
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw new PluraError('storage_failed', `Cannot create PostgreSQL role and schema "${names.role}": ${describeError(error)}.`, {
        cause: error,
      });
    }
  });
  return { url: redactUrl(adminUrl), schema: names.schema, role: names.role };
}

/** Drops the tenant's schema (with everything in it) and its role. Missing ones are fine. */
export async function dropPostgresTenant(adminUrl: string, location: PostgresTenantLocation): Promise<void> {
  await withAdminClient(adminUrl, async (client) => {
    const role = quoteIdentifier(location.role);
    await client.query(`drop schema if exists ${quoteIdentifier(location.schema)} cascade`);
    const roleExists = await client.query('select 1 from pg_roles where rolname = $1', [location.role]);
    if (roleExists.rowCount) {
      // The role may own objects or grants elsewhere only if someone granted them by hand.
      await client.query(`drop owned by ${role}`);
      await client.query(`drop role ${role}`);
    }
  });
}

/** Connection settings of the tenant role itself: it sees only its own schema. */
export function tenantConnection(location: PostgresTenantLocation, secret: string, poolSize: number): PostgresConnection {
  const server = parsePostgresUrl(location.url);
  return {
    host: server.host,
    port: server.port,
    database: server.database,
    user: location.role,
    password: tenantRolePassword(secret, location.role),
    searchPath: location.schema,
    poolSize,
  };
}

export function openPostgresTenant<DB>(location: PostgresTenantLocation, secret: string, poolSize: number): OpenDatabase<DB> {
  return openPostgres<DB>(tenantConnection(location, secret, poolSize));
}
