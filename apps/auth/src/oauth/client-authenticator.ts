import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config';
import { AuditService } from '../audit/audit.service';
import { ClientSecretHasher } from '../clients/client-secret.hasher';
import { ClientsService } from '../clients/clients.service';
import { isClientId, type OAuthClient } from '../clients/oauth-client';
import { PrivateKeyJwtVerifier } from './private-key-jwt.verifier';
import { OAuthError } from './oauth.error';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** RFC 6749 §2.3.1: both halves of Basic credentials are form-urlencoded. */
function decodeBasic(header: string): { id: string; secret: string } | null {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header.trim());
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  try {
    const unescape = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
    return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

/**
 * Client authentication at the token and revocation endpoints: client_secret_basic or
 * private_key_jwt (RFC 7523 §2.2), exactly one method per request (RFC 6749 §2.3).
 * Every failure is the same `invalid_client`, known client or not.
 */
@Injectable()
export class ClientAuthenticator {
  constructor(
    private readonly clients: ClientsService,
    private readonly hasher: ClientSecretHasher,
    private readonly assertions: PrivateKeyJwtVerifier,
    private readonly audit: AuditService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /**
   * The request's Authorization header; two or more Authorization fields are invalid_request
   * (RFC 6749 §2.3: one method per request). Node keeps only the first of several in `headers`.
   */
  static authorizationOf(request: FastifyRequest): string | undefined {
    const fields = request.raw.headersDistinct.authorization;
    if (fields && fields.length > 1) {
      throw new OAuthError('invalid_request', 'more than one Authorization header');
    }
    return request.headers.authorization;
  }

  /** Whether the request carries any client credentials at all. */
  static presented(authorization: string | undefined, params: Record<string, string>): boolean {
    return Boolean(authorization || params.client_secret || params.client_assertion);
  }

  async authenticate(
    authorization: string | undefined,
    params: Record<string, string>,
    ip: string,
  ): Promise<OAuthClient> {
    const methods = [
      authorization !== undefined,
      params.client_secret !== undefined,
      params.client_assertion !== undefined || params.client_assertion_type !== undefined,
    ].filter(Boolean).length;
    if (methods > 1) {
      throw new OAuthError('invalid_request', 'use exactly one client authentication method');
    }
    const fail = (clientId: string | undefined, reason: string, basic: boolean) => {
      this.audit.record('client_auth', 'failure', { clientId, reason, ip });
      return OAuthError.invalidClient('client authentication failed', basic);
    };
    if (authorization !== undefined) {
      const credentials = decodeBasic(authorization);
      if (!credentials) throw fail(undefined, 'malformed_basic', true);
      if (params.client_id !== undefined && params.client_id !== credentials.id) {
        throw new OAuthError('invalid_request', 'client_id does not match the Basic credentials');
      }
      // An id no client can have is refused before the lookup (and still gets the same answer).
      if (!isClientId(credentials.id)) throw fail(undefined, 'malformed_client_id', true);
      const client = await this.clients.find(credentials.id);
      // Compared even for an unknown client, so timing does not reveal which ids exist.
      const check = this.hasher.check(credentials.secret, client?.secretHash);
      if (
        !client ||
        check === 'mismatch' ||
        client.tokenEndpointAuthMethod !== 'client_secret_basic'
      ) {
        throw fail(credentials.id.slice(0, 64), client ? 'wrong_secret' : 'unknown_client', true);
      }
      if (check === 'rehash') await this.clients.rehashSecret(client.clientId, credentials.secret);
      return client;
    }
    if (params.client_assertion !== undefined) {
      if (params.client_assertion_type !== JWT_BEARER_ASSERTION) {
        throw new OAuthError('invalid_request', 'unsupported client_assertion_type');
      }
      const result = await this.assertions.verify(params.client_assertion, params.client_id);
      if (!result.client) throw fail(result.clientId, result.reason, false);
      return result.client;
    }
    if (params.client_secret !== undefined) {
      throw fail(params.client_id, 'client_secret_post_not_allowed', false);
    }
    throw fail(params.client_id, 'no_credentials', false);
  }

  get issuer(): string {
    return this.config.AUTH_ISSUER;
  }
}
