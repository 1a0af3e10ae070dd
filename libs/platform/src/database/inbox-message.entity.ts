import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A message (id, subject) this service applied; inserted in the transaction of the effect. */
@Entity({ name: 'inbox_messages' })
export class InboxMessage {
  @PrimaryColumn({ name: 'message_id', type: 'text' })
  messageId!: string;

  @PrimaryColumn('text')
  subject!: string;

  @Column({ name: 'processed_at', type: 'timestamptz', default: () => 'now()' })
  processedAt!: Date;
}
