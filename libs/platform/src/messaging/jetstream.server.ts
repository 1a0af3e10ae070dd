import { Logger } from '@nestjs/common';
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { AckPolicy, DeliverPolicy, nanos, type ConsumerMessages, type JsMsg } from 'nats';
import { lastValueFrom } from 'rxjs';
import {
  acceptRequestId,
  REQUEST_ID_HEADER,
  runWithRequestContext,
} from '../context/request-context';
import { GRPC_STATUS } from '../errors/error-codes';
import type { DeadLetterService } from './dead-letter.service';
import { JetStreamContext } from './jetstream.context';
import { STREAMS } from './messaging.constants';
import type { DurableConsumerOptions } from './messaging.options';
import type { NatsConnectionService } from './nats-connection.service';

/** Failures that a redelivery cannot fix: the message is refused and recorded, never retried. */
const PERMANENT_FAILURES = new Set<number>([
  GRPC_STATUS.INVALID_ARGUMENT,
  GRPC_STATUS.UNAUTHENTICATED,
  GRPC_STATUS.PERMISSION_DENIED,
  GRPC_STATUS.NOT_FOUND,
  GRPC_STATUS.FAILED_PRECONDITION,
  GRPC_STATUS.ALREADY_EXISTS,
]);

/** Wait before redelivery number `deliveryCount + 1`: 1 s, 2 s, 4 s, ... capped at 30 s. */
export function redeliveryDelayMs(deliveryCount: number): number {
  return Math.min(30_000, 1000 * 2 ** (deliveryCount - 1));
}

/**
 * Deliveries of a message that keeps failing before it is dead-lettered: with the delays of
 * `redeliveryDelayMs`, about 30 minutes. A failover of the database or a restart of auth takes
 * minutes; five deliveries (15 s) turned such an outage into lost events.
 */
export const DEFAULT_MAX_DELIVER = 64;

const STATUS_NAMES = Object.fromEntries(
  Object.entries(GRPC_STATUS).map(([name, code]) => [code, name]),
);

interface HandlerFailure {
  code?: number;
  errorCode?: string;
  message?: string;
}

/**
 * A Nest transport that feeds `@EventPattern(subject)` handlers from JetStream durable pull
 * consumers, so guards, pipes, interceptors and filters apply to NATS messages exactly as to
 * gRPC calls (`host.getType() === 'rpc'`, context: `JetStreamContext`).
 *
 * Outcome of a message: handler succeeded → ack; a permanent failure (bad token, wrong
 * publisher, invalid payload) → recorded as a dead letter and terminated; anything else →
 * redelivered with back-off, and dead-lettered once `maxDeliver` is reached. A message is
 * terminated only once its dead letter is written; until then it is redelivered.
 */
export class JetStreamServer extends Server implements CustomTransportStrategy {
  protected override readonly logger = new Logger('JetStreamServer');
  private readonly active = new Set<ConsumerMessages>();
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * Handler runs by stream, consumer and stream sequence (one server feeds several consumers,
   * and two streams have a sequence 1), including ones past their deadline that still run.
   */
  private readonly running = new Map<string, Promise<unknown>>();
  private stopped = false;

  constructor(
    private readonly nats: NatsConnectionService,
    private readonly consumers: DurableConsumerOptions[],
    private readonly deadLetters: DeadLetterService,
  ) {
    super();
  }

  listen(callback: () => void): void {
    for (const consumer of this.consumers) void this.runConsumer(consumer);
    callback();
  }

  private async runConsumer(options: DurableConsumerOptions): Promise<void> {
    const stream = STREAMS[options.stream].name;
    while (!this.stopped) {
      try {
        await this.nats.whenConnected();
        const manager = await this.nats.jetstreamManager();
        await manager.consumers.add(stream, {
          durable_name: options.durable,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          filter_subject: options.filterSubject,
          // No broker limit: this server gives up on a message itself (`maxDeliver`) and only
          // once it is recorded as a dead letter. With a broker limit, a message whose dead
          // letter could not be written (the database away through the last deliveries) was
          // never delivered again: neither applied nor recorded. A message whose last delivery
          // got no answer (the process died) comes back, and is recorded as given up.
          max_deliver: -1,
          ack_wait: nanos(options.ackWaitMs ?? 30_000),
        });
        const consumer = await this.nats.jetstream().consumers.get(stream, options.durable);
        // One message at a time, as they are handled: nats.js asks for the next one when the
        // loop takes it, so its ack wait starts then. With a larger batch, messages waiting in
        // the client behind a slow handler ran out their ack wait, were delivered again, and
        // ran twice.
        const messages = await consumer.consume({ max_messages: 1 });
        this.active.add(messages);
        this.logger.log(`consuming ${stream}/${options.durable}`);
        try {
          for await (const message of messages) {
            if (this.stopped) {
              message.nak();
              break;
            }
            const work = this.process(message, options).catch((error: unknown) => {
              // Not expected (process() answers every message itself); the message is left to
              // its ack wait and redelivered, and the loop goes on with the next one.
              this.logger.error(
                { error: (error as Error).message, subject: message.subject },
                'message not processed',
              );
            });
            this.inFlight.add(work);
            await work;
            this.inFlight.delete(work);
          }
        } finally {
          this.active.delete(messages);
        }
      } catch (error) {
        if (this.stopped) return;
        // Typically: the stream's owner has not started yet, or NATS is away. Try again shortly.
        this.logger.warn(
          { error: (error as Error).message, stream, durable: options.durable },
          'consumer not ready',
        );
      }
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, 1000).unref());
    }
  }

  private async process(message: JsMsg, options: DurableConsumerOptions): Promise<void> {
    const context = new JetStreamContext(message);
    const requestId = acceptRequestId(context.getHeader(REQUEST_ID_HEADER));
    await runWithRequestContext({ requestId }, async () => {
      const refuse = async (code: number, reason: string) => {
        try {
          await this.deadLetters.record(context, STATUS_NAMES[code] ?? String(code), reason);
        } catch (error) {
          // Terminated unrecorded, it would be lost without a trace: it comes back later, to be
          // refused (and recorded) again.
          this.logger.error(
            { error: (error as Error).message, subject: message.subject },
            'dead letter not recorded; the message is redelivered',
          );
          message.nak(redeliveryDelayMs(context.getDeliveryCount()));
          return;
        }
        // No reason text: nats-server 2.9 does not understand `+TERM <reason>` and would leave
        // the message pending (redelivered later). The reason is in the dead-letter record.
        message.term();
      };
      const handler = this.getHandlerByPattern(message.subject);
      if (!handler) return refuse(GRPC_STATUS.UNIMPLEMENTED, `no handler for ${message.subject}`);
      if (!context.getMessageId())
        return refuse(GRPC_STATUS.INVALID_ARGUMENT, 'Nats-Msg-Id header is missing');
      const maxDeliver = options.maxDeliver ?? DEFAULT_MAX_DELIVER;
      if (context.getDeliveryCount() > maxDeliver) {
        return refuse(
          GRPC_STATUS.DEADLINE_EXCEEDED,
          `gave up after ${maxDeliver} deliveries without an answer or a record`,
        );
      }
      let data: unknown;
      try {
        data = JSON.parse(Buffer.from(message.data).toString('utf8'));
      } catch {
        return refuse(GRPC_STATUS.INVALID_ARGUMENT, 'payload is not JSON');
      }
      // A redelivery while the attempt before it still runs (past its deadline): never two
      // runs of one message at once, each holding a database connection.
      const runKey = `${message.info.stream} ${message.info.consumer} ${message.seq}`;
      if (this.running.has(runKey)) {
        message.nak(redeliveryDelayMs(context.getDeliveryCount()));
        return;
      }
      // Answer before the broker's ack wait runs out: a handler that hangs would otherwise
      // hold this consumer's loop, and be redelivered behind it, until it returns.
      const deadlineMs = Math.max(1000, (options.ackWaitMs ?? 30_000) - 1000);
      const attempt = (async () =>
        lastValueFrom(this.transformToObservable(await handler(data, context)), {
          defaultValue: undefined,
        }))();
      this.running.set(runKey, attempt);
      attempt.then(
        () => this.running.delete(runKey),
        () => this.running.delete(runKey),
      );
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          attempt,
          new Promise((_, reject) => {
            timer = setTimeout(
              () =>
                reject({
                  code: GRPC_STATUS.DEADLINE_EXCEEDED,
                  message: `handler took longer than ${deadlineMs} ms`,
                }),
              deadlineMs,
            );
          }),
        ]);
        message.ack();
      } catch (raw) {
        const failure = (raw ?? {}) as HandlerFailure;
        const code = typeof failure.code === 'number' ? failure.code : GRPC_STATUS.INTERNAL;
        const reason = failure.message ?? 'handler failed';
        if (PERMANENT_FAILURES.has(code)) return refuse(code, reason);
        if (context.getDeliveryCount() >= maxDeliver) {
          return refuse(code, `gave up after ${context.getDeliveryCount()} deliveries: ${reason}`);
        }
        message.nak(redeliveryDelayMs(context.getDeliveryCount()));
      } finally {
        clearTimeout(timer);
      }
    });
  }

  on(): never {
    throw new Error('JetStreamServer does not emit events');
  }

  unwrap<T>(): T {
    return this.nats as T;
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const messages of this.active) messages.stop();
    await Promise.allSettled([...this.inFlight]);
    // Handlers past their deadline get a little longer; one that hangs does not stop shutdown.
    await Promise.race([
      Promise.allSettled([...this.running.values()]),
      new Promise((resolve) => setTimeout(resolve, 5000).unref()),
    ]);
  }
}
