import { GRPC_STATUS, JetStreamContext } from '@app/platform';
import {
  messageBearerToken,
  EVENTS_AUDIENCE,
  EVENTS_PUBLISH_SCOPE,
  publisherOf,
  storedTooLongAgo,
  TokenVerifier,
  type AccessTokenClaims,
  type Principal,
} from '@app/security';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { RevocationService } from '../revocations/revocation.service';

const refuse = (message: string) =>
  new RpcException({ code: GRPC_STATUS.UNAUTHENTICATED, message });

/**
 * Deny by default for NATS messages auth consumes (SPEC §5): a service token for audience
 * "events" with scope events:publish, valid when the broker stored the message, whose client
 * may publish that subject, and whose client still exists; and a message stored at most
 * MAX_STORED_MESSAGE_AGE_SECONDS ago, as @app/security's guard asks (auth's deny-list rows last
 * that long after their token's exp).
 */
@Injectable()
export class EventTokenGuard implements CanActivate {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly revocations: RevocationService,
  ) {}

  /** Synchronous for HTTP (AccessTokenGuard's side): Nest awaits only a returned promise. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'rpc') return true;
    return this.authenticate(context.switchToRpc().getContext<JetStreamContext>());
  }

  private async authenticate(message: JetStreamContext): Promise<boolean> {
    if (!(message instanceof JetStreamContext)) throw refuse('not a JetStream message');
    const token = messageBearerToken(message);
    if (!token) throw refuse('message has no bearer token');
    if (storedTooLongAgo(message.getStoredAt())) {
      // The code @app/security's guard gives it, so both dead-letter it alike.
      throw new RpcException({
        code: GRPC_STATUS.UNAUTHENTICATED,
        message: 'message was stored too long ago: streams keep messages 7 days',
        errorCode: 'MESSAGE_TOO_OLD',
      });
    }
    let claims: AccessTokenClaims;
    let principal: Principal;
    try {
      // Verified by @app/security's TokenVerifier (own-token-verifier.ts), as users and orders do.
      ({ claims, principal } = await this.verifier.verify(token, {
        audience: EVENTS_AUDIENCE,
        currentDate: message.getStoredAt(),
        allowRetiredKeys: true,
      }));
    } catch (error) {
      throw refuse(`message token rejected: ${(error as Error).message}`);
    }
    if (!claims.scope.split(' ').includes(EVENTS_PUBLISH_SCOPE)) {
      throw new RpcException({
        code: GRPC_STATUS.PERMISSION_DENIED,
        message: 'scope events:publish is required',
      });
    }
    // As @app/security's guard: a service's own token (no user, no `act`), of the subject's owner.
    if (principal.kind !== 'service') {
      throw new RpcException({
        code: GRPC_STATUS.PERMISSION_DENIED,
        message: 'events are published by services only',
      });
    }
    if (publisherOf(message.getSubject()) !== claims.client_id) {
      throw new RpcException({
        code: GRPC_STATUS.PERMISSION_DENIED,
        message: `client ${claims.client_id} may not publish ${message.getSubject()}`,
      });
    }
    if (await this.revocations.isRevoked(claims)) throw refuse('message token revoked');
    return true;
  }
}
