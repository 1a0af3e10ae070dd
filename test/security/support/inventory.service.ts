// A service built from scratch the way the README says (SPEC §8): the security wiring is
// the SecurityModule import plus decorators; everything else is deny-by-default.
import {
  DatabaseModule,
  InboxService,
  JetStreamContext,
  MessagingModule,
  PlatformModule,
} from '@app/platform';
import {
  assertWritableFields,
  authorize,
  CheckPolicies,
  CurrentAbility,
  CurrentPrincipal,
  definePolicy,
  pickPermittedFields,
  Public,
  RequireRecentAuth,
  Scopes,
  SecurityModule,
  type AppAbility,
  type Principal,
} from '@app/security';
import { subject } from '@casl/ability';
import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  Module,
  Param,
  Patch,
  type DynamicModule,
} from '@nestjs/common';
import { Ctx, EventPattern, GrpcMethod, Payload } from '@nestjs/microservices';

export interface Item {
  id: string;
  ownerId: string;
  region: string;
  name: string;
  status: 'draft' | 'published';
}

export const ITEMS = new Map<string, Item>();
export const applied: { messageId: string; clientId: string }[] = [];

/** Who may do what to an Item, as a table. */
export const InventoryPolicy = definePolicy({
  name: 'inventory',
  roles: {
    customer: ({ can }, me) => {
      can('read', 'Item', { ownerId: me.id });
      can('update', 'Item', ['name'], { ownerId: me.id, status: 'draft' });
    },
    support: ({ can }, me) => can('read', 'Item', ['id', 'name', 'region'], { region: me.region }),
    admin: ({ can }) => can('manage', 'Item'),
  },
  scopes: { 'inventory:read': ({ can }) => can('read', 'Item') },
});

const item = (id: string) => {
  const found = ITEMS.get(id);
  return found ? subject('Item', { ...found }) : null;
};

@Controller('items')
class ItemsHttpController {
  @Public()
  @Get('public/ping')
  ping() {
    return { ok: true };
  }

  @Get('me')
  me(@CurrentPrincipal() caller: Principal) {
    return { kind: caller.kind, clientId: caller.clientId };
  }

  /** The guard's `no-store` is a default: a route may allow caching. */
  @Header('Cache-Control', 'private, max-age=60')
  @Get('me/cacheable')
  cacheable(@CurrentPrincipal() caller: Principal) {
    return { clientId: caller.clientId };
  }

  @Scopes('inventory:admin')
  @Get('admin/stats')
  stats() {
    return { items: ITEMS.size };
  }

  @Get(':id')
  get(@Param('id') id: string, @CurrentAbility() ability: AppAbility) {
    const found = item(id);
    authorize(ability, 'read', found);
    return pickPermittedFields(ability, found!);
  }

  @Patch(':id')
  update(
    @Param('id') id: string,
    @Body() changes: Record<string, unknown>,
    @CurrentAbility() ability: AppAbility,
  ) {
    const found = item(id);
    authorize(ability, 'update', found);
    assertWritableFields(ability, 'update', found!, changes);
    return { ...found, ...changes };
  }

  @RequireRecentAuth(300)
  @Delete(':id')
  remove(@Param('id') id: string) {
    return { deleted: ITEMS.has(id) };
  }
}

@Controller()
class ItemsGrpcController {
  @Scopes('inventory:read')
  @CheckPolicies((ability: AppAbility, found: Item) => ability.can('read', found))
  @GrpcMethod('UsersService', 'GetUser')
  getUser({ id }: { id: string }) {
    const found = item(id);
    return found && subject('Item', { ...found, displayName: found.name, email: '', roles: [] });
  }
}

@Controller()
class ItemsEventsController {
  constructor(private readonly inbox: InboxService) {}

  @EventPattern('auth.identity.registered')
  async onRegistered(
    @Payload() event: { failOnce?: boolean },
    @Ctx() context: JetStreamContext,
    @CurrentPrincipal() publisher: Principal,
  ) {
    await this.inbox.processOnce(context.getMessageId()!, context.getSubject(), async () => {
      applied.push({ messageId: context.getMessageId()!, clientId: publisher.clientId });
    });
    // A crash after the effect committed: the redelivery must not apply it twice.
    if (event.failOnce && context.getDeliveryCount() === 1) throw new Error('transient failure');
  }
}

export interface InventoryConfig {
  issuer: string;
  databaseUrl: string;
  natsUrl: string;
}

@Module({})
export class InventoryModule {
  static forRoot(config: InventoryConfig): DynamicModule {
    return {
      module: InventoryModule,
      imports: [
        PlatformModule.forRoot({ serviceName: 'inventory', logLevel: 'silent' }),
        DatabaseModule.forRoot({
          url: config.databaseUrl,
          entities: [],
          migrations: [],
          applicationName: 'inventory',
        }),
        MessagingModule.forRoot({
          serviceName: 'inventory',
          url: config.natsUrl,
          ownStreams: [],
          consumers: [
            { stream: 'AUTH', durable: 'inventory-identity', filterSubject: 'auth.identity.>' },
          ],
        }),
        // The security of the whole service:
        SecurityModule.forRoot({
          issuer: config.issuer,
          audience: 'inventory',
          client: { id: 'inventory', secret: 'secret-inventory' },
          policies: [InventoryPolicy],
        }),
      ],
      controllers: [ItemsHttpController, ItemsGrpcController, ItemsEventsController],
    };
  }
}
