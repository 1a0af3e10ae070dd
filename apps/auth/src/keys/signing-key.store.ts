import { AUTH_STREAM_MAX_AGE_MS, ReadinessService } from '@app/platform';
import {
  CLOCK_TOLERANCE_SECONDS,
  MAX_ACCESS_TOKEN_TTL_SECONDS,
  type AllowedAlgorithm,
  type RetiredKey,
} from '@app/security';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DataSource, type EntityManager } from 'typeorm';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config';
import { AuditService } from '../audit/audit.service';
import { CLOCK, type Clock } from '../common/clock';
import { returnedRows } from '../common/sql';
import { encodeHeader } from '../tokens/jws';
import { KeyEncryption } from './key-encryption';
import { generateSigningKeyPair, toPublicJwk, type PublicJwk } from './key-pair';

interface KeyRow {
  kid: string;
  alg: AllowedAlgorithm;
  public_jwk: PublicJwk;
  /** NULL once the key is retired. */
  private_key: string | null;
  created_at: Date;
  activated_at: Date | null;
  retired_at: Date | null;
}

export interface ActiveSigningKey {
  kid: string;
  alg: AllowedAlgorithm;
  privateKey: KeyObject;
  /** base64url of `{alg, typ: 'at+jwt', kid}`, computed once. */
  encodedHeader: string;
}

export class KeyRotationRefused extends Error {
  readonly code = 'ERR_KEY_ROTATION_REFUSED';
}

/** A retired key as the retired key set lists it: its signing period as `iat` and `exp`. */
type RetiredJwk = PublicJwk & { iat: number; exp: number };

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * Reloads missed before the replica reports itself not ready: it would go on signing with a key
 * the others may have retired (and, 15 min later, dropped from the JWKS).
 */
const STALE_AFTER_RELOADS = 3;

/**
 * The most retired keys kept past their JWKS retention (the retired key set). A week of keys at
 * the default 24 h rotation is 8; rotating every minute (the shortest KEY_ROTATION_INTERVAL_SECONDS)
 * would make 10,080, which every replica re-reads every few seconds and serves to
 * anyone. At 1,000 (~180 kB) the set still covers 1,000 rotations of stored messages.
 */
export const MAX_RETIRED_KEYS = 1000;

/**
 * The MAX_RETIRED_KEYS most recently retired keys (`$3` is the cap): what reload serves and
 * what a rotation keeps, one ordering for both.
 */
const NEWEST_RETIRED_KIDS = `SELECT kid FROM signing_keys WHERE retired_at IS NOT NULL
  ORDER BY retired_at DESC, kid LIMIT $3`;

/** Serialises rotations of every replica (pg_advisory_xact_lock key). */
const ROTATION_LOCK = 0x61757468;

/**
 * Signing keys in PostgreSQL, private halves encrypted (AES-256-GCM). Life of a key:
 * `next` (published, not signing) → `current` (signing) → `previous` (its private half deleted;
 * in the JWKS until every token it signed has expired) → retired (only in the retired key set,
 * with its signing period, until every NATS message stored while its tokens were valid has left
 * its stream) → deleted. Each replica re-reads the table every few seconds, so a rotation made
 * by one replica reaches the others without a restart.
 */
@Injectable()
export class SigningKeyStore implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('SigningKeys');
  private active: ActiveSigningKey | null = null;
  private publicKeys = new Map<string, KeyObject>();
  private jwks: PublicJwk[] = [];
  private retired = new Map<string, RetiredKey>();
  /** The retired key set as served (`retiredKeysJson`). */
  private retiredJwksBody = '{"keys":[]}';
  private timer: NodeJS.Timeout | null = null;
  private lastReload = 0;
  /** performance.now() of the last reload that succeeded (real time, whatever the clock says). */
  private lastSuccessfulReload = 0;
  constructor(
    private readonly dataSource: DataSource,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly encryption: KeyEncryption,
    private readonly readiness: ReadinessService,
  ) {}

  /**
   * How long a retired key stays published: the longest token lifetime, the verifiers' clock
   * tolerance, and the reload interval during which another replica may still sign with it.
   */
  get retentionMs(): number {
    return (
      (MAX_ACCESS_TOKEN_TTL_SECONDS +
        CLOCK_TOLERANCE_SECONDS +
        2 * this.config.KEY_RELOAD_INTERVAL_SECONDS) *
      1000
    );
  }

  /**
   * How long a retired key stays in the retired key set: a message stored while a token it
   * signed was valid (up to `retentionMs` after retirement) stays in its stream this long (in
   * AUTH, the longest-kept stream: its revocations are replayed that long after they were stored).
   */
  get retiredRetentionMs(): number {
    return this.retentionMs + AUTH_STREAM_MAX_AGE_MS;
  }

  async onModuleInit(): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [ROTATION_LOCK]);
      const rows: KeyRow[] = await manager.query('SELECT * FROM signing_keys');
      const now = new Date(this.clock.now());
      if (!rows.some((row) => row.activated_at && !row.retired_at)) {
        // First start: nobody can have cached a JWKS yet, so the first key may sign at once.
        await this.insertKey(manager, now, now);
      }
      if (!rows.some((row) => !row.activated_at)) await this.insertKey(manager, now, null);
    });
    await this.reload();
    this.warnIfRetiredKeysFallShort();
    this.readiness.register('signing-keys', async () => {
      const sinceMs = performance.now() - this.lastSuccessfulReload;
      const intervalMs = this.config.KEY_RELOAD_INTERVAL_SECONDS * 1000;
      if (sinceMs > STALE_AFTER_RELOADS * intervalMs) {
        throw new Error(`signing keys last reloaded ${Math.round(sinceMs / 1000)} s ago`);
      }
    });
    this.timer = setInterval(
      () => void this.reloadOrWarn(),
      this.config.KEY_RELOAD_INTERVAL_SECONDS * 1000,
    );
    this.timer.unref();
  }

  /**
   * At a rotation interval under AUTH_STREAM_MAX_AGE_MS / MAX_RETIRED_KEYS (~10 min), a consumer
   * down for more than MAX_RETIRED_KEYS rotations finds messages whose key is gone, and
   * dead-letters them.
   */
  private warnIfRetiredKeysFallShort(): void {
    const coveredMs = this.config.KEY_ROTATION_INTERVAL_SECONDS * 1000 * MAX_RETIRED_KEYS;
    if (coveredMs >= AUTH_STREAM_MAX_AGE_MS) return;
    this.logger.warn(
      {
        rotationIntervalSeconds: this.config.KEY_ROTATION_INTERVAL_SECONDS,
        maxRetiredKeys: MAX_RETIRED_KEYS,
        coveredHours: Math.floor(coveredMs / 3_600_000),
      },
      'retired keys cover less than a stream keeps messages: events queued longer are refused',
    );
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The key that signs now. */
  current(): ActiveSigningKey {
    if (!this.active) throw new Error('no signing key loaded');
    return this.active;
  }

  /** A published key by `kid`; an unknown kid re-reads the table at most once a second. */
  publicKey(kid: string): Promise<KeyObject | undefined> {
    return this.findOrReload(() => this.publicKeys.get(kid));
  }

  /** A retired key by `kid`, for messages stored before it retired; re-reads as `publicKey` does. */
  retiredKey(kid: string): Promise<RetiredKey | undefined> {
    return this.findOrReload(() => this.retired.get(kid));
  }

  /** `find()`, and on a miss once more after re-reading the table (at most once a second). */
  private async findOrReload<T>(find: () => T | undefined): Promise<T | undefined> {
    const known = find();
    if (known || this.clock.now() - this.lastReload < 1000) return known;
    await this.reload();
    return find();
  }

  /** RFC 7517 key set: next, current and previous public keys, never a private member. */
  publishedKeys(): { keys: PublicJwk[] } {
    return { keys: this.jwks };
  }

  /**
   * Every retired key still kept, with its signing period (`iat`: it started signing, `exp`: the
   * last moment a replica may still have signed with it, retirement + 2 reload intervals; the
   * members OpenID Federation's historical keys use). Verifiers consult it only for
   * NATS messages, and only for tokens issued within that period.
   * Serialised once per reload, not per request (a week of keys).
   */
  retiredKeysJson(): string {
    return this.retiredJwksBody;
  }

  async reload(): Promise<void> {
    const now = this.clock.now();
    // The unretired keys, those still in the JWKS, and the newest MAX_RETIRED_KEYS retired
    // within the week (rows beyond the cap that a replica of an older version left are not read).
    const rows: KeyRow[] = await this.dataSource.query(
      `SELECT * FROM signing_keys
        WHERE retired_at IS NULL OR retired_at > $2
           OR (retired_at > $1 AND kid IN (${NEWEST_RETIRED_KIDS}))
        ORDER BY retired_at DESC NULLS FIRST, kid`,
      [new Date(now - this.retiredRetentionMs), new Date(now - this.retentionMs), MAX_RETIRED_KEYS],
    );
    const published = rows.filter(
      (row) => !row.retired_at || row.retired_at.getTime() > now - this.retentionMs,
    );
    // Key objects are made once per kid, not on every reload (a week of retired keys).
    const keyObject = (row: KeyRow) =>
      this.publicKeys.get(row.kid) ??
      (this.retired.get(row.kid)?.key as KeyObject | undefined) ??
      createPublicKey({ key: row.public_jwk as never, format: 'jwk' });
    const publicKeys = new Map<string, KeyObject>();
    for (const row of published) publicKeys.set(row.kid, keyObject(row));
    const retired = new Map<string, RetiredKey>();
    const retiredJwks: RetiredJwk[] = [];
    for (const row of rows) {
      if (!row.retired_at || !row.activated_at) continue;
      // Most recently retired first: the cap keeps the ones the rotation's DELETE keeps.
      if (retiredJwks.length === MAX_RETIRED_KEYS) break;
      // Another replica may still sign with it until its next reload: the period ends there.
      const period = {
        iat: seconds(row.activated_at),
        exp: seconds(row.retired_at) + 2 * this.config.KEY_RELOAD_INTERVAL_SECONDS,
      };
      retired.set(row.kid, { key: keyObject(row), activatedAt: period.iat, retiredAt: period.exp });
      retiredJwks.push({ ...row.public_jwk, ...period });
    }
    const signing = rows.find((row) => row.activated_at && !row.retired_at);
    if (signing && signing.kid !== this.active?.kid) {
      if (!signing.private_key) throw new Error(`signing key ${signing.kid} has no private half`);
      this.active = {
        kid: signing.kid,
        alg: signing.alg,
        privateKey: createPrivateKey(this.encryption.decrypt(signing.private_key, signing.kid)),
        encodedHeader: encodeHeader({ alg: signing.alg, typ: 'at+jwt', kid: signing.kid }),
      };
    }
    this.publicKeys = publicKeys;
    this.jwks = published.map((row) => row.public_jwk);
    this.retired = retired;
    this.retiredJwksBody = JSON.stringify({ keys: retiredJwks });
    this.lastReload = now;
    this.lastSuccessfulReload = performance.now();
  }

  /**
   * `next` starts signing, `current` becomes `previous` and loses its private half, a new `next`
   * is published, and keys no stored message can need are deleted. `onlyIfOlderThanMs` makes the
   * scheduled rotation of several replicas rotate once. (A replica keeps signing with the key
   * it holds in memory until its next reload, which `retentionMs` allows for.)
   */
  async rotate(reason: 'manual' | 'scheduled', onlyIfOlderThanMs?: number): Promise<boolean> {
    /** Retirement times of keys the cap deleted before their week was over. */
    let droppedEarly: Date[] = [];
    const rotated = await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [ROTATION_LOCK]);
      const now = new Date(this.clock.now());
      const rows: KeyRow[] = await manager.query('SELECT * FROM signing_keys');
      const current = rows.find((row) => row.activated_at && !row.retired_at);
      const next = rows.find((row) => !row.activated_at);
      if (
        onlyIfOlderThanMs !== undefined &&
        current?.activated_at &&
        now.getTime() - current.activated_at.getTime() < onlyIfOlderThanMs
      ) {
        return false;
      }
      // A verifier that cached the JWKS before `next` appeared must have had time to see it.
      const leadMs = this.config.KEY_PUBLISH_LEAD_SECONDS * 1000;
      if (!next || now.getTime() - next.created_at.getTime() < leadMs) {
        throw new KeyRotationRefused(
          `the next key has been published for less than ${this.config.KEY_PUBLISH_LEAD_SECONDS} s`,
        );
      }
      if (current) {
        await manager.query('UPDATE signing_keys SET retired_at = $2 WHERE kid = $1', [
          current.kid,
          now,
        ]);
      }
      // Every retired key, this one and any a replica of an older version retired meanwhile.
      await manager.query(
        'UPDATE signing_keys SET private_key = NULL WHERE retired_at IS NOT NULL AND private_key IS NOT NULL',
      );
      await manager.query('UPDATE signing_keys SET activated_at = $2 WHERE kid = $1', [
        next.kid,
        now,
      ]);
      await this.insertKey(manager, now, null);
      // Keys no stored message can need, and retired keys beyond the newest MAX_RETIRED_KEYS
      // once they have left the JWKS (a key still in the JWKS verifies live tokens).
      const weekAgo = new Date(now.getTime() - this.retiredRetentionMs);
      const deleted = returnedRows<{ retired_at: Date }>(
        await manager.query(
          `DELETE FROM signing_keys
            WHERE retired_at < $1
               OR (retired_at < $2 AND kid NOT IN (${NEWEST_RETIRED_KIDS}))
            RETURNING retired_at`,
          [weekAgo, new Date(now.getTime() - this.retentionMs), MAX_RETIRED_KEYS],
        ),
      );
      droppedEarly = deleted
        .filter((row) => row.retired_at >= weekAgo)
        .map((row) => row.retired_at);
      this.audit.record('key_rotation', 'success', {
        reason,
        kid: next.kid,
        retired: current?.kid,
      });
      return true;
    });
    if (rotated && droppedEarly.length > 0) {
      // Rotations faster than the cap allows (manual ones, or a short interval): a consumer
      // down since before the newest of these dead-letters the messages they signed.
      this.logger.warn(
        {
          dropped: droppedEarly.length,
          maxRetiredKeys: MAX_RETIRED_KEYS,
          newestRetiredAt: new Date(
            droppedEarly.reduce((newest, date) => Math.max(newest, date.getTime()), 0),
          ),
        },
        'retired keys dropped within a week: queued messages they signed will be refused',
      );
    }
    // The rotation has committed: a failed reload must not report it as failed. This replica
    // keeps signing with the old key (still valid, still published) until the next timed reload.
    if (rotated) await this.reloadOrWarn();
    return rotated;
  }

  /**
   * A reload that may fail (database briefly away): the keys loaded before stay in use, and
   * the error is logged through the `err` serializer (its message and code, never a key).
   */
  private async reloadOrWarn(): Promise<void> {
    try {
      await this.reload();
    } catch (error) {
      this.logger.warn(
        { err: error },
        'signing key reload failed: the keys loaded before stay in use',
      );
    }
  }

  private async insertKey(manager: EntityManager, now: Date, activatedAt: Date | null) {
    const alg = this.config.SIGNING_ALG;
    const { kid, publicKey, privateKey } = generateSigningKeyPair(alg);
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await manager.query(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_key, created_at, activated_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        kid,
        alg,
        toPublicJwk(publicKey, kid, alg),
        this.encryption.encrypt(pem, kid),
        now,
        activatedAt,
      ],
    );
  }
}
