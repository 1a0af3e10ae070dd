import type { OAuthClient } from '../../clients/oauth-client';

/** RFC 6749 §5.1 successful response (plus RFC 8693 §2.2.1 issued_token_type). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  issued_token_type?: string;
}

/** One grant type of the token endpoint (one grant per file, as node-oidc-provider does). */
export interface TokenGrant {
  readonly grantType: string;
  handle(client: OAuthClient, params: Record<string, string>, ip: string): Promise<TokenResponse>;
}
