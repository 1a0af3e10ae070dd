import {
  InterceptingCall,
  Metadata,
  status as GrpcStatus,
  type Interceptor,
  type InterceptingListener,
  type InterceptorOptions,
  type NextCall,
  type StatusObject,
} from '@grpc/grpc-js';
import type { ServiceTokenClient } from '../token/service-token.client';

/**
 * A grpc-js client interceptor that attaches `authorization: Bearer <service token>` for
 * `audience`. Give it under `channelOptions.interceptors` (the only place Nest passes
 * interceptors to grpc-js), e.g. via `grpcClientOptions(pkg, file, url, [interceptor], tls)`,
 * which also attaches the request id.
 *
 * - A call that already carries `authorization` (a token exchanged for a user, RFC 8693)
 *   keeps it.
 * - The wait for a token counts against the call's deadline: a call whose deadline passes
 *   first ends with DEADLINE_EXCEEDED, and one cancelled meanwhile ends with CANCELLED; the
 *   call is never sent. No token at all ends it with UNAVAILABLE.
 * - A unary call answered UNAUTHENTICATED is sent once more with a fresh token (the first
 *   may be stale: a rotated key, a revocation). The guard answers UNAUTHENTICATED before any
 *   handler runs, so the retried call was not processed; a handler must not answer it after
 *   doing work.
 *
 * @example
 * ClientsModule.registerAsync([{ name: USERS_GRPC, inject: [ServiceTokenClient],
 *   useFactory: (tokens) => grpcClientOptions('users.v1', 'users/v1/users.proto', url,
 *     [serviceTokenInterceptor(tokens, 'users', 'users:read')], loadGrpcTls(config)) }])
 */
export function serviceTokenInterceptor(
  tokens: ServiceTokenClient,
  audience: string,
  scope?: string,
): Interceptor {
  const token = (refused: string | undefined) => {
    if (refused !== undefined) tokens.invalidate(audience, refused);
    return tokens.getToken(audience, scope);
  };
  return (options, nextCall) =>
    new InterceptingCall(new ServiceTokenCall(options, nextCall, token));
}

/** What grpc-js's NextCall returns (its interface type is not exported). */
type InterceptingCallInterface = ReturnType<NextCall>;
type MessageContext = Parameters<InterceptingCallInterface['sendMessageWithContext']>[0];
type AuthContext = ReturnType<InterceptingCallInterface['getAuthContext']>;

/** What a unary call needs to be sent again: the caller's metadata and the token it carried. */
interface RetryOf {
  metadata: Metadata;
  token: string;
}

function statusOf(code: GrpcStatus, details: string): StatusObject {
  return { code, details, metadata: new Metadata() };
}

function withToken(metadata: Metadata, token: string): Metadata {
  const copy = metadata.clone();
  copy.set('authorization', `Bearer ${token}`);
  return copy;
}

/**
 * One call through the interceptor. The next call is made only once the token is there:
 * grpc-js starts a call's deadline timer when the call is made, and a call that times out
 * before it is started reports its status to no one, so the caller would wait forever.
 */
class ServiceTokenCall implements InterceptingCallInterface {
  private readonly retries: boolean;
  /** The call sent to the server; undefined while waiting for a token. */
  private current: InterceptingCallInterface | undefined;
  private listener: InterceptingListener | undefined;
  /** A status went to the caller: nothing else may. */
  private finished = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** What the caller sent before a call existed, and (unary) what a retry sends again. */
  private readonly messages: { context: MessageContext; message: unknown }[] = [];
  private halfClosed = false;
  private readsRequested = 0;

  constructor(
    private readonly options: InterceptorOptions,
    private readonly nextCall: NextCall,
    /** A token for the call; given the token a callee refused, one that replaces it. */
    private readonly token: (refused: string | undefined) => Promise<string>,
  ) {
    const method = options.method_definition;
    this.retries = !method.requestStream && !method.responseStream;
  }

  start(metadata: Metadata, listener: InterceptingListener): void {
    this.listener = listener;
    if (this.finished) return;
    if (metadata.get('authorization').length > 0) return this.send(metadata, undefined);
    this.whenToken(undefined, (token) =>
      this.send(withToken(metadata, token), this.retries ? { metadata, token } : undefined),
    );
  }

  /** Waits for a token within the deadline, then `then(token)`; else ends the call. */
  private whenToken(refused: string | undefined, then: (token: string) => void): void {
    this.current = undefined;
    const deadline = this.options.deadline;
    const ms = deadline instanceof Date ? deadline.getTime() : (deadline ?? Infinity);
    if (Number.isFinite(ms)) {
      this.deadlineTimer = setTimeout(
        () =>
          this.finish(
            statusOf(
              GrpcStatus.DEADLINE_EXCEEDED,
              'deadline exceeded while waiting for a service token',
            ),
          ),
        Math.max(0, ms - Date.now()),
      );
    }
    this.token(refused).then(
      (token) => {
        if (this.finished) return;
        clearTimeout(this.deadlineTimer);
        then(token);
      },
      () => this.finish(statusOf(GrpcStatus.UNAVAILABLE, 'no service token available')),
    );
  }

  /**
   * Makes and starts the call. With `retry` (the caller's metadata, without a token, and the
   * token sent) the answer is held until its status is known, so that an UNAUTHENTICATED one
   * can be replaced by the retry's answer.
   */
  private send(metadata: Metadata, retry: RetryOf | undefined): void {
    const call = this.nextCall(this.options);
    this.current = call;
    call.start(metadata, retry ? this.heldListener(retry) : this.passListener());
    for (const { context, message } of this.messages) call.sendMessageWithContext(context, message);
    if (this.halfClosed) call.halfClose();
    for (let i = 0; i < this.readsRequested; i++) call.startRead();
    this.readsRequested = 0;
  }

  private passListener(): InterceptingListener {
    return {
      onReceiveMetadata: (metadata) => {
        if (!this.finished) this.listener!.onReceiveMetadata(metadata);
      },
      onReceiveMessage: (message) => {
        if (!this.finished) this.listener!.onReceiveMessage(message);
      },
      onReceiveStatus: (status) => this.finish(status),
    };
  }

  private heldListener(retry: RetryOf): InterceptingListener {
    const held: { metadata?: Metadata; messages: unknown[] } = { messages: [] };
    const release = (status: StatusObject) => {
      if (this.finished) return;
      if (held.metadata) this.listener!.onReceiveMetadata(held.metadata);
      for (const message of held.messages) this.listener!.onReceiveMessage(message);
      this.finish(status);
    };
    return {
      onReceiveMetadata: (metadata) => {
        held.metadata = metadata;
      },
      onReceiveMessage: (message) => {
        held.messages.push(message);
      },
      onReceiveStatus: (status) => {
        if (status.code !== GrpcStatus.UNAUTHENTICATED || this.finished) return release(status);
        this.whenToken(retry.token, (fresh) =>
          this.send(withToken(retry.metadata, fresh), undefined),
        );
      },
    };
  }

  private finish(status: StatusObject): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.deadlineTimer);
    this.listener?.onReceiveStatus(status);
  }

  cancelWithStatus(code: GrpcStatus, details: string): void {
    if (this.finished) return;
    // While waiting for a token there is no call to cancel: the caller is answered here.
    if (this.current) this.current.cancelWithStatus(code, details);
    else this.finish(statusOf(code, details));
  }

  sendMessageWithContext(context: MessageContext, message: unknown): void {
    if (this.retries || !this.current) this.messages.push({ context, message });
    this.current?.sendMessageWithContext(context, message);
  }

  sendMessage(message: unknown): void {
    this.sendMessageWithContext({}, message);
  }

  startRead(): void {
    if (this.current) this.current.startRead();
    else this.readsRequested++;
  }

  halfClose(): void {
    this.halfClosed = true;
    this.current?.halfClose();
  }

  getPeer(): string {
    return this.current?.getPeer() ?? '';
  }

  getAuthContext(): AuthContext {
    return this.current?.getAuthContext() ?? null;
  }
}
