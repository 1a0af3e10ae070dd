import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * A profile as the API shows it. Which fields a caller gets depends on their role
 * (users.policy.ts): support sees only `SUPPORT_VISIBLE_FIELDS`, hence the optional fields.
 */
export class UserProfileView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiPropertyOptional({ format: 'email' })
  email?: string;

  @ApiPropertyOptional()
  displayName?: string;

  @ApiPropertyOptional({ example: 'en' })
  locale?: string;

  @ApiPropertyOptional({ example: 'eu' })
  region?: string;

  @ApiPropertyOptional({ type: [String], example: ['customer'] })
  roles?: string[];

  @ApiPropertyOptional()
  disabled?: boolean;

  @ApiPropertyOptional({ format: 'date-time' })
  createdAt?: Date;

  @ApiPropertyOptional({ format: 'date-time' })
  updatedAt?: Date;
}

export class UserPageView {
  @ApiProperty({ type: [UserProfileView] })
  items!: UserProfileView[];

  @ApiProperty({ type: String, nullable: true, description: 'null on the last page' })
  nextCursor!: string | null;
}
