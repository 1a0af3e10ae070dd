import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * Rows of `table` whose `column` (a timestamptz) is older than `keepSeconds` are deleted. Table
 * and column are identifiers written in code, never input; they are checked anyway.
 */
export interface RetentionRule {
  table: string;
  column: string;
  keepSeconds: number;
}

const DAY = 24 * 60 * 60;

/**
 * The messaging tables every service database has. Published outbox rows are kept a week for
 * inspection (unpublished ones have no `published_at` and are never touched). An inbox row must
 * outlive every redelivery of its message: streams keep messages 7 days, AUTH 7 days and an
 * hour (messaging.constants.ts), so 8 days. Dead letters are evidence for operators: 30 days.
 */
export const MESSAGING_RETENTION: readonly RetentionRule[] = Object.freeze([
  { table: 'outbox_messages', column: 'published_at', keepSeconds: 7 * DAY },
  { table: 'inbox_messages', column: 'processed_at', keepSeconds: 8 * DAY },
  { table: 'dead_letters', column: 'recorded_at', keepSeconds: 30 * DAY },
]);

export const RETENTION_RULES = Symbol('RETENTION_RULES');

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
/** Rows deleted per statement: short transactions, no long lock on a busy table. */
const BATCH = 1000;
const SWEEP_EVERY_MS = 10 * 60 * 1000;

export function checkRetentionRule(rule: RetentionRule): RetentionRule {
  if (!IDENTIFIER.test(rule.table) || !IDENTIFIER.test(rule.column)) {
    throw new TypeError(`retention: ${rule.table}.${rule.column} is not a plain identifier`);
  }
  if (!Number.isInteger(rule.keepSeconds) || rule.keepSeconds < 1) {
    throw new TypeError(`retention: keepSeconds of ${rule.table} must be a positive integer`);
  }
  return rule;
}

/**
 * Deletes expired rows of the service's own tables every 10 minutes (and once at start), so
 * tables that only ever receive inserts do not grow forever. Several replicas may sweep at
 * once: each batch skips rows another one holds. A failed sweep is logged and retried on the
 * next tick; it never stops the service.
 */
@Injectable()
export class RetentionSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Retention');
  private readonly rules: readonly RetentionRule[];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(RETENTION_RULES) rules: readonly RetentionRule[],
  ) {
    this.rules = rules.map(checkRetentionRule);
  }

  onApplicationBootstrap(): void {
    const tick = () => {
      this.running ??= this.sweep()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'retention sweep failed'))
        .finally(() => (this.running = undefined));
    };
    this.timer = setInterval(tick, SWEEP_EVERY_MS).unref();
    setImmediate(tick);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Deletes what every rule lets go; returns the number of rows deleted per table. */
  async sweep(): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    for (const { table, column, keepSeconds } of this.rules) {
      const [{ exists }]: { exists: boolean }[] = await this.dataSource.query(
        'SELECT to_regclass($1) IS NOT NULL AS exists',
        [table],
      );
      if (!exists) {
        this.logger.warn({ table }, 'retention: no such table; its rule is skipped');
        continue;
      }
      deleted[table] = 0;
      for (;;) {
        // TypeORM answers a DELETE with [rows, rowCount].
        const [, count]: [unknown[], number] = await this.dataSource.query(
          `DELETE FROM ${table} WHERE ctid IN (
             SELECT ctid FROM ${table}
              WHERE ${column} < now() - make_interval(secs => $1)
              LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)`,
          [keepSeconds],
        );
        deleted[table] += count;
        if (count < BATCH) break;
      }
    }
    const total = Object.values(deleted).reduce((sum, count) => sum + count, 0);
    if (total > 0) this.logger.log({ deleted }, 'expired rows deleted');
    return deleted;
  }
}
