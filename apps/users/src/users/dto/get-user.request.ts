import { IsUUID } from 'class-validator';

/** users.v1.GetUserRequest: an id that is not a UUID is INVALID_ARGUMENT. */
export class GetUserRequest {
  @IsUUID()
  id!: string;
}
