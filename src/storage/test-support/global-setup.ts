import pg from 'pg';

/**
 * Runs once before the suite: the PostgreSQL tests are part of `npm test`, never
 * skipped silently, so an unreachable server fails the run with a clear message.
 */
export async function setup(): Promise<void> {
  const url = process.env.PLURA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new Error(
      `The test suite needs PostgreSQL at ${url} (set PLURA_TEST_POSTGRES_URL to change it): ${error instanceof Error ? error.message : String(error)}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
