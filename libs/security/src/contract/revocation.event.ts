/**
 * Payload of `auth.revocations` (published by auth only). Every resource server keeps an
 * in-memory deny-list fed by these, so a revoked token is refused within a second without a
 * call to auth per request. An entry can be forgotten once every token it covers has expired
 * (at most USER_ACCESS_TOKEN_TTL_SECONDS after `at`).
 */
export type RevocationEvent =
  /** One access token, by its `jti`, until its `exp`. */
  | { type: 'jti'; jti: string; exp: number; at: number }
  /** Every token of one login session (refresh family `sid`) issued up to `at`. */
  | { type: 'sid'; sid: string; at: number }
  /** Every token of a user (`sub`) issued before `at` (password change, disabling, deletion). */
  | { type: 'sub'; sub: string; at: number }
  /** Every token of a service client issued before `at` (client deleted or secret rotated). */
  | { type: 'client'; clientId: string; at: number };
