/** JetStream streams: each service owns the one holding its own subject prefix (SPEC §5). */
export const STREAMS = {
  AUTH: { name: 'AUTH', subjects: ['auth.>'] },
  USERS: { name: 'USERS', subjects: ['users.>'] },
  ORDERS: { name: 'ORDERS', subjects: ['orders.>'] },
} as const;

export type StreamName = keyof typeof STREAMS;

/** Every subject the suite publishes. */
export const SUBJECTS = {
  IDENTITY_REGISTERED: 'auth.identity.registered',
  IDENTITY_UPDATED: 'auth.identity.updated',
  REVOCATIONS: 'auth.revocations',
  /**
   * The revocations that may cover a token signing NATS messages (a client, an events token),
   * published here as well as on `auth.revocations`: a starting replica replays these for as
   * long as a stream keeps a message, and the rest for 15 minutes only.
   */
  STORED_REVOCATIONS: 'auth.revocations.stored',
  USER_DELETED: 'users.deleted',
  ORDER_CREATED: 'orders.created',
  ORDER_CANCELLED: 'orders.cancelled',
} as const;

/** How long JetStream remembers a Nats-Msg-Id to drop duplicates (a relay retry after a crash). */
export const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/**
 * How long a stream keeps a message (JetStream `max_age`): a consumer that was down for less
 * can still process everything published meanwhile. auth keeps the public keys it retires
 * listed for longer than this, so every stored message's token still verifies.
 */
export const STREAM_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/** Injection tokens. */
export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');
export const MESSAGE_HEADERS_PROVIDER = Symbol('MESSAGE_HEADERS_PROVIDER');

/**
 * NATS header of auth.identity.* events: auth's version of the identity, increased by every
 * change in commit order. A header, not a payload field: consumers that validate the payload
 * strictly (users before it knew the version) keep accepting the events.
 */
export const IDENTITY_VERSION_HEADER = 'Identity-Version';
