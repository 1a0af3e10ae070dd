import type { Principal } from '@app/security';
import type { FastifyReply } from 'fastify';
import { userPrincipal } from '../../../../test/support/principals';
import type { CreateOrderDto } from './dto/create-order.dto';
import { OrdersHttpController } from './orders.http.controller';
import type { OrdersService } from './orders.service';

it("places orders with the customer's own token only, whatever the policy allows", async () => {
  const orders = {
    place: jest.fn().mockResolvedValue({ statusCode: 201, body: {}, replayed: false }),
  };
  const controller = new OrdersHttpController(orders as unknown as OrdersService);
  const reply = { status: jest.fn(), header: jest.fn() } as unknown as FastifyReply;
  const input = { items: [{ sku: 'sku-1', quantity: 1 }] } as unknown as CreateOrderDto;
  const delegated: Principal = {
    ...userPrincipal(),
    kind: 'delegated',
    actor: { clientId: 'users' },
  };
  await expect(controller.place(input, undefined, delegated, reply)).rejects.toMatchObject({
    status: 403,
  });
  expect(orders.place).not.toHaveBeenCalled();
  // The control: the customer's own login token.
  await controller.place(input, undefined, userPrincipal(), reply);
  expect(orders.place).toHaveBeenCalledTimes(1);
});
