import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Length, Matches, ValidateIf } from 'class-validator';

/** `ValidateIf` instead of `IsOptional`: an explicit `null` is refused, not written. */
const present = (_: object, value: unknown) => value !== undefined;

/**
 * PATCH /users/me. Only these two fields: anything else (role, roles, region, email, id, ...)
 * is refused by the global ValidationPipe (`forbidNonWhitelisted`) with a 400 naming it.
 */
export class UpdateProfileDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100, example: 'Ada Lovelace' })
  @ValidateIf(present)
  @IsString()
  @Length(1, 100)
  // Printable text only: no control characters, not only whitespace.
  @Matches(/^(?!\s*$)[^\p{Cc}]+$/u, { message: 'displayName must be printable text' })
  displayName?: string;

  @ApiPropertyOptional({ example: 'en-GB', description: 'BCP 47 language[-REGION]' })
  @ValidateIf(present)
  @IsString()
  @Matches(/^[a-z]{2,3}(-[A-Z]{2})?$/, { message: 'locale must look like en or en-GB' })
  locale?: string;
}
