import { IsUUID } from 'class-validator';

/** Payload of `users.deleted` (published by users). */
export class UserDeletedEvent {
  @IsUUID()
  userId!: string;
}
