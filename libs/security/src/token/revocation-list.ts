import {
  CLOCK_TOLERANCE_SECONDS,
  USER_ACCESS_TOKEN_TTL_SECONDS,
  type AccessTokenClaims,
} from '../contract/access-token.claims';
import { STREAM_MAX_AGE_MS } from '@app/platform';
import type { RevocationEvent } from '../contract/revocation.event';
import { SecurityError } from '../security.error';

/** How long an entry that is not bound to one token's `exp` is kept: every token it covers is expired by then. */
export const REVOCATION_RETENTION_SECONDS = USER_ACCESS_TOKEN_TTL_SECONDS + CLOCK_TOLERANCE_SECONDS;

/**
 * How much longer an entry is kept that may cover a service token signing NATS messages: a
 * message it signed is verified at the time the broker stored it, and waits in its stream for
 * up to STREAM_MAX_AGE_MS.
 */
export const STORED_MESSAGE_RETENTION_SECONDS = STREAM_MAX_AGE_MS / 1000;

/**
 * How long after the broker stored it a NATS message is still processed, in seconds: as long
 * as a stream keeps a message. AUTH keeps its messages an hour longer (AUTH_STREAM_MAX_AGE_MS),
 * so that every revocation which may refuse a message outlives it in AUTH and a replica started
 * meanwhile can replay it; one of AUTH's own events older than this is refused for the same
 * reason (this deny-list forgets such revocations after it).
 */
export const MAX_STORED_MESSAGE_AGE_SECONDS = STORED_MESSAGE_RETENTION_SECONDS;

/** Whether a message the broker stored at `storedAt` is past MAX_STORED_MESSAGE_AGE_SECONDS. */
export function storedTooLongAgo(storedAt: Date): boolean {
  return Date.now() - storedAt.getTime() > MAX_STORED_MESSAGE_AGE_SECONDS * 1000;
}

/**
 * Until when a revocation of a token that signs NATS messages must be kept (seconds): the last
 * message it could sign is stored by `exp` + tolerance and stays in its stream that long again.
 */
export function storedMessagesDeadline(exp: number): number {
  return exp + CLOCK_TOLERANCE_SECONDS + STORED_MESSAGE_RETENTION_SECONDS;
}

/** Whether a revocation may cover a token that signs NATS messages (see RevocationEvent). */
export function coversStoredMessages(event: RevocationEvent): boolean {
  return event.type === 'client' || (event.type === 'jti' && event.signsEvents === true);
}

const MAX_ID_LENGTH = 256;

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH;
}

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** Validates an `auth.revocations` payload; anything else is refused, not guessed at. */
export function parseRevocationEvent(value: unknown): RevocationEvent | null {
  if (typeof value !== 'object' || value === null) return null;
  const event = value as Record<string, unknown>;
  if (!isSeconds(event.at)) return null;
  switch (event.type) {
    case 'jti':
      if (!isId(event.jti) || !isSeconds(event.exp)) return null;
      // The marker only lengthens how long the entry is kept: any other value still revokes.
      return event.signsEvents === true
        ? { type: 'jti', jti: event.jti, exp: event.exp, at: event.at, signsEvents: true }
        : { type: 'jti', jti: event.jti, exp: event.exp, at: event.at };
    case 'sid':
      return isId(event.sid) ? { type: 'sid', sid: event.sid, at: event.at } : null;
    case 'sub':
      return isId(event.sub) ? { type: 'sub', sub: event.sub, at: event.at } : null;
    case 'client':
      return isId(event.clientId)
        ? { type: 'client', clientId: event.clientId, at: event.at }
        : null;
    default:
      return null;
  }
}

/**
 * The in-memory deny-list of one replica, fed by `auth.revocations` (SPEC §3). Times are JWT
 * NumericDates (seconds). Checked on every request, cache hit or not.
 *
 * - `jti`: that token.
 * - `sid`: every token of the session, whenever issued: a revoked refresh family never
 *   issues again, so a token of it issued after `at` (by a refresh that raced the revocation)
 *   is no more valid than the others. auth's own check decides the same way.
 * - `sub` / `client`: every token of the user / client issued before `at` (`iat < at`).
 *
 * An entry is kept until no token it covers can be presented any more: a user token's entry
 * until that token expired; a `client` entry, or that of a token signing events, a stream's
 * message age longer, since a message is verified at the time it was stored. A message stored
 * before the revocation is refused too, as auth's own event guard refuses it: a revoked
 * publisher's queued messages are dead-lettered (recorded), not processed.
 */
export class RevocationList {
  /** jti → until when the entry is kept. */
  private readonly byJti = new Map<string, number>();
  private readonly bySid = new Map<string, Cutoff>();
  private readonly bySub = new Map<string, Cutoff>();
  private readonly byClient = new Map<string, Cutoff>();
  private lastPrune = 0;

  constructor(private readonly now: () => number = () => Date.now() / 1000) {}

  add(event: RevocationEvent): void {
    const stored = coversStoredMessages(event) ? STORED_MESSAGE_RETENTION_SECONDS : 0;
    switch (event.type) {
      case 'jti': {
        const keepUntil = stored
          ? storedMessagesDeadline(event.exp)
          : event.exp + CLOCK_TOLERANCE_SECONDS;
        this.byJti.set(event.jti, Math.max(keepUntil, this.byJti.get(event.jti) ?? 0));
        break;
      }
      case 'sid':
        addCutoff(this.bySid, event.sid, event.at, stored);
        break;
      case 'sub':
        addCutoff(this.bySub, event.sub, event.at, stored);
        break;
      case 'client':
        addCutoff(this.byClient, event.clientId, event.at, stored);
        break;
    }
    this.pruneNowAndThen();
  }

  /** Throws TOKEN_REVOKED when a revocation covers the token. */
  check(claims: AccessTokenClaims): void {
    if (this.isRevoked(claims)) throw new SecurityError('TOKEN_REVOKED', 'access token is revoked');
  }

  isRevoked(claims: AccessTokenClaims): boolean {
    if (this.byJti.has(claims.jti)) return true;
    if (claims.sid !== undefined && this.bySid.has(claims.sid)) return true;
    const subAt = this.bySub.get(claims.sub)?.at;
    if (subAt !== undefined && claims.iat < subAt) return true;
    const clientAt = this.byClient.get(claims.client_id)?.at;
    return clientAt !== undefined && claims.iat < clientAt;
  }

  get size(): number {
    return this.byJti.size + this.bySid.size + this.bySub.size + this.byClient.size;
  }

  /** Forgets entries that can no longer match a token that may still be presented. */
  prune(): void {
    const now = this.now();
    this.lastPrune = now;
    for (const [jti, keepUntil] of this.byJti) if (keepUntil < now) this.byJti.delete(jti);
    for (const map of [this.bySid, this.bySub, this.byClient]) {
      for (const [key, { keepUntil }] of map) if (keepUntil < now) map.delete(key);
    }
  }

  private pruneNowAndThen(): void {
    if (this.now() - this.lastPrune >= 10) this.prune();
  }
}

/** `iat < at` is revoked (for `sid`, every token); kept until `keepUntil`. */
interface Cutoff {
  at: number;
  keepUntil: number;
}

function addCutoff(map: Map<string, Cutoff>, key: string, at: number, stored: number): void {
  const keepUntil = at + REVOCATION_RETENTION_SECONDS + stored;
  const known = map.get(key);
  map.set(key, {
    at: Math.max(at, known?.at ?? 0),
    keepUntil: Math.max(keepUntil, known?.keepUntil ?? 0),
  });
}
