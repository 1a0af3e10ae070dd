import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

export class ListOrdersQuery {
  @ApiPropertyOptional({ description: 'Page size; default ORDERS_PAGE_SIZE_DEFAULT (20).' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  // The configured cap (ORDERS_PAGE_SIZE_MAX) is applied by the service; this is the hard limit.
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: '`nextCursor` of the previous page.' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor is malformed' })
  cursor?: string;
}
