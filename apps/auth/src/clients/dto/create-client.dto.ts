import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { AUTH_METHODS, CLIENT_ID_PATTERN, SUPPORTED_GRANTS } from '../oauth-client';

/** RFC 7591 §2 client metadata (the subset this server supports). */
export class CreateClientDto {
  @ApiProperty({ example: 'inventory' })
  @Matches(CLIENT_ID_PATTERN, { message: 'client_name must be a lower-case service name' })
  client_name!: string;

  @ApiProperty({ example: 'orders:read events:publish' })
  @IsString()
  @MaxLength(1000)
  @Matches(/^[a-z0-9-]+:[a-z0-9_-]+( [a-z0-9-]+:[a-z0-9_-]+)*$/, {
    message: 'scope must be space-separated audience:action values',
  })
  scope!: string;

  @ApiProperty({ example: ['client_credentials'] })
  @IsArray()
  @ArrayMinSize(1)
  @IsIn(SUPPORTED_GRANTS, { each: true })
  grant_types!: string[];

  @ApiProperty({ enum: AUTH_METHODS })
  @IsIn(AUTH_METHODS)
  token_endpoint_auth_method!: (typeof AUTH_METHODS)[number];

  @ApiProperty({ example: ['orders', 'events'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @Matches(/^[a-z][a-z0-9-]{1,62}$/, { each: true })
  audience!: string[];

  @ApiPropertyOptional({ description: 'RFC 7517 public key set, for private_key_jwt' })
  @IsOptional()
  @IsObject()
  jwks?: { keys: Record<string, unknown>[] };
}
