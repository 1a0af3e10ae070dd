import { randomBytes } from 'node:crypto';
import { createTestDatabase } from '../../../test/support/test-infra';
import { Identity } from '../src/identities/identity.entity';
import { startAuthTestApp } from './support/auth-test-app';

let database: { url: string; drop(): Promise<void> };
// Both starts must decrypt the signing keys the first one stored.
const env = { KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
beforeAll(async () => {
  database = await createTestDatabase('auth_admin_bootstrap');
});
afterAll(async () => database?.drop());

const admins = (auth: Awaited<ReturnType<typeof startAuthTestApp>>) =>
  auth.db
    .getRepository(Identity)
    .createQueryBuilder('identity')
    .where(`'admin' = ANY(identity.roles)`)
    .getMany();

it('creates the first admin once, and never again while an admin exists under another email', async () => {
  const first = await startAuthTestApp('unused', env, { databaseUrl: database.url });
  try {
    expect((await admins(first)).map((a) => a.email)).toEqual(['admin@example.test']);
    // The admin moves to another address; ADMIN_EMAIL / ADMIN_PASSWORD stay in the environment.
    await first.db.query(`UPDATE identities SET email = 'ops@example.test' WHERE email = $1`, [
      'admin@example.test',
    ]);
  } finally {
    await first.close();
  }
  const restarted = await startAuthTestApp('unused', env, { databaseUrl: database.url });
  try {
    // No second admin with the bootstrap password.
    expect((await admins(restarted)).map((a) => a.email)).toEqual(['ops@example.test']);
    expect(
      await restarted.db.getRepository(Identity).findOneBy({ email: 'admin@example.test' }),
    ).toBeNull();
  } finally {
    await restarted.close();
  }
});
