import {
  asJson,
  bearer,
  postJson,
  startAuthTestApp,
  type AuthTestApp,
} from './support/auth-test-app';
import { adminToken } from './support/users';

// POST /admin/clients (RFC 7591): the client_name becomes the client id, so it must look like
// one (CLIENT_ID_PATTERN, a lower-case service name) before anything reaches the database.
let auth: AuthTestApp;
let admin: string;
beforeAll(async () => {
  auth = await startAuthTestApp('auth_admin_clients');
  admin = await adminToken(auth);
});
afterAll(async () => auth?.close());

describe('creating a client: client_name', () => {
  const metadata = {
    scope: 'orders:read',
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'client_secret_basic',
    audience: ['orders'],
  };
  const create = (clientName: string) =>
    postJson(`${auth.url}/admin/clients`, { ...metadata, client_name: clientName }, bearer(admin));
  const clientIds = async () =>
    (await auth.db.query('SELECT client_id FROM oauth_clients ORDER BY client_id')).map(
      (row: { client_id: string }) => row.client_id,
    );

  // Upper case, a single character (ids have at least two), a NUL byte (PostgreSQL refuses it
  // in text: it would be a 500 if it reached the INSERT).
  it.each(['Inventory', 'a', 'inv\u0000'])(
    'answers 400 to %j and stores no client',
    async (clientName) => {
      const before = await clientIds();
      const response = await create(clientName);
      expect(response.status).toBe(400);
      const { error } = await response.json().then(asJson);
      expect(error.message).toContain('client_name must be a lower-case service name');
      expect(await clientIds()).toEqual(before);
    },
  );

  it('creates the client when only the name changes to a valid one (the 400s are about the name)', async () => {
    const response = await create('inventory-2');
    expect(response.status).toBe(201);
    expect(await clientIds()).toContain('inventory-2');
  });
});
