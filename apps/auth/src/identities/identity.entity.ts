import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Who a user is to auth: credentials, roles and region. auth owns identity (SPEC §5). */
@Entity({ name: 'identities' })
export class Identity {
  @PrimaryColumn('uuid')
  id!: string;

  /** Stored lower-cased; unique. */
  @Column('text', { unique: true })
  email!: string;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash!: string;

  @Column('text', { array: true, default: () => "'{customer}'" })
  roles!: string[];

  @Column('text')
  region!: string;

  @Column('boolean', { default: false })
  disabled!: boolean;

  /** Epoch seconds: user tokens issued before it are revoked (password change, disabling). */
  @Column({
    name: 'tokens_valid_after',
    type: 'bigint',
    default: 0,
    transformer: { to: (v: number) => v, from: (v: string) => Number(v) },
  })
  tokensValidAfter!: number;

  /** TOTP secret, encrypted like signing keys; null while MFA is off. */
  @Column({ name: 'totp_secret', type: 'text', nullable: true })
  totpSecret!: string | null;

  @Column({ name: 'totp_pending_secret', type: 'text', nullable: true })
  totpPendingSecret!: string | null;

  /** Last accepted TOTP time step: a code is single use (RFC 6238 §5.2). */
  @Column({
    name: 'totp_last_step',
    type: 'bigint',
    default: 0,
    transformer: { to: (v: number) => v, from: (v: string) => Number(v) },
  })
  totpLastStep!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
