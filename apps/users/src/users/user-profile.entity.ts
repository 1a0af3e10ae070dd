import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * A user's profile. users owns displayName and locale; email, roles and region are its copy of
 * auth's identity (kept current from auth.identity.* events) so that list queries can be
 * filtered in SQL by the caller's abilities.
 */
@Entity({ name: 'user_profiles' })
export class UserProfile {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  email!: string;

  @Column({ name: 'display_name', type: 'text' })
  displayName!: string;

  @Column({ type: 'text', default: 'en' })
  locale!: string;

  @Column('text')
  region!: string;

  @Column('text', { array: true, default: () => "'{customer}'" })
  roles!: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
