import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * A user's profile. users owns displayName and locale; email, roles, region and disabled are
 * its copy of auth's identity (kept current from auth.identity.* events) so that list queries
 * can be filtered in SQL by the caller's abilities.
 */
@Entity({ name: 'user_profiles' })
export class UserProfile {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  email!: string;

  @Column({ name: 'display_name', type: 'text' })
  displayName!: string;

  @Column({ type: 'text', default: 'en' })
  locale!: string;

  @Column('text')
  region!: string;

  @Column('text', { array: true, default: () => "'{customer}'" })
  roles!: string[];

  /** auth disabled the identity (its sessions are revoked there); shown to admins only. */
  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  /**
   * When the broker stored the identity event last applied (µs since the epoch): an older
   * event redelivered after a newer one never overwrites it. Internal, never shown.
   */
  @Column({ name: 'identity_version', type: 'bigint', default: '0' })
  identityVersion!: string;

  // Millisecond precision (migration 1764662400000), so a JavaScript Date in a cursor is exact.
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt!: Date;
}
