/**
 * Payload of `auth.revocations` (published by auth only). Every resource server keeps an
 * in-memory deny-list fed by these, so a revoked token is refused within a second without a
 * call to auth per request. An entry covering only user tokens can be forgotten once every
 * token it covers has expired (at most USER_ACCESS_TOKEN_TTL_SECONDS after `at`). One that can
 * cover a token signing NATS messages (`client`, and `jti` with `signsEvents`) is kept as long
 * again as a stream keeps a message: such a message is verified at the time it was stored, so
 * its token's expiry does not end it. auth also publishes those on `auth.revocations.stored`,
 * which a starting replica replays for that long.
 */
export type RevocationEvent =
  /**
   * One access token, by its `jti`, until its `exp`. `signsEvents`: the token's audience is
   * `events`, so messages it signed may wait in streams after it expired.
   */
  | { type: 'jti'; jti: string; exp: number; at: number; signsEvents?: true }
  /** Every token of one login session (refresh family `sid`) issued up to `at`. */
  | { type: 'sid'; sid: string; at: number }
  /** Every token of a user (`sub`) issued before `at` (password change, disabling, deletion). */
  | { type: 'sub'; sub: string; at: number }
  /** Every token of a service client issued before `at` (client deleted or secret rotated). */
  | { type: 'client'; clientId: string; at: number };
