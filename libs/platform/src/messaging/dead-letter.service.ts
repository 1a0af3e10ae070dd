import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DeadLetter } from '../database/dead-letter.entity';
import { MetricsService } from '../metrics/metrics.service';
import type { JetStreamContext } from './jetstream.context';

const OMITTED_HEADERS = new Set(['authorization']);

/** Records refused messages with their reason. The Authorization header is never stored. */
@Injectable()
export class DeadLetterService {
  private readonly logger = new Logger('DeadLetters');
  private readonly counter;

  constructor(
    private readonly dataSource: DataSource,
    metrics: MetricsService,
  ) {
    this.counter = metrics.counter(
      'messages_dead_lettered_total',
      'Messages refused and recorded',
      ['subject', 'code'],
    );
  }

  async record(context: JetStreamContext, errorCode: string, reason: string): Promise<void> {
    const headers: Record<string, string> = {};
    for (const [name, values] of context.message.headers ?? []) {
      if (!OMITTED_HEADERS.has(name.toLowerCase())) headers[name] = values.join(',');
    }
    await this.dataSource.getRepository(DeadLetter).insert({
      messageId: context.getMessageId() ?? null,
      subject: context.getSubject(),
      reason: reason.slice(0, 1000),
      errorCode,
      streamSequence: String(context.message.seq),
      headers,
    });
    this.counter.inc({ subject: context.getSubject(), code: errorCode });
    this.logger.warn(
      { subject: context.getSubject(), messageId: context.getMessageId(), errorCode, reason },
      'message dead-lettered',
    );
  }
}
