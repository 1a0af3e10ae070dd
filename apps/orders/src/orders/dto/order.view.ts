import { ApiProperty } from '@nestjs/swagger';
import { ORDER_STATUSES, type OrderStatus } from '../order-status';

export class OrderItemView {
  @ApiProperty({ example: 'KB-001' }) sku!: string;
  @ApiProperty({ example: 'Mechanical keyboard' }) name!: string;
  @ApiProperty({ example: 8900, description: 'minor units' }) unitPrice!: number;
  @ApiProperty({ example: 2 }) quantity!: number;
  @ApiProperty({ example: 17800, description: 'minor units' }) lineTotal!: number;
}

export class OrderView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'null once the customer deleted their account',
  })
  userId!: string | null;
  @ApiProperty({ example: 'eu' }) region!: string;
  @ApiProperty({ enum: ORDER_STATUSES }) status!: OrderStatus;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ example: 17800, description: 'minor units' }) total!: number;
  @ApiProperty({ type: [OrderItemView] }) items!: OrderItemView[];
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class OrderPage {
  @ApiProperty({ type: [OrderView] }) items!: OrderView[];
  @ApiProperty({ nullable: true, type: String, description: 'pass as `cursor` for the next page' })
  nextCursor!: string | null;
}
