import { IsUUID } from 'class-validator';

/** `users.deleted`, published by users: exactly `{ "userId": "<uuid>" }` (other fields: dead letter). */
export class UserDeletedEvent {
  @IsUUID()
  userId!: string;
}
