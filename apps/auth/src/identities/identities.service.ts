import { ApiError, IDENTITY_VERSION_HEADER, OutboxService, SUBJECTS } from '@app/platform';
import type { Role } from '@app/security';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config';
import { returnedRows } from '../common/sql';
import { RevocationService } from '../revocations/revocation.service';
import type { RegisterDto } from './dto/register.dto';
import { Identity } from './identity.entity';
import { PasswordHasher } from './password-hasher';
import { PASSWORD_POLICY, type PasswordPolicy } from './password-policy';

export interface IdentityChanges {
  roles?: Role[];
  region?: string;
  disabled?: boolean;
}

/**
 * The version an identity event carries (header Identity-Version): increased under the identity's row lock, so two
 * changes are versioned in the order they committed, whatever order the outbox relays (or
 * several of them) publish them in. Microseconds since the epoch when that is larger, so a
 * version is also comparable with the broker times users compared before events carried one.
 */
async function nextIdentityVersion(manager: EntityManager, id: string): Promise<string> {
  const rows: { version: string }[] = returnedRows(
    await manager.query(
      `UPDATE identities
          SET identity_version = GREATEST(identity_version + 1,
                (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
        WHERE id = $1
        RETURNING identity_version::text AS version`,
      [id],
    ),
  );
  return rows[0].version;
}

@Injectable()
export class IdentitiesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxService,
    private readonly hasher: PasswordHasher,
    private readonly revocations: RevocationService,
    @Inject(PASSWORD_POLICY) private readonly policy: PasswordPolicy,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  assertAcceptablePassword(password: string): void {
    const problem = this.policy.problem(password);
    if (problem) throw new ApiError(400, problem);
  }

  async register(
    input: RegisterDto,
    roles: Role[] = ['customer'],
  ): Promise<{ id: string; email: string }> {
    const region = input.region ?? this.config.REGIONS[0];
    if (!this.config.REGIONS.includes(region)) {
      throw new ApiError(400, `region must be one of: ${this.config.REGIONS.join(', ')}`);
    }
    this.assertAcceptablePassword(input.password);
    const email = normalizeEmail(input.email);
    const passwordHash = await this.hasher.hash(input.password);
    const id = randomUUID();
    await this.dataSource.transaction(async (manager) => {
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(Identity)
        .values({ id, email, passwordHash, roles, region })
        .orIgnore()
        .returning('id')
        .execute();
      if (inserted.raw.length === 0)
        throw new ApiError(409, 'an account with this email already exists');
      await this.outbox.enqueue(
        manager,
        SUBJECTS.IDENTITY_REGISTERED,
        {
          id,
          email,
          displayName: input.displayName,
          region,
          roles,
        },
        { [IDENTITY_VERSION_HEADER]: await nextIdentityVersion(manager, id) },
      );
    });
    return { id, email };
  }

  findByEmail(email: string): Promise<Identity | null> {
    return this.dataSource.getRepository(Identity).findOneBy({ email: normalizeEmail(email) });
  }

  /** Whether any account has the admin role (disabled ones included). */
  hasAdmin(): Promise<boolean> {
    return this.dataSource
      .getRepository(Identity)
      .createQueryBuilder('identity')
      .where(':role = ANY(identity.roles)', { role: 'admin' })
      .getExists();
  }

  findById(id: string): Promise<Identity | null> {
    return this.dataSource.getRepository(Identity).findOneBy({ id });
  }

  /** Keeps the session that made the change; every other session and token is revoked. */
  async changePassword(identity: Identity, newPassword: string, keepSid?: string): Promise<void> {
    this.assertAcceptablePassword(newPassword);
    const passwordHash = await this.hasher.hash(newPassword);
    await this.dataSource.transaction(async (manager) => {
      await manager.update(Identity, { id: identity.id }, { passwordHash });
      await this.revocations.revokeUser(manager, identity.id, 'password_change', keepSid);
    });
  }

  /**
   * Stores a stronger hash of a password that just verified against `identity.passwordHash`,
   * only if that hash is still the stored one: a password change committed meanwhile (the
   * hashing takes tens of milliseconds) must not be overwritten with the old password.
   */
  async rehash(identity: Identity, password: string): Promise<void> {
    const passwordHash = await this.hasher.hash(password);
    await this.dataSource
      .getRepository(Identity)
      .update({ id: identity.id, passwordHash: identity.passwordHash }, { passwordHash });
  }

  /** Admin change: published as auth.identity.updated; tokens carrying the old values are revoked. */
  async update(id: string, changes: IdentityChanges): Promise<Identity> {
    if (changes.region !== undefined && !this.config.REGIONS.includes(changes.region)) {
      throw new ApiError(400, `region must be one of: ${this.config.REGIONS.join(', ')}`);
    }
    return this.dataSource.transaction(async (manager) => {
      const identity = await manager.findOne(Identity, {
        where: { id },
        lock: { mode: 'pessimistic_write' },
      });
      if (!identity) throw new ApiError(404, 'user not found');
      const patch: Partial<Identity> = {};
      if (changes.roles) patch.roles = [...new Set(changes.roles)];
      if (changes.region !== undefined) patch.region = changes.region;
      if (changes.disabled !== undefined) patch.disabled = changes.disabled;
      await manager.update(Identity, { id }, patch);
      const updated = { ...identity, ...patch } as Identity;
      await this.outbox.enqueue(
        manager,
        SUBJECTS.IDENTITY_UPDATED,
        {
          id,
          email: updated.email,
          roles: updated.roles,
          region: updated.region,
          disabled: updated.disabled,
        },
        { [IDENTITY_VERSION_HEADER]: await nextIdentityVersion(manager, id) },
      );
      // Access tokens carry roles and region: tokens with the old values must stop working.
      await this.revocations.revokeUser(
        manager,
        id,
        updated.disabled ? 'disabled' : 'identity_updated',
      );
      return updated;
    });
  }

  /** users.deleted: revoke everything and delete the credentials (refresh families cascade). */
  async delete(manager: EntityManager, id: string): Promise<void> {
    await this.revocations.revokeUser(manager, id, 'user_deleted');
    await manager.delete(Identity, { id });
  }
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
