import { protoDir, protoFile } from '@app/platform';
import {
  loadPackageDefinition,
  Metadata,
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

export interface Profile {
  id: string;
  region: string;
  roles?: string[];
}

/** What a GetUser call carried: the raw token and its verified claims. */
export interface RecordedCall {
  id: string;
  token: string | undefined;
  claims: Record<string, unknown> | undefined;
}

/**
 * A stand-in for users.v1.UsersService that records the metadata of every call. It applies
 * users' rule for a token exchanged for a customer: the customer may read their own profile
 * only (others: NOT_FOUND), and a token that does not verify is UNAUTHENTICATED.
 */
export class FakeUsersServer {
  readonly profiles = new Map<string, Profile>();
  readonly calls: RecordedCall[] = [];
  delayMs = 0;
  private server: Server | null = null;

  constructor(
    private readonly verify: (token: string) => Promise<Record<string, unknown>>,
    readonly port: number,
  ) {}

  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const definition = loadSync(protoFile('users/v1/users.proto'), {
      includeDirs: [protoDir()],
      keepCase: false,
    });
    const pkg = loadPackageDefinition(definition) as unknown as {
      users: { v1: { UsersService: { service: never } } };
    };
    const server = new Server();
    server.addService(pkg.users.v1.UsersService.service, {
      GetUser: (call: ServerUnaryCall<{ id: string }, unknown>, callback: sendUnaryData<unknown>) =>
        void this.getUser(call.request.id, call.metadata, callback),
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(this.url, ServerCredentials.createInsecure(), (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    server?.forceShutdown();
  }

  private async getUser(id: string, metadata: Metadata, callback: sendUnaryData<unknown>) {
    const header = metadata.get('authorization')[0];
    const token = typeof header === 'string' ? header.replace(/^Bearer /, '') : undefined;
    let claims: Record<string, unknown> | undefined;
    try {
      claims = token ? await this.verify(token) : undefined;
    } catch {
      claims = undefined;
    }
    this.calls.push({ id, token, claims });
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (!claims) return callback({ code: status.UNAUTHENTICATED, details: 'bad token' });
    const profile = this.profiles.get(id);
    if (!profile || claims.sub !== id) return callback({ code: status.NOT_FOUND, details: 'no' });
    callback(null, {
      id,
      email: `${id}@example.com`,
      displayName: 'Customer',
      locale: 'en',
      region: profile.region,
      roles: profile.roles ?? ['customer'],
    });
  }
}
