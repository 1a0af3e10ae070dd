export {
  ACCESS_TOKEN_TYPE,
  ALLOWED_ALGORITHMS,
  CLOCK_TOLERANCE_SECONDS,
  EVENTS_AUDIENCE,
  EVENTS_PUBLISH_SCOPE,
  publisherOf,
  ROLES,
  SERVICE_ACCESS_TOKEN_TTL_SECONDS,
  SUBJECT_PUBLISHERS,
  USER_ACCESS_TOKEN_TTL_SECONDS,
} from './contract/access-token.claims';
export type { AccessTokenClaims, AllowedAlgorithm, Role } from './contract/access-token.claims';
export type { RevocationEvent } from './contract/revocation.event';
