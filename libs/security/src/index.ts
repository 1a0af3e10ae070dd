export {
  ACCESS_TOKEN_TYPE,
  ALLOWED_ALGORITHMS,
  CLOCK_TOLERANCE_SECONDS,
  EVENTS_AUDIENCE,
  EVENTS_PUBLISH_SCOPE,
  maySignEvents,
  publisherOf,
  ROLES,
  SERVICE_ACCESS_TOKEN_TTL_SECONDS,
  SUBJECT_PUBLISHERS,
  USER_ACCESS_TOKEN_TTL_SECONDS,
  MAX_ACCESS_TOKEN_TTL_SECONDS,
} from './contract/access-token.claims';
export type { AccessTokenClaims, AllowedAlgorithm, Role } from './contract/access-token.claims';
export type { RevocationEvent } from './contract/revocation.event';

export { SecurityModule } from './security.module';
export type { SecurityModuleOptions } from './security.options';
export { SecurityError } from './security.error';
export type { SecurityErrorCode, SecurityErrorKind } from './security.error';

// Decorators. `Public` is @app/platform's: one decorator, read by the global guard.
export { Public } from '@app/platform';
export { CheckPolicies } from './decorators/check-policies.decorator';
export type { PolicyHandler } from './decorators/check-policies.decorator';
export { CurrentAbility, CurrentPrincipal } from './decorators/current-principal.decorator';
export {
  isRecentAuth,
  recentAuthMaxAgeOf,
  RequireRecentAuth,
} from './decorators/require-recent-auth.decorator';
export { Scopes } from './decorators/scopes.decorator';
export { SecurityGuard } from './guards/security.guard';

// Tokens.
export { hasScope, isUserLike } from './token/principal';
export type {
  DelegatedPrincipal,
  Principal,
  ServicePrincipal,
  UserLikePrincipal,
  UserPrincipal,
} from './token/principal';
export { accessTokenOf, TokenVerifier } from './token/token-verifier';
export type { VerifyOptions } from './token/token-verifier';
export type { VerifiedToken } from './token/verification-cache';
export {
  coversStoredMessages,
  MAX_STORED_MESSAGE_AGE_SECONDS,
  RevocationList,
  storedMessagesDeadline,
  storedTooLongAgo,
} from './token/revocation-list';
export type { RetiredKey, RetiredKeyLookup } from './token/retired-keys';
export { isUnauthenticated, ServiceTokenClient } from './token/service-token.client';

// CASL.
export { AbilityFactory, buildAbility, definePolicy } from './casl/policy';
export type { AppAbility, Policy, PolicyBuilder, RoleRules, ScopeRules } from './casl/policy';
export { accessibleBy } from './casl/accessible-by';
export {
  assertWritableFields,
  authorize,
  permittedFields,
  pickPermittedFields,
} from './casl/field-access';
export { formatPolicyTable, policyTable } from './casl/policy-table';
export type { PolicyTableRow } from './casl/policy-table';

// Transports.
export { bearerToken, httpBearerToken, messageBearerToken } from './transport/transport-of';
export { bearerChallenge } from './transport/edge-error';
export { serviceTokenInterceptor } from './transport/service-token.grpc-interceptor';
export { SecureEventPublisher } from './transport/secure-event.publisher';
export { EventsHeadersProvider } from './transport/events-headers.provider';
