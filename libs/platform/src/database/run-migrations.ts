import { DataSource, type DataSourceOptions } from 'typeorm';

/**
 * Entry point body of `apps/<service>/src/migrate.ts`: applies pending migrations and exits.
 * The launcher, compose and the k8s init container run it before the service starts.
 */
export async function runMigrations(options: DataSourceOptions): Promise<string[]> {
  const dataSource = new DataSource(options);
  await dataSource.initialize();
  // Replicas starting together (k8s init containers) take turns: the first applies the
  // migrations, the others wait and then find nothing pending.
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
    await dataSource.destroy();
  }
}

/** Arbitrary but fixed: the key of the advisory lock held while migrating. */
const MIGRATION_LOCK_KEY = 741_852_963;

export async function migrateAndExit(service: string, options: DataSourceOptions): Promise<void> {
  try {
    const applied = await runMigrations(options);
    process.stdout.write(
      `${JSON.stringify({ service, msg: 'migrations applied', applied, time: new Date().toISOString() })}\n`,
    );
    process.exit(0);
  } catch (error) {
    process.stderr.write(
      `${JSON.stringify({ service, level: 'error', msg: 'migrations failed', error: (error as Error).message })}\n`,
    );
    process.exit(1);
  }
}
