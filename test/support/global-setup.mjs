// Runs once before the integration and e2e specs: makes sure a real PostgreSQL is reachable.
// DATABASE_URL, when given, is used as an admin connection (specs create their own databases);
// otherwise a private embedded PostgreSQL is started on a free port and stopped afterwards.
// NATS: each spec file starts its own nats-server (test/support/nats.ts) unless NATS_URL is given,
// so JetStream streams and durable consumers of parallel spec files never meet.
import infra from '../../scripts/lib/infra.js';

export default async function globalSetup() {
  if (process.env.DATABASE_URL) {
    process.env.TEST_DATABASE_URL = process.env.DATABASE_URL;
  } else {
    const postgres = await infra.startEmbeddedPostgres();
    globalThis.__TEST_POSTGRES__ = postgres;
    process.env.TEST_DATABASE_URL = postgres.url;
  }
}
