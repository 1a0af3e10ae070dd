import { Inject, Injectable, Logger } from '@nestjs/common';
import { nanos, RetentionPolicy, StorageType, type JetStreamManager } from 'nats';
import {
  DUPLICATE_WINDOW_MS,
  MESSAGING_OPTIONS,
  STREAM_MAX_AGE_MS,
  STREAMS,
} from './messaging.constants';
import type { MessagingOptions } from './messaging.options';
import { NatsConnectionService } from './nats-connection.service';

/** Creates (or updates) the streams this service owns; it never touches another's. */
@Injectable()
export class StreamsService {
  private readonly logger = new Logger('Streams');
  private ready: Promise<void> | null = null;

  constructor(
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
    private readonly nats: NatsConnectionService,
  ) {}

  /** Resolves once the own streams exist. Retries while NATS is unavailable. */
  ensureOwnStreams(): Promise<void> {
    this.ready ??= this.createStreams().catch((error) => {
      this.ready = null;
      throw error;
    });
    return this.ready;
  }

  private async createStreams(): Promise<void> {
    await this.nats.whenConnected();
    const manager = await this.nats.jetstreamManager();
    for (const name of this.options.ownStreams) {
      await ensureStream(manager, STREAMS[name].name, [...STREAMS[name].subjects]);
    }
    this.logger.log(`streams ready: ${this.options.ownStreams.join(', ') || '(none)'}`);
  }
}

/** A stream's `max_age`: STREAMS says, STREAM_MAX_AGE_MS for a stream it does not list. */
function maxAgeOf(name: string): number {
  return (
    Object.values(STREAMS).find((stream) => stream.name === name)?.maxAgeMs ?? STREAM_MAX_AGE_MS
  );
}

/**
 * Creates the stream, or brings an existing one's subjects to this version's and its `max_age`
 * up to this version's (AUTH's grew by an hour: an older deployment's AUTH stream is lengthened
 * at auth's start).
 */
export async function ensureStream(
  manager: JetStreamManager,
  name: string,
  subjects: string[],
): Promise<void> {
  const maxAge = nanos(maxAgeOf(name));
  const config = {
    name,
    subjects,
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    max_age: maxAge,
  };
  try {
    const info = await manager.streams.info(name);
    // Only ever lengthened (0 is no limit): an operator may keep messages longer on purpose.
    const current = info.config.max_age;
    const tooShort = current !== 0 && current < maxAge;
    if (info.config.subjects?.join() !== subjects.join() || tooShort) {
      await manager.streams.update(name, {
        ...info.config,
        subjects,
        max_age: tooShort ? maxAge : current,
      });
    }
  } catch (error) {
    if ((error as { code?: string }).code !== '404') throw error;
    await manager.streams.add(config);
  }
}
