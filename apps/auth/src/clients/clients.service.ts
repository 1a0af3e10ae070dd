import { ApiError } from '@app/platform';
import { EVENTS_AUDIENCE, EVENTS_PUBLISH_SCOPE } from '@app/security';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config';
import { returnedRows } from '../common/sql';
import { publicKeyFromJwk } from '../tokens/jws';
import { AUTH_AUDIENCE, AUTH_CLIENT_ID, USER_TOKEN_CLIENT_ID } from '../tokens/token.constants';
import { RevocationService } from '../revocations/revocation.service';
import { ClientSecretHasher } from './client-secret.hasher';
import type { CreateClientDto } from './dto/create-client.dto';
import {
  clientFromRow,
  GRANT_CLIENT_CREDENTIALS,
  GRANT_TOKEN_EXCHANGE,
  type ClientRow,
  type OAuthClient,
} from './oauth-client';

/** Ids that name auth itself or its first-party web client; no registered client may take them. */
const RESERVED_IDS = new Set([AUTH_CLIENT_ID, USER_TOKEN_CLIENT_ID]);

/**
 * Service clients of SPEC §5, least privilege: users reads orders (CountOpenOrders) and
 * publishes events; orders reads users (GetUser, through token exchange) and publishes events.
 */
export function configuredClients(config: AuthConfig) {
  return [
    {
      clientId: 'users',
      secret: config.USERS_CLIENT_SECRET,
      audiences: ['orders', EVENTS_AUDIENCE],
      scopes: ['orders:read', EVENTS_PUBLISH_SCOPE],
      grantTypes: [GRANT_CLIENT_CREDENTIALS],
    },
    {
      clientId: 'orders',
      secret: config.ORDERS_CLIENT_SECRET,
      audiences: ['users', EVENTS_AUDIENCE],
      scopes: ['users:read', EVENTS_PUBLISH_SCOPE],
      grantTypes: [GRANT_CLIENT_CREDENTIALS, GRANT_TOKEN_EXCHANGE],
    },
  ];
}

/**
 * How long a replica may serve a client from memory. The token endpoint then needs no
 * database round trip (bench/auth-token-endpoint.bench.ts); a deletion made on another replica
 * takes effect there within this time, and the `client` revocation covers it (see delete()).
 */
export const CLIENT_CACHE_MS = 5_000;

@Injectable()
export class ClientsService implements OnModuleInit {
  private readonly logger = new Logger('Clients');
  private readonly cache = new Map<string, { client: OAuthClient | null; until: number }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly hasher: ClientSecretHasher,
    private readonly revocations: RevocationService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /** Creates (or updates, e.g. after a secret rotation) the configured service clients. */
  async onModuleInit(): Promise<void> {
    for (const client of configuredClients(this.config)) {
      if (!client.secret) {
        this.logger.warn(
          `${client.clientId.toUpperCase()}_CLIENT_SECRET is not set: client ${client.clientId} is not created`,
        );
        continue;
      }
      await this.dataSource.query(
        `INSERT INTO oauth_clients (client_id, client_name, secret_hash, token_endpoint_auth_method,
                                    grant_types, scopes, audiences)
         VALUES ($1, $1, $2, 'client_secret_basic', $3, $4, $5)
         ON CONFLICT (client_id) DO UPDATE SET secret_hash = EXCLUDED.secret_hash,
           token_endpoint_auth_method = EXCLUDED.token_endpoint_auth_method,
           grant_types = EXCLUDED.grant_types, scopes = EXCLUDED.scopes,
           audiences = EXCLUDED.audiences, jwks = NULL`,
        [
          client.clientId,
          this.hasher.hash(client.secret),
          client.grantTypes,
          client.scopes,
          client.audiences,
        ],
      );
    }
  }

  /** Stores a new hash of a secret that just proved right (KEY_ENCRYPTION_KEY rotation). */
  async rehashSecret(clientId: string, secret: string): Promise<void> {
    await this.dataSource.query('UPDATE oauth_clients SET secret_hash = $2 WHERE client_id = $1', [
      clientId,
      this.hasher.hash(secret),
    ]);
    this.cache.delete(clientId);
  }

  async find(clientId: string): Promise<OAuthClient | null> {
    const cached = this.cache.get(clientId);
    if (cached && cached.until > Date.now()) return cached.client;
    const rows: ClientRow[] = await this.dataSource.query(
      'SELECT * FROM oauth_clients WHERE client_id = $1',
      [clientId],
    );
    const client = rows[0] ? clientFromRow(rows[0]) : null;
    // Unknown ids are not cached: they would let anyone fill the map.
    if (client) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(clientId, { client, until: Date.now() + CLIENT_CACHE_MS });
    }
    return client;
  }

  async list(): Promise<OAuthClient[]> {
    const rows: ClientRow[] = await this.dataSource.query(
      'SELECT * FROM oauth_clients ORDER BY client_id',
    );
    return rows.map(clientFromRow);
  }

  /** RFC 7591: the secret is returned once and stored only as a keyed hash. */
  async create(input: CreateClientDto): Promise<{ client: OAuthClient; secret?: string }> {
    const clientId = input.client_name;
    if (RESERVED_IDS.has(clientId)) throw new ApiError(400, `client_name ${clientId} is reserved`);
    const audiences = [...new Set(input.audience)];
    // A client token for audience "auth" would reach the user endpoints of auth itself.
    if (audiences.includes(AUTH_AUDIENCE))
      throw new ApiError(400, 'audience "auth" is not allowed');
    const scopes = [...new Set(input.scope.split(' '))];
    const stray = scopes.find((scope) => !audiences.includes(scope.split(':')[0]));
    if (stray) throw new ApiError(400, `scope ${stray} names no audience of the client`);
    let jwks: OAuthClient['jwks'] = null;
    let secret: string | undefined;
    if (input.token_endpoint_auth_method === 'private_key_jwt') {
      if (!input.jwks || !Array.isArray(input.jwks.keys) || input.jwks.keys.length === 0) {
        throw new ApiError(400, 'private_key_jwt needs jwks with at least one public key');
      }
      try {
        input.jwks.keys.forEach((key) => publicKeyFromJwk(key));
      } catch {
        throw new ApiError(400, 'jwks must hold only public EC P-256, RSA (2048+) or Ed25519 keys');
      }
      jwks = { keys: input.jwks.keys };
    } else {
      if (input.jwks) throw new ApiError(400, 'jwks is only for private_key_jwt');
      secret = this.hasher.generate();
    }
    const inserted: unknown[] = await this.dataSource.query(
      `INSERT INTO oauth_clients (client_id, client_name, secret_hash, token_endpoint_auth_method,
                                  grant_types, scopes, audiences, jwks)
       VALUES ($1, $1, $2, $3, $4, $5, $6, $7) ON CONFLICT (client_id) DO NOTHING RETURNING 1`,
      [
        clientId,
        secret ? this.hasher.hash(secret) : null,
        input.token_endpoint_auth_method,
        [...new Set(input.grant_types)],
        scopes,
        audiences,
        jwks,
      ],
    );
    if (inserted.length === 0) throw new ApiError(409, `client ${clientId} already exists`);
    this.cache.delete(clientId);
    return { client: (await this.find(clientId))!, secret };
  }

  /** Deleting a client revokes every token it holds (broadcast `client`). */
  async delete(clientId: string): Promise<void> {
    // onModuleInit re-creates a configured client, with the same secret, at the next start of
    // any replica: a deletion would look done and be undone. Its secret is rotated instead.
    if (configuredClients(this.config).some((client) => client.clientId === clientId)) {
      throw new ApiError(
        409,
        `client ${clientId} is built in and re-created at every start: rotate ` +
          `${clientId.toUpperCase()}_CLIENT_SECRET in the environment instead of deleting it`,
      );
    }
    await this.dataSource.transaction(async (manager) => {
      const deleted = returnedRows(
        await manager.query('DELETE FROM oauth_clients WHERE client_id = $1 RETURNING 1', [
          clientId,
        ]),
      );
      if (deleted.length === 0) throw new ApiError(404, 'client not found');
      // Other replicas may still serve it from cache for CLIENT_CACHE_MS: cover their tokens too.
      await this.revocations.revokeClient(manager, clientId, CLIENT_CACHE_MS);
    });
    this.cache.delete(clientId);
  }
}
