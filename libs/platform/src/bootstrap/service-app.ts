import cookie from '@fastify/cookie';
import {
  type DynamicModule,
  Logger as NestLogger,
  type Type,
  ValidationPipe,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { Logger, PinoLogger } from 'nestjs-pino';
import { Gauge } from 'prom-client';
import type { IncomingMessage } from 'node:http';
import { ENV, type BaseConfig } from '../config/base-config.schema';
import { readConfiguredFile } from '../config/load-config';
import { REQUEST_ID_HEADER, runWithRequestContext } from '../context/request-context';
import { grpcServerOptions } from '../grpc/grpc-options';
import {
  earliestCertificateExpiry,
  grpcCertificateExpiry,
  type GrpcTlsSetting,
} from '../grpc/grpc-tls';
import { ReadinessService } from '../health/readiness.service';
import { securityHeaders } from '../http/security-headers';
import { requestIdFor } from '../logging/logging.options';
import { logRequestCompleted } from '../logging/request-log';
import { MetricsService } from '../metrics/metrics.service';
import { DeadLetterService } from '../messaging/dead-letter.service';
import { JetStreamServer } from '../messaging/jetstream.server';
import { MESSAGING_OPTIONS } from '../messaging/messaging.constants';
import type { MessagingOptions } from '../messaging/messaging.options';
import { NatsConnectionService } from '../messaging/nats-connection.service';
import { PLATFORM_OPTIONS, type PlatformOptions } from '../platform.module';

export interface ServiceAppOptions {
  serviceName: string;
  module: Type<unknown> | DynamicModule;
  config: BaseConfig;
  /**
   * gRPC server of this service, e.g. `{ packageName: 'users.v1', protoFile: 'users/v1/users.proto',
   * port: 50052, tls: loadGrpcTls(config), clients: ['orders'] }`: mutual TLS (or `'plaintext'`),
   * and the services whose certificates may call it.
   */
  grpc?: {
    packageName: string;
    protoFile: string;
    port: number;
    tls: GrpcTlsSetting;
    clients: readonly string[];
  };
  openApi: {
    title: string;
    description: string;
    /** Routes the service serves outside Nest's router, which OpenAPI cannot discover. */
    paths?: OpenAPIObject['paths'];
  };
  /** Print nothing while booting (tests); logs still go through pino once it is up. */
  quiet?: boolean;
}

/**
 * TRUST_PROXY for Fastify. A hop count becomes a function: Fastify 5.12 reads a number as
 * "trust nothing", since a hop count cannot tell the proxy from a client that connects
 * directly. It is right where only the proxy can reach the service (the k8s NetworkPolicies
 * admit only the ingress controller); elsewhere configure the proxies' addresses.
 */
export function trustProxyOption(
  value: BaseConfig['TRUST_PROXY'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof value === 'number' ? (_address, hop) => hop < value : value;
}

/**
 * Fastify's `https` option when HTTP_TLS_* are set (read at start: an unreadable file stops the
 * service), else nothing: plain HTTP, which production allows only with HTTP_PLAINTEXT=true.
 */
function httpsOption(config: BaseConfig): {
  https?: { cert: Buffer; key: Buffer; minVersion: 'TLSv1.2' };
} {
  const { HTTP_TLS_CERT_FILE: cert, HTTP_TLS_KEY_FILE: key } = config;
  if (cert === undefined || key === undefined) {
    if (config.NODE_ENV === 'production' && !config.HTTP_PLAINTEXT) {
      throw new Error('HTTP without TLS in production needs HTTP_PLAINTEXT=true');
    }
    return {};
  }
  return {
    https: {
      cert: readConfiguredFile(ENV.HTTP_TLS_CERT_FILE, cert),
      key: readConfiguredFile(ENV.HTTP_TLS_KEY_FILE, key),
      minVersion: 'TLSv1.2',
    },
  };
}

/**
 * Builds a service on Fastify with everything SPEC §2 and §6 ask of every service: security
 * headers, CORS allowlist, body limit, validation that rejects unknown fields, OpenAPI at
 * /docs, JSON errors, metrics, and its gRPC and JetStream transports. It does not listen yet.
 */
export async function createServiceApp(
  options: ServiceAppOptions,
): Promise<NestFastifyApplication> {
  const { config } = options;
  const https = httpsOption(config);
  const adapter = new FastifyAdapter({
    ...https,
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: trustProxyOption(config.TRUST_PROXY),
    genReqId: (req: IncomingMessage) => requestIdFor(req),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  const app = await NestFactory.create<NestFastifyApplication>(options.module, adapter, {
    bufferLogs: true,
    logger: options.quiet ? false : undefined,
  });
  app.useLogger(app.get(Logger));
  app.flushLogs();
  // A service that forgot to hand METRICS_TOKEN to PlatformModule would serve /metrics open
  // in production, where the configuration insists on the token.
  const platform = app.get<PlatformOptions>(PLATFORM_OPTIONS);
  if (
    platform.metricsToken !== config.METRICS_TOKEN ||
    platform.metricsTokenPrevious !== config.METRICS_TOKEN_PREVIOUS
  ) {
    await app.close();
    throw new TypeError(
      `${options.serviceName}: PlatformModule.forRoot({ metricsToken, metricsTokenPrevious }) ` +
        'must be config.METRICS_TOKEN and config.METRICS_TOKEN_PREVIOUS',
    );
  }

  // Fastify's own errors (body too large, malformed JSON) reach the global filter through
  // Nest's error handler, so they get the same JSON shape as errors raised in handlers.
  const fastify = app.getHttpAdapter().getInstance();
  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', (request, reply, done) => {
    logRequestCompleted(PinoLogger.root, request, reply);
    metrics.httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });

  // Every request, 404s included: helmet's headers (computed once: @fastify/helmet rebuilt its
  // middleware on every request, about a third of a token request's CPU), the request id, and
  // the request context the rest of the request runs in. A Fastify hook rather than a Nest
  // middleware: Nest's middleware engine cost every request several promises. Fastify keeps the
  // context across body parsing (its content-type parser captures it in an AsyncResource).
  const headers = securityHeaders();
  fastify.addHook('onRequest', (request, reply, done) => {
    const requestId = String(request.id);
    reply.headers(headers).header(REQUEST_ID_HEADER, requestId);
    runWithRequestContext({ requestId }, done);
  });
  await app.register(cookie);
  const allowedOrigins = new Set(config.CORS_ORIGINS);
  app.enableCors({
    // Only configured origins; an empty list disables CORS. Never "*" with credentials.
    origin: (origin, callback) =>
      callback(null, origin !== undefined && allowedOrigins.has(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id', 'WWW-Authenticate', 'Retry-After'],
    maxAge: 600,
  });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      validationError: { target: false, value: false },
    }),
  );

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(options.openApi.title)
      .setDescription(options.openApi.description)
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
  Object.assign(document.paths, options.openApi.paths);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });

  if (https.https)
    exportCertificateExpiry(app, 'http', earliestCertificateExpiry([https.https.cert]));
  if (options.grpc) {
    if (options.grpc.tls !== 'plaintext') {
      exportCertificateExpiry(app, 'grpc', grpcCertificateExpiry(options.grpc.tls));
    }
    app.connectMicroservice(
      grpcServerOptions(
        options.grpc.packageName,
        options.grpc.protoFile,
        `${config.HOST}:${options.grpc.port}`,
        options.grpc.tls,
        options.grpc.clients,
      ),
      { inheritAppConfig: true },
    );
  }
  const messaging = app.get<MessagingOptions>(MESSAGING_OPTIONS, { strict: false });
  if (messaging.consumers.length > 0) {
    app.connectMicroservice(
      {
        strategy: new JetStreamServer(
          app.get(NatsConnectionService),
          messaging.consumers,
          app.get(DeadLetterService),
        ),
      },
      { inheritAppConfig: true },
    );
  }
  return app;
}

/**
 * A TLS certificate's expiry (`http`: what HTTPS serves; `grpc`: what gRPC serves and presents,
 * or its CA), logged at start and exported as the gauge `<use>_tls_certificate_expiry_timestamp_seconds`:
 * the files are read once, and certificates renewed on disk take effect only on a restart.
 */
const CERTIFICATE_USES = {
  http: { label: 'HTTPS', logContext: 'HttpTls', logMessage: 'HTTPS' },
  grpc: { label: 'gRPC', logContext: 'GrpcTls', logMessage: 'gRPC mutual TLS' },
} as const;

function exportCertificateExpiry(
  app: NestFastifyApplication,
  use: keyof typeof CERTIFICATE_USES,
  expiry: Date,
): void {
  const { label, logContext, logMessage } = CERTIFICATE_USES[use];
  const gauge = new Gauge({
    name: `${use}_tls_certificate_expiry_timestamp_seconds`,
    help: `When the ${label} certificate of this process expires (unix seconds); restart after a renewal`,
    registers: [app.get(MetricsService).registry],
  });
  gauge.set(Math.floor(expiry.getTime() / 1000));
  new NestLogger(logContext).log({ expiresAt: expiry.toISOString() }, logMessage);
}

/** Starts the transports and the HTTP listener; resolves to the HTTP base URL. */
export async function listenServiceApp(
  app: NestFastifyApplication,
  config: BaseConfig,
): Promise<string> {
  await app.startAllMicroservices();
  await app.listen({ port: config.PORT, host: config.HOST });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const host = config.HOST === '0.0.0.0' ? 'localhost' : config.HOST;
  return `${config.HTTP_TLS_CERT_FILE ? 'https' : 'http'}://${host}:${port}`;
}

/**
 * main.ts of every service: build, listen, and shut down gracefully on SIGTERM/SIGINT:
 * readiness turns 503 first, then (after SHUTDOWN_DELAY_MS, for load balancers to notice)
 * in-flight requests finish, consumers stop, NATS is drained and the database closed.
 */
export async function runService(options: ServiceAppOptions): Promise<void> {
  const app = await createServiceApp(options);
  const url = await listenServiceApp(app, options.config);
  const logger = new NestLogger(options.serviceName);
  logger.log(
    `${options.serviceName} listening on ${url}${options.grpc ? ` (gRPC :${options.grpc.port})` : ''}`,
  );
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal} received: draining`);
    app.get(ReadinessService).markShuttingDown();
    const hardStop = setTimeout(() => {
      logger.error('graceful shutdown timed out');
      process.exit(1);
    }, options.config.SHUTDOWN_DELAY_MS + 15_000);
    hardStop.unref();
    await new Promise((resolve) => setTimeout(resolve, options.config.SHUTDOWN_DELAY_MS));
    await app.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
