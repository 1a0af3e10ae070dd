import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { KeyEncryption } from './key-encryption';

const BATCH = 500;

export interface ResealCounts {
  signingKeys: number;
  totpSecrets: number;
  /** Ciphertexts neither key opens (logged by id, never by content). */
  unreadable: number;
}

/**
 * Finishes a KEY_ENCRYPTION_KEY rotation for what auth sealed itself: at start, with
 * KEY_ENCRYPTION_KEY_PREVIOUS set, every signing key and TOTP secret still sealed under the
 * previous key is sealed again under the current one. Replicas may do it at once: a row is
 * only replaced if it still holds the ciphertext that was read. Client secrets are HMACs, not
 * ciphertexts: they are re-hashed when the client next authenticates (ClientAuthenticator).
 */
@Injectable()
export class KeyResealer implements OnApplicationBootstrap {
  private readonly logger = new Logger('KeyEncryption');

  constructor(
    private readonly dataSource: DataSource,
    private readonly encryption: KeyEncryption,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.encryption.rotating) return;
    const counts = await this.resealAll();
    this.logger.log(counts, 'sealed again under the new KEY_ENCRYPTION_KEY');
  }

  async resealAll(): Promise<ResealCounts> {
    const counts: ResealCounts = { signingKeys: 0, totpSecrets: 0, unreadable: 0 };
    const keys: { kid: string; private_key: string }[] = await this.dataSource.query(
      'SELECT kid, private_key FROM signing_keys WHERE private_key IS NOT NULL',
    );
    for (const { kid, private_key: sealed } of keys) {
      const resealed = this.reseal(sealed, kid, { kid }, counts);
      if (!resealed) continue;
      await this.dataSource.query(
        'UPDATE signing_keys SET private_key = $3 WHERE kid = $1 AND private_key = $2',
        [kid, sealed, resealed],
      );
      counts.signingKeys++;
    }
    for (let after = ''; ;) {
      const rows: { id: string; totp_secret: string | null; totp_pending_secret: string | null }[] =
        await this.dataSource.query(
          `SELECT id, totp_secret, totp_pending_secret FROM identities
            WHERE (totp_secret IS NOT NULL OR totp_pending_secret IS NOT NULL) AND id::text > $1
            ORDER BY id::text LIMIT ${BATCH}`,
          [after],
        );
      for (const row of rows) {
        for (const column of ['totp_secret', 'totp_pending_secret'] as const) {
          const sealed = row[column];
          if (!sealed) continue;
          const resealed = this.reseal(sealed, `totp:${row.id}`, { userId: row.id }, counts);
          if (!resealed) continue;
          await this.dataSource.query(
            `UPDATE identities SET ${column} = $3 WHERE id = $1 AND ${column} = $2`,
            [row.id, sealed, resealed],
          );
          counts.totpSecrets++;
        }
      }
      if (rows.length < BATCH) break;
      after = rows[rows.length - 1].id;
    }
    return counts;
  }

  private reseal(
    sealed: string,
    associatedData: string,
    owner: Record<string, string>,
    counts: ResealCounts,
  ): string | undefined {
    try {
      return this.encryption.reseal(sealed, associatedData);
    } catch {
      counts.unreadable++;
      this.logger.error(owner, 'a ciphertext opens with neither KEY_ENCRYPTION_KEY value');
      return undefined;
    }
  }
}
