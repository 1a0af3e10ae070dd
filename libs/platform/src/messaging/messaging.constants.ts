/** Every subject the suite publishes. */
export const SUBJECTS = {
  IDENTITY_REGISTERED: 'auth.identity.registered',
  IDENTITY_UPDATED: 'auth.identity.updated',
  REVOCATIONS: 'auth.revocations',
  /**
   * The revocations that may cover a token signing NATS messages (a client, an events token),
   * published here as well as on `auth.revocations`: a starting replica replays these for as
   * long as AUTH keeps them (AUTH_STREAM_MAX_AGE_MS), and the rest for 15 minutes only.
   */
  STORED_REVOCATIONS: 'auth.revocations.stored',
  USER_DELETED: 'users.deleted',
  ORDER_CREATED: 'orders.created',
  ORDER_CANCELLED: 'orders.cancelled',
} as const;

/** How long JetStream remembers a Nats-Msg-Id to drop duplicates (a relay retry after a crash). */
export const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/**
 * How long a stream keeps a message (JetStream `max_age`), and how long after the broker stored
 * it a consumer processes it: a consumer that was down for less can still process everything
 * published meanwhile. auth keeps the public keys it retires listed for longer than this, so
 * every stored message's token still verifies.
 */
export const STREAM_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * AUTH carries the revocations (`auth.revocations.stored`), which must outlive every message
 * they may refuse: such a revocation can precede the message by a token's lifetime plus clock
 * tolerance and auth's client cache (~16 min), and the message is processed up to
 * STREAM_MAX_AGE_MS after it was stored. So AUTH keeps its messages an hour longer; its other
 * events are still processed only within STREAM_MAX_AGE_MS (consumers refuse older ones).
 */
export const AUTH_STREAM_MAX_AGE_MS = STREAM_MAX_AGE_MS + 60 * 60 * 1000;

/** JetStream streams: each service owns the one holding its own subject prefix (SPEC §5). */
export const STREAMS = {
  AUTH: { name: 'AUTH', subjects: ['auth.>'], maxAgeMs: AUTH_STREAM_MAX_AGE_MS },
  USERS: { name: 'USERS', subjects: ['users.>'], maxAgeMs: STREAM_MAX_AGE_MS },
  ORDERS: { name: 'ORDERS', subjects: ['orders.>'], maxAgeMs: STREAM_MAX_AGE_MS },
} as const;

export type StreamName = keyof typeof STREAMS;

/** Injection tokens. */
export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');
export const MESSAGE_HEADERS_PROVIDER = Symbol('MESSAGE_HEADERS_PROVIDER');

/**
 * NATS header of auth.identity.* events: auth's version of the identity, increased by every
 * change in commit order. A header, not a payload field: consumers that validate the payload
 * strictly (users before it knew the version) keep accepting the events.
 */
export const IDENTITY_VERSION_HEADER = 'Identity-Version';
