import { ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import { Logger } from '@nestjs/common';

/** At most one refusal log line per this many ms; the ones in between are counted in the next. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/** The DNS names of a certificate's subjectAltName, as Node prints it (`DNS:orders, DNS:x, IP Address:...`). */
export function dnsNamesOf(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  return subjectAltName
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice('DNS:'.length));
}

/**
 * With mutual TLS, a grpc-js server interceptor (`grpcServerOptions` installs it): a call is
 * served only if the client's certificate names one of `clients` (a DNS subjectAltName: the
 * calling service's name, which its certificate carries). The handshake admits any certificate
 * of the services' CA; this keeps each server to the services that call it (users: orders;
 * orders: users), whatever else holds such a certificate. A refused call ends with
 * PERMISSION_DENIED before its metadata or message reaches Nest; the bearer token is still
 * checked for every call that gets through.
 */
export function peerServiceInterceptor(clients: readonly string[]): ServerInterceptor {
  const logger = new Logger('GrpcTls');
  let lastLoggedAt = 0;
  let unlogged = 0;
  const logRefusal = (peer: string, names: string[]) => {
    const now = Date.now();
    if (now - lastLoggedAt < REFUSAL_LOG_INTERVAL_MS) {
      unlogged++;
      return;
    }
    logger.warn(
      {
        peer,
        certificateNames: names.slice(0, 5),
        allowed: clients,
        refusedSinceLastLine: unlogged,
      },
      'gRPC call refused: the client certificate names no service allowed to call',
    );
    lastLoggedAt = now;
    unlogged = 0;
  };
  return (_method, call) => {
    const names = dnsNamesOf(call.getAuthContext().sslPeerCertificate?.subjectaltname);
    if (names.some((name) => clients.includes(name))) return new ServerInterceptingCall(call);
    logRefusal(call.getPeer(), names);
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: () =>
            call.sendStatus({
              code: status.PERMISSION_DENIED,
              details: 'this client certificate names no service allowed to call this server',
            }),
        }),
    });
  };
}
