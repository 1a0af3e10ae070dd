import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsString,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { CATALOG } from '../../catalog/catalog';

export const MAX_ITEMS = 50;
export const MAX_QUANTITY = 100;

/**
 * One line of a new order. Only `sku` and `quantity`: prices, totals, status and the customer
 * come from the server, and any other field (at any depth) is a 400 naming it, because the
 * global ValidationPipe forbids properties that are not declared here.
 */
export class OrderItemInput {
  @ApiProperty({ example: 'KB-001', enum: CATALOG.map((item) => item.sku) })
  @IsString()
  @IsIn(CATALOG.map((item) => item.sku), { message: '$property is not in the catalog' })
  sku!: string;

  @ApiProperty({ example: 1, minimum: 1, maximum: MAX_QUANTITY })
  @IsInt()
  @Min(1)
  @Max(MAX_QUANTITY)
  quantity!: number;
}

export class CreateOrderDto {
  @ApiProperty({ type: [OrderItemInput], minItems: 1, maxItems: MAX_ITEMS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => OrderItemInput)
  items!: OrderItemInput[];
}
