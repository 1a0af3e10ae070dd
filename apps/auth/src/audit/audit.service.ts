import { currentRequestId, MetricsService } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';

export type AuditEvent =
  | 'login'
  | 'login_mfa'
  | 'refresh'
  | 'refresh_reuse'
  | 'logout'
  | 'password_change'
  | 'revocation'
  | 'client_auth'
  | 'token_issued'
  | 'key_rotation'
  | 'mfa_enrolment'
  | 'mfa_recovery_codes'
  | 'admin_change';

export type AuditOutcome = 'success' | 'failure';

/** Fields an audit record may carry: identifiers and reasons, never a secret or a token. */
export interface AuditFields {
  userId?: string;
  clientId?: string;
  sid?: string;
  jti?: string;
  kid?: string;
  retired?: string;
  ip?: string;
  reason?: string;
  grant?: string;
  target?: string;
}

const ALLOWED_FIELDS = new Set<keyof AuditFields>([
  'userId',
  'clientId',
  'sid',
  'jti',
  'kid',
  'retired',
  'ip',
  'reason',
  'grant',
  'target',
]);

/**
 * Security events as structured log records (`audit: true`) and as the Prometheus counter
 * `auth_security_events_total{event,outcome}`. Fields are copied from an allowlist, so a
 * caller cannot put a password or a token into the audit trail by mistake.
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');
  private readonly events: Counter<'event' | 'outcome'>;

  constructor(metrics: MetricsService) {
    this.events = metrics.counter('auth_security_events_total', 'Security events of auth', [
      'event',
      'outcome',
    ]);
  }

  record(event: AuditEvent, outcome: AuditOutcome, fields: AuditFields = {}): void {
    const safe: Record<string, string> = {};
    for (const [name, value] of Object.entries(fields)) {
      if (ALLOWED_FIELDS.has(name as keyof AuditFields) && typeof value === 'string') {
        safe[name] = value.slice(0, 200);
      }
    }
    this.events.inc({ event, outcome });
    const record = { audit: true, event, outcome, requestId: currentRequestId(), ...safe };
    if (outcome === 'failure') this.logger.warn(record);
    else this.logger.log(record);
  }
}
