// The configuration rules users and orders share as resource servers of auth, run against each
// service's own loader (apps/users/src/users.config.spec.ts, apps/orders/src/orders.config.spec.ts).
import { randomBytes } from 'node:crypto';

type Load = (env: Record<string, string | undefined>) => {
  AUTH_ISSUER: string;
  CLIENT_SECRET?: string;
  NATS_CA_FILE?: string;
  GRPC_TLS_CA_FILE?: string;
  GRPC_PLAINTEXT: boolean;
};

/**
 * `serviceName` is also the service's NATS user; `grpcTarget` the variable naming the gRPC
 * server it calls; `extraProduction` what else the service requires in production.
 */
export function resourceServerConfigCases(
  serviceName: string,
  load: Load,
  {
    grpcTarget,
    extraProduction = {},
  }: { grpcTarget: string; extraProduction?: Record<string, string> },
): void {
  const base = { DATABASE_URL: 'postgres://u:p@h/db', NATS_URL: 'nats://h:4222' };
  const production = {
    ...base,
    NODE_ENV: 'production',
    CLIENT_SECRET: randomBytes(32).toString('base64url'),
    METRICS_TOKEN: randomBytes(32).toString('hex'),
    NATS_USER: serviceName,
    NATS_PASSWORD: randomBytes(32).toString('hex'),
    AUTH_ISSUER: 'https://auth.example.com',
    HTTP_TLS_CERT_FILE: '/etc/service-tls/tls.crt',
    HTTP_TLS_KEY_FILE: '/etc/service-tls/tls.key',
    GRPC_TLS_CERT_FILE: '/etc/service-tls/tls.crt',
    GRPC_TLS_KEY_FILE: '/etc/service-tls/tls.key',
    GRPC_TLS_CA_FILE: '/etc/service-tls/ca.crt',
    [grpcTarget]: 'peer.s2s.svc.cluster.local:50052',
    ...extraProduction,
  };
  const noGrpcTls = {
    GRPC_TLS_CERT_FILE: undefined,
    GRPC_TLS_KEY_FILE: undefined,
    GRPC_TLS_CA_FILE: undefined,
  };

  it('accepts a complete production config', () => {
    expect(load(production).AUTH_ISSUER).toBe('https://auth.example.com');
  });

  it('refuses production without AUTH_ISSUER, whose JWKS it trusts; defaults it elsewhere', () => {
    expect(() => load({ ...production, AUTH_ISSUER: undefined })).toThrow(
      /AUTH_ISSUER: is required in production/,
    );
    expect(load(base).AUTH_ISSUER).toBe('http://localhost:3001');
  });

  it('refuses production without its own NATS login', () => {
    expect(() => load({ ...production, NATS_USER: undefined })).toThrow(/NATS_USER/);
    expect(() => load({ ...production, NATS_PASSWORD: undefined })).toThrow(/NATS_PASSWORD/);
  });

  it('refuses a CLIENT_SECRET shorter than the 43 characters auth requires of the same secret', () => {
    expect(() => load({ ...production, CLIENT_SECRET: 'a'.repeat(42) })).toThrow(/CLIENT_SECRET/);
    expect(load({ ...production, CLIENT_SECRET: 'a'.repeat(43) }).CLIENT_SECRET).toHaveLength(43);
  });

  it('takes NATS_CA_FILE with a tls:// NATS_URL only', () => {
    const tls = { ...production, NATS_URL: 'tls://nats:4222', NATS_CA_FILE: '/etc/nats/ca.pem' };
    expect(load(tls).NATS_CA_FILE).toBe('/etc/nats/ca.pem');
    expect(() => load({ ...tls, NATS_URL: 'nats://nats:4222' })).toThrow(
      /NATS_CA_FILE: is for a tls:\/\/ NATS_URL only/,
    );
  });

  it('refuses plaintext gRPC in production unless GRPC_PLAINTEXT says a mesh encrypts it', () => {
    expect(() => load({ ...production, ...noGrpcTls })).toThrow(
      /GRPC_TLS_CERT_FILE: is required in production/,
    );
    expect(load({ ...production, ...noGrpcTls, GRPC_PLAINTEXT: 'true' }).GRPC_PLAINTEXT).toBe(true);
    expect(load({ ...base }).GRPC_TLS_CA_FILE).toBeUndefined();
  });

  it('takes the gRPC certificate, its key and the CA together, and not with GRPC_PLAINTEXT', () => {
    expect(load(production).GRPC_TLS_CA_FILE).toBe('/etc/service-tls/ca.crt');
    for (const name of Object.keys(noGrpcTls)) {
      expect(() => load({ ...base, ...production, [name]: undefined })).toThrow(
        new RegExp(`${name}: is required with`),
      );
    }
    expect(() => load({ ...production, GRPC_PLAINTEXT: 'true' })).toThrow(
      /GRPC_PLAINTEXT: true contradicts/,
    );
    expect(() => load({ ...production, GRPC_PLAINTEXT: 'yes' })).toThrow(/GRPC_PLAINTEXT/);
  });

  it('names the gRPC server it calls with TLS by DNS name, which the certificate carries', () => {
    expect(() => load({ ...production, [grpcTarget]: '10.0.0.5:50052' })).toThrow(
      new RegExp(`${grpcTarget}: must name the server by DNS name`),
    );
    expect(() => load({ ...production, [grpcTarget]: '[fd00::5]:50052' })).toThrow(
      new RegExp(grpcTarget),
    );
    for (const target of [
      'dns:10.0.0.5:50052',
      'dns:///10.0.0.5:50052',
      'ipv4:10.0.0.5:50052',
      'ipv6:[::1]:50052',
    ]) {
      expect(() => load({ ...production, [grpcTarget]: target })).toThrow(new RegExp(grpcTarget));
    }
    expect(() => load({ ...production, [grpcTarget]: 'peer.s2s.svc:50052' })).not.toThrow();
    expect(() => load({ ...production, [grpcTarget]: 'dns:///peer.s2s.svc:50052' })).not.toThrow();
    // Without TLS (here, outside production) an address is fine.
    expect(() => load({ ...base, [grpcTarget]: '10.0.0.5:50052' })).not.toThrow();
  });
}
