export const GRANT_CLIENT_CREDENTIALS = 'client_credentials';
export const GRANT_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const SUPPORTED_GRANTS = [GRANT_CLIENT_CREDENTIALS, GRANT_TOKEN_EXCHANGE] as const;

/**
 * What a client id looks like: a lower-case service name (ids are the `client_name` given at
 * registration). Checked before an id from a request reaches the database, so input such as a
 * NUL byte, which PostgreSQL refuses in text (SQLSTATE 22021), is a 4xx, not a 500.
 */
export const CLIENT_ID_PATTERN = /^[a-z][a-z0-9-]{1,62}$/;

export const isClientId = (value: string): boolean => CLIENT_ID_PATTERN.test(value);

export const AUTH_METHODS = ['client_secret_basic', 'private_key_jwt'] as const;
export type TokenEndpointAuthMethod = (typeof AUTH_METHODS)[number];

/** A service client (RFC 7591 field names where they exist). */
export interface OAuthClient {
  clientId: string;
  clientName: string;
  secretHash: Buffer | null;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  grantTypes: string[];
  /** Scopes it may ask for, each prefixed by its audience (`orders:read`). */
  scopes: string[];
  /** Audiences (service names) it may ask tokens for. */
  audiences: string[];
  jwks: { keys: Record<string, unknown>[] } | null;
}

export interface ClientRow {
  client_id: string;
  client_name: string;
  secret_hash: Buffer | null;
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  grant_types: string[];
  scopes: string[];
  audiences: string[];
  jwks: { keys: Record<string, unknown>[] } | null;
}

export function clientFromRow(row: ClientRow): OAuthClient {
  return {
    clientId: row.client_id,
    clientName: row.client_name,
    secretHash: row.secret_hash,
    tokenEndpointAuthMethod: row.token_endpoint_auth_method,
    grantTypes: row.grant_types,
    scopes: row.scopes,
    audiences: row.audiences,
    jwks: row.jwks,
  };
}

/** The public view (RFC 7591 §3.2.1), never the secret hash. */
export function clientMetadata(client: OAuthClient) {
  return {
    client_id: client.clientId,
    client_name: client.clientName,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    grant_types: client.grantTypes,
    scope: client.scopes.join(' '),
    audience: client.audiences,
    ...(client.jwks ? { jwks: client.jwks } : {}),
  };
}
