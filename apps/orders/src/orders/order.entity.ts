import { Column, Entity, OneToMany, PrimaryColumn } from 'typeorm';
import { OrderItem } from './order-item.entity';
import type { OrderStatus } from './order-status';

@Entity({ name: 'orders' })
export class Order {
  @PrimaryColumn('uuid')
  id!: string;

  /** The customer; null once their account was deleted (users.deleted): the order stays for accounting. */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId!: string | null;

  /** The customer's region when the order was placed, as users answered (support sees by region). */
  @Column('text')
  region!: string;

  @Column('text')
  status!: OrderStatus;

  @Column('text')
  currency!: string;

  /** Minor units (cents), computed from the server's catalog. */
  @Column('integer')
  total!: number;

  @OneToMany(() => OrderItem, (item) => item.order)
  items!: OrderItem[];

  /** Set by the service in milliseconds (the column keeps 3 digits), so the cursor is exact. */
  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt!: Date;

  @Column({ name: 'anonymized_at', type: 'timestamptz', nullable: true })
  anonymizedAt!: Date | null;
}
