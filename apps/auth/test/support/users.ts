import { totpCode } from '../../src/mfa/totp';
import {
  asJson,
  bearer,
  postJson,
  refreshCookieOf,
  STRONG_PASSWORD,
  uniqueEmail,
  type AuthTestApp,
} from './auth-test-app';

export interface LoggedInUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export async function registerAndLogin(auth: AuthTestApp, label = 'user'): Promise<LoggedInUser> {
  const email = uniqueEmail(label);
  const registered = await postJson(`${auth.url}/auth/register`, {
    email,
    password: STRONG_PASSWORD,
    displayName: label,
  });
  if (registered.status !== 201)
    throw new Error(`register: ${registered.status} ${await registered.text()}`);
  const { id } = await registered.json().then(asJson);
  return { id, ...(await login(auth, email, STRONG_PASSWORD)) };
}

export async function login(auth: AuthTestApp, email: string, password: string) {
  const response = await postJson(`${auth.url}/auth/login`, { email, password });
  if (response.status !== 200)
    throw new Error(`login: ${response.status} ${await response.text()}`);
  const body = await response.json().then(asJson);
  return {
    email,
    password,
    accessToken: body.accessToken as string,
    refreshToken: refreshCookieOf(response)!,
  };
}

export async function adminToken(auth: AuthTestApp): Promise<string> {
  return (await login(auth, auth.adminEmail, auth.adminPassword)).accessToken;
}

export function refresh(auth: AuthTestApp, token: string, headers: Record<string, string> = {}) {
  return fetch(`${auth.url}/auth/refresh`, {
    method: 'POST',
    headers: { cookie: `refresh_token=${token}`, ...headers },
  });
}

/** Revocation events written to the outbox (the relay publishes them to auth.revocations). */
export async function revocationEvents(
  auth: AuthTestApp,
  subject = 'auth.revocations',
): Promise<Record<string, unknown>[]> {
  const rows: { payload: Record<string, unknown> }[] = await auth.db.query(
    'SELECT payload FROM outbox_messages WHERE subject = $1 ORDER BY created_at',
    [subject],
  );
  return rows.map((row) => row.payload);
}

/** Enrols `user` in TOTP (setup, then confirm with a current code); returns the secret. */
export async function enrolTotp(auth: AuthTestApp, user: LoggedInUser): Promise<string> {
  return (await enrolTotpWithRecoveryCodes(auth, user)).secret;
}

/** As enrolTotp, also returning the recovery codes the confirmation answered. */
export async function enrolTotpWithRecoveryCodes(
  auth: AuthTestApp,
  user: LoggedInUser,
): Promise<{ secret: string; recoveryCodes: string[] }> {
  const setup = await fetch(`${auth.url}/auth/mfa/totp/setup`, {
    method: 'POST',
    headers: bearer(user.accessToken),
  });
  expect(setup.status).toBe(200);
  const { secret, otpauthUri } = await setup.json().then(asJson);
  expect(otpauthUri).toMatch(/^otpauth:\/\/totp\//);
  const confirm = await postJson(
    `${auth.url}/auth/mfa/totp/confirm`,
    { code: totpCode(secret as string, auth.clock.now()) },
    bearer(user.accessToken),
  );
  expect(confirm.status).toBe(200);
  const { recoveryCodes } = (await confirm.json()) as { recoveryCodes: string[] };
  auth.clock.advance(30_000); // the enrolment code's step is used up
  return { secret: secret as string, recoveryCodes };
}
