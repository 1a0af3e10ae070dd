export { createServiceApp, listenServiceApp, runService } from './bootstrap/service-app';
export type { ServiceAppOptions } from './bootstrap/service-app';
export {
  baseConfigSchema,
  ENV,
  refineProduction,
  withDevelopmentAuthIssuer,
} from './config/base-config.schema';
export type { BaseConfig } from './config/base-config.schema';
export { ConfigError, loadConfig } from './config/load-config';
export {
  acceptRequestId,
  currentRequestId,
  REQUEST_ID_HEADER,
  runWithRequestContext,
} from './context/request-context';
export type { RequestContext } from './context/request-context';
export { DatabaseModule } from './database/database.module';
export { MESSAGING_RETENTION, RetentionSweeper } from './database/retention';
export type { RetentionRule } from './database/retention';
export { MESSAGING_ENTITIES, serviceDataSourceOptions } from './database/data-source-options';
export type { ServiceDataSourceOptions } from './database/data-source-options';
export { DeadLetter } from './database/dead-letter.entity';
export { InboxMessage } from './database/inbox-message.entity';
export {
  createMessagingTables,
  createMessagingTablesV1,
  dropMessagingTables,
  InboxKeyedBySubject1765152000000,
  keyInboxByMessageId,
  keyInboxBySubject,
} from './database/messaging-tables';
export { OutboxMessage } from './database/outbox-message.entity';
export { migrateAndExit, runMigrations } from './database/run-migrations';
export { ApiError } from './errors/api-error';
export { normalizeError } from './errors/error-body';
export { codeForStatus, GRPC_STATUS, grpcStatusForHttpStatus } from './errors/error-codes';
export { GRPC_MAX_MESSAGE_BYTES, grpcClientOptions, grpcServerOptions } from './grpc/grpc-options';
export {
  GRPC_TLS_ENV,
  grpcTlsConfigShape,
  loadGrpcTls,
  refineGrpcTls,
  type GrpcTls,
  type GrpcTlsConfig,
  type GrpcTlsSetting,
} from './grpc/grpc-tls';
export { protoDir, protoFile } from './grpc/proto-path';
export { requestIdClientInterceptor } from './grpc/request-id.client-interceptor';
export { ReadinessService } from './health/readiness.service';
export type { ReadinessCheck } from './health/readiness.service';
export { Public } from './http/public.decorator';
export { REDACTED_PATHS } from './logging/logging.options';
export { DeadLetterService } from './messaging/dead-letter.service';
export { InboxService } from './messaging/inbox.service';
export { JetStreamContext } from './messaging/jetstream.context';
export { JetStreamServer } from './messaging/jetstream.server';
export {
  DUPLICATE_WINDOW_MS,
  IDENTITY_VERSION_HEADER,
  MESSAGE_HEADERS_PROVIDER,
  STREAM_MAX_AGE_MS,
  AUTH_STREAM_MAX_AGE_MS,
  STREAMS,
  SUBJECTS,
} from './messaging/messaging.constants';
export type { StreamName } from './messaging/messaging.constants';
export type { MessageHeadersProvider } from './messaging/message-headers.provider';
export { MessagingModule } from './messaging/messaging.module';
export type { DurableConsumerOptions, MessagingOptions } from './messaging/messaging.options';
export { NatsConnectionService } from './messaging/nats-connection.service';
export { OutboxRelayService } from './messaging/outbox-relay.service';
export { OutboxService } from './messaging/outbox.service';
export { ensureStream, StreamsService } from './messaging/streams.service';
export { MetricsService } from './metrics/metrics.service';
export { decodeKeysetCursor, encodeKeysetCursor } from './pagination/keyset-cursor';
export type { KeysetCursorOptions, KeysetPosition } from './pagination/keyset-cursor';
export { PlatformModule } from './platform.module';
export type { PlatformOptions } from './platform.module';
export { MemoryRateLimitStore } from './rate-limit/memory-rate-limit.store';
export { createRateLimitStore, RateLimitModule } from './rate-limit/rate-limit.module';
export type { RateLimitModuleOptions } from './rate-limit/rate-limit.module';
export { RATE_LIMIT_STORE } from './rate-limit/rate-limit.store';
export type { RateLimitStore, WindowState } from './rate-limit/rate-limit.store';
export { assertAllowed, RateLimiter } from './rate-limit/rate-limiter';
export { clientNetwork } from './rate-limit/client-network';
export type { RateLimitDecision, RateLimitRule } from './rate-limit/rate-limiter';
export { RedisRateLimitStore } from './rate-limit/redis-rate-limit.store';
export type { RedisRateLimitStoreOptions } from './rate-limit/redis-rate-limit.store';
