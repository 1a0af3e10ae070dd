import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * The answer to a POST /orders that carried an Idempotency-Key, per user and key: a replay
 * with the same body gets the same status and body; one with another body is refused.
 */
@Entity({ name: 'idempotency_keys' })
export class IdempotencyKey {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @PrimaryColumn('text')
  key!: string;

  /** SHA-256 of the validated request body. */
  @Column({ name: 'request_hash', type: 'text' })
  requestHash!: string;

  @Column({ name: 'status_code', type: 'smallint' })
  statusCode!: number;

  @Column('jsonb')
  response!: object;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
