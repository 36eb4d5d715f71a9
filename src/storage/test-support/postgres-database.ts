import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const testPostgresServerUrl = process.env.PLURA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestPostgresDatabase {
  /** URL of a fresh database of its own. */
  readonly url: string;
  /** Role prefix unique to this run (roles are cluster-wide). */
  readonly rolePrefix: string;
  /** Drops the database and every role made with the prefix. */
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testPostgresServerUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A throwaway database on the real PostgreSQL server, for tests that put tenants or the registry there. */
export async function createTestPostgresDatabase(label: string): Promise<TestPostgresDatabase> {
  const suffix = randomBytes(4).toString('hex');
  const database = `plura_${label}_${suffix}`;
  const rolePrefix = `p${label.slice(0, 3)}${suffix}_`;
  await admin((client) => client.query(`create database ${database}`));
  const url = new URL(testPostgresServerUrl);
  url.pathname = `/${database}`;
  return {
    url: url.toString(),
    rolePrefix,
    async drop() {
      await admin(async (client) => {
        await client.query(`drop database if exists ${database} with (force)`);
        const roles = await client.query<{ rolname: string }>('select rolname from pg_roles where rolname like $1', [`${rolePrefix}%`]);
        for (const { rolname } of roles.rows) await client.query(`drop role "${rolname}"`);
      });
    },
  };
}
