import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Order } from './order.entity';

@Entity({ name: 'order_items' })
export class OrderItem {
  @PrimaryColumn({ name: 'order_id', type: 'uuid' })
  orderId!: string;

  /** Position in the order as placed. */
  @PrimaryColumn('smallint')
  line!: number;

  @ManyToOne(() => Order, (order) => order.items, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'order_id' })
  order!: Order;

  @Column('text')
  sku!: string;

  /** Catalog name and price when the order was placed: later catalog changes do not rewrite it. */
  @Column('text')
  name!: string;

  @Column({ name: 'unit_price', type: 'integer' })
  unitPrice!: number;

  @Column('smallint')
  quantity!: number;

  @Column({ name: 'line_total', type: 'integer' })
  lineTotal!: number;
}
