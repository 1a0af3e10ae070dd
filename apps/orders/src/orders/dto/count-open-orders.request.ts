import { IsUUID } from 'class-validator';

/** orders.v1.CountOpenOrdersRequest (`user_id`; proto-loader camel-cases it). */
export class CountOpenOrdersRequest {
  @IsUUID()
  userId!: string;
}
