import { credentials, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { plaintextFlag, refineTlsFiles } from '../config/base-config.schema';
import { readConfiguredFile } from '../config/load-config';
import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The gRPC transport security of a service that serves and calls gRPC (users, orders): mutual
 * TLS with one certificate per service, which it presents as a server and as a client, and the
 * CA that signs every service's certificate. A service accepts only callers with a certificate
 * of that CA, and calls only servers whose certificate names the host it dials. The bearer
 * token still decides what a caller may do; TLS keeps it (a user's delegated token, a service's
 * token) from being read or replayed off the network.
 */
export const GRPC_TLS_ENV = {
  CERT_FILE: 'GRPC_TLS_CERT_FILE',
  KEY_FILE: 'GRPC_TLS_KEY_FILE',
  CA_FILE: 'GRPC_TLS_CA_FILE',
  PLAINTEXT: 'GRPC_PLAINTEXT',
} as const;

/** The variables, for a service's config schema: `baseConfigSchema.safeExtend({ ...grpcTlsConfigShape, ... })`. */
export const grpcTlsConfigShape = {
  /** PEM certificate (chain) of this service, for its gRPC server and as its client certificate. */
  GRPC_TLS_CERT_FILE: z.string().min(1).optional(),
  /** PEM private key of that certificate. */
  GRPC_TLS_KEY_FILE: z.string().min(1).optional(),
  /** PEM CA bundle that signs the certificates of the services it serves and calls. */
  GRPC_TLS_CA_FILE: z.string().min(1).optional(),
  /**
   * `true`: gRPC without TLS in production, where a service mesh already encrypts and
   * authenticates the traffic between pods. Outside production plaintext needs no flag.
   */
  GRPC_PLAINTEXT: plaintextFlag,
};

export interface GrpcTlsConfig {
  NODE_ENV: string;
  GRPC_TLS_CERT_FILE?: string;
  GRPC_TLS_KEY_FILE?: string;
  GRPC_TLS_CA_FILE?: string;
  GRPC_PLAINTEXT: boolean;
}

const FILES = [GRPC_TLS_ENV.CERT_FILE, GRPC_TLS_ENV.KEY_FILE, GRPC_TLS_ENV.CA_FILE] as const;

/** The host of a grpc-js target (`host:port`, `[v6]:port`, `dns:host:port`). */
function targetHost(target: string): string {
  const bare = target.replace(/^dns:(\/\/[^/]*\/)?/, '');
  const bracketed = /^\[([^\]]+)\]/.exec(bare);
  return bracketed ? bracketed[1] : bare.replace(/:\d+$/, '');
}

/**
 * For a service's `superRefine`: the three files come together (mutual TLS needs all three),
 * never with GRPC_PLAINTEXT, and production refuses plaintext gRPC unless GRPC_PLAINTEXT says
 * a mesh protects it. `targets` name the variables holding the gRPC servers this service calls:
 * with TLS each must be a DNS name, which the server's certificate must carry (grpc-js sends
 * the host as the TLS server name, and Node refuses an IP address there).
 */
export function refineGrpcTls<T extends GrpcTlsConfig>(
  config: T,
  ctx: z.RefinementCtx,
  targets: readonly (keyof T & string)[],
): void {
  const given = refineTlsFiles(config, ctx, {
    files: FILES,
    plaintext: { name: GRPC_TLS_ENV.PLAINTEXT, value: config.GRPC_PLAINTEXT },
    together: 'mutual TLS needs the certificate, its key and the CA',
    production:
      'is required in production, with GRPC_TLS_KEY_FILE and GRPC_TLS_CA_FILE: bearer tokens ' +
      'must not cross the network in clear (GRPC_PLAINTEXT=true only behind a mesh that encrypts pod traffic)',
  });
  if (given.length === FILES.length) {
    for (const name of targets) {
      const target = config[name];
      if (
        typeof target === 'string' &&
        (/^ipv[46]:/.test(target) || isIP(targetHost(target)) !== 0)
      ) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message:
            'must name the server by DNS name with GRPC_TLS_* (its certificate must carry that ' +
            'name; an IP address cannot be the TLS server name)',
        });
      }
    }
  }
}

/** The PEM contents of a service's gRPC certificate, its key and its peers' CA. */
export interface GrpcTls {
  readonly certificate: Buffer;
  readonly privateKey: Buffer;
  readonly ca: Buffer;
}

/**
 * How a gRPC server or client talks: mutual TLS, or plaintext said in so many words. Every
 * server and client takes one; there is no default a forgotten argument could fall back to.
 */
export type GrpcTlsSetting = GrpcTls | 'plaintext';

/**
 * Reads the configured files (at start: a missing or unreadable one stops the service), or
 * 'plaintext' without them. In production plaintext needs GRPC_PLAINTEXT=true, as the config
 * schema already says (`refineGrpcTls`); checked again here, where the setting is made.
 */
export function loadGrpcTls(config: GrpcTlsConfig): GrpcTlsSetting {
  const { GRPC_TLS_CERT_FILE: cert, GRPC_TLS_KEY_FILE: key, GRPC_TLS_CA_FILE: ca } = config;
  if (cert === undefined || key === undefined || ca === undefined) {
    if (config.NODE_ENV === 'production' && !config.GRPC_PLAINTEXT) {
      throw new Error('gRPC without TLS in production needs GRPC_PLAINTEXT=true');
    }
    return 'plaintext';
  }
  return {
    certificate: readConfiguredFile(GRPC_TLS_ENV.CERT_FILE, cert),
    privateKey: readConfiguredFile(GRPC_TLS_ENV.KEY_FILE, key),
    ca: readConfiguredFile(GRPC_TLS_ENV.CA_FILE, ca),
  };
}

/** Server side: presents the certificate and requires a client certificate signed by the CA. */
export function grpcServerCredentials(tls: GrpcTlsSetting): ServerCredentials {
  if (tls === 'plaintext') return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(
    tls.ca,
    [{ cert_chain: tls.certificate, private_key: tls.privateKey }],
    true,
  );
}

/** Client side: trusts only the CA (and the host name it dials) and presents the certificate. */
export function grpcChannelCredentials(tls: GrpcTlsSetting): ChannelCredentials {
  if (tls === 'plaintext') return credentials.createInsecure();
  return credentials.createSsl(tls.ca, tls.privateKey, tls.certificate);
}

/** Every certificate of a PEM bundle. */
function certificatesOf(pem: Buffer): X509Certificate[] {
  const blocks = pem
    .toString('latin1')
    .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  return (blocks ?? []).map((block) => new X509Certificate(block));
}

/**
 * When the first certificate of the service's gRPC TLS expires: of its chain or of the CA
 * bundle it trusts (after either, calls fail). The files are read at start, so renewed files
 * need a restart before this time: services export it as the gauge
 * `grpc_tls_certificate_expiry_timestamp_seconds` to alert on.
 */
export function grpcCertificateExpiry(tls: GrpcTls): Date {
  return earliestCertificateExpiry([tls.certificate, tls.ca]);
}

/** When the first certificate of these PEM bundles expires. */
export function earliestCertificateExpiry(pems: readonly Buffer[]): Date {
  const expiries = pems.flatMap(certificatesOf).map((cert) => Date.parse(cert.validTo));
  if (expiries.length === 0) throw new Error('the TLS files hold no PEM certificate');
  return new Date(Math.min(...expiries));
}
