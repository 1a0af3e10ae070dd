import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A message this service refused (bad token, wrong publisher, invalid payload, handler gave
 * up). It is terminated in JetStream, never redelivered, and kept here with its reason.
 * Headers are stored without Authorization: a token never rests in a table.
 */
@Entity({ name: 'dead_letters' })
export class DeadLetter {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' })
  id!: string;

  @Column({ name: 'message_id', type: 'text', nullable: true })
  messageId!: string | null;

  @Column('text')
  subject!: string;

  @Column('text')
  reason!: string;

  @Column({ name: 'error_code', type: 'text' })
  errorCode!: string;

  @Column({ name: 'stream_sequence', type: 'bigint', nullable: true })
  streamSequence!: string | null;

  @Column('jsonb', { default: () => "'{}'::jsonb" })
  headers!: Record<string, string>;

  @CreateDateColumn({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt!: Date;
}
