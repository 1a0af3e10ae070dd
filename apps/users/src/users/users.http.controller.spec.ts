import { buildAbility, SecurityError } from '@app/security';
import { userPrincipal } from '../../../../test/support/principals';
import type { OrdersGrpcClient } from '../orders-client/orders.grpc.client';
import type { UpdateProfileDto } from './dto/update-profile.dto';
import type { UserProfile } from './user-profile.entity';
import { UsersHttpController } from './users.http.controller';
import { UsersPolicy } from './users.policy';
import type { UsersService } from './users.service';

const me = userPrincipal({ scopes: ['users:write'] });
const stored = {
  id: 'user-1',
  email: 'me@example.test',
  displayName: 'Me',
  locale: 'en',
  region: 'eu',
  roles: ['customer'],
  disabled: false,
  createdAt: new Date(0),
  updatedAt: new Date(0),
} as unknown as UserProfile;

it('refuses a write to a field the policy does not permit, even one the DTO let through, and writes nothing', async () => {
  const users = {
    findById: jest.fn().mockResolvedValue(stored),
    updateProfile: jest.fn().mockResolvedValue(stored),
  };
  const controller = new UsersHttpController(
    users as unknown as UsersService,
    {} as OrdersGrpcClient,
  );
  const ability = buildAbility([UsersPolicy], me);
  // The DTO is the first line (it refuses unknown fields); this is the second, the policy's.
  const changes = { displayName: 'New', region: 'us' } as unknown as UpdateProfileDto;
  await expect(controller.updateMe(changes, me, ability)).rejects.toMatchObject({
    code: 'FIELD_NOT_PERMITTED',
  });
  await expect(controller.updateMe(changes, me, ability)).rejects.toBeInstanceOf(SecurityError);
  expect(users.updateProfile).not.toHaveBeenCalled();
  // The control: a permitted field is written.
  await controller.updateMe({ displayName: 'New' } as UpdateProfileDto, me, ability);
  expect(users.updateProfile).toHaveBeenCalledWith('user-1', { displayName: 'New' });
});
