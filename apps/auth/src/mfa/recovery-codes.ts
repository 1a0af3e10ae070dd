import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { returnedRows } from '../common/sql';

/** How many recovery codes an enrolment (or a regeneration) hands out. */
export const RECOVERY_CODE_COUNT = 10;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'; // RFC 4648 base32, lower case
/**
 * 24 base32 characters, 120 random bits, shown as six groups (`abcd-efgh-ijkl-mnop-qrst-uvwx`):
 * NIST SP 800-63B §5.1.2.2 lets a look-up secret of at least 112 bits be stored as a plain
 * hash, since no offline search can get through that many.
 */
const CODE_LENGTH = 24;

/** What `code` of POST /auth/login/mfa may be instead of 6 digits: any case, dashes optional. */
export const RECOVERY_CODE_PATTERN = /^[A-Za-z2-7]{4}(-?[A-Za-z2-7]{4}){5}$/;

export function isRecoveryCode(code: string): boolean {
  return RECOVERY_CODE_PATTERN.test(code);
}

export function newRecoveryCode(): string {
  // 5 bits from each byte: 256 is a multiple of 32, so every character is equally likely.
  const bytes = randomBytes(CODE_LENGTH);
  const plain = Array.from(bytes, (byte) => ALPHABET[byte & 31]).join('');
  return plain.match(/.{4}/g)!.join('-');
}

/** The stored form: bound to the user, so a code can only ever be looked up under its owner. */
function recoveryCodeHash(identityId: string, code: string): Buffer {
  const normalized = code.toLowerCase().replace(/-/g, '');
  return createHash('sha256').update(`${identityId}:${normalized}`).digest();
}

/**
 * TOTP recovery codes: single-use codes a user types in place of a TOTP code when the
 * authenticator is lost. Every method runs in the caller's transaction, under the identity's
 * row lock the caller holds.
 */
@Injectable()
export class RecoveryCodes {
  /** Replaces the user's codes with a new set and returns it; shown once, stored as hashes. */
  async replace(manager: EntityManager, identityId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.removeAll(manager, identityId);
    await manager.query(
      `INSERT INTO mfa_recovery_codes (identity_id, code_hash)
       SELECT $1, unnest($2::bytea[])`,
      [identityId, codes.map((code) => recoveryCodeHash(identityId, code))],
    );
    return codes;
  }

  /** Uses up `code` if it is one of the user's unused codes; true when it was. */
  async consume(manager: EntityManager, identityId: string, code: string): Promise<boolean> {
    const used = returnedRows(
      await manager.query(
        `UPDATE mfa_recovery_codes SET used_at = now()
         WHERE identity_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING 1`,
        [identityId, recoveryCodeHash(identityId, code)],
      ),
    );
    return used.length === 1;
  }

  async removeAll(manager: EntityManager, identityId: string): Promise<void> {
    await manager.query('DELETE FROM mfa_recovery_codes WHERE identity_id = $1', [identityId]);
  }
}
