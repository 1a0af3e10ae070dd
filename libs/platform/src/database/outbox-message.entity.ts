import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An event waiting to be published. Written in the same transaction as the change it
 * describes, so an event is never lost and never published for a change that rolled back.
 * Its id becomes the `Nats-Msg-Id`, so JetStream drops a re-publish after a crash.
 */
@Entity({ name: 'outbox_messages' })
@Index('outbox_messages_unpublished', ['createdAt'], { where: '"published_at" IS NULL' })
export class OutboxMessage {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  subject!: string;

  @Column('jsonb')
  payload!: unknown;

  /** Non-secret headers captured at write time (request id). Tokens are added at publish time. */
  @Column('jsonb', { default: () => "'{}'::jsonb" })
  headers!: Record<string, string>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt!: Date | null;

  @Column('int', { default: 0 })
  attempts!: number;
}
