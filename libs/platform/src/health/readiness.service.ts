import { Injectable } from '@nestjs/common';

export type ReadinessCheck = () => Promise<void>;

/**
 * Collects what a service needs to be ready (its database, NATS, ...). Modules register
 * their checks; `/health/ready` runs them all with a timeout, and answers 503 once the
 * service has started shutting down so a load balancer stops sending it traffic.
 */
@Injectable()
export class ReadinessService {
  private readonly checks = new Map<string, ReadinessCheck>();
  private shuttingDown = false;

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  async evaluate(timeoutMs = 1500): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    if (this.shuttingDown) checks.shutdown = 'in progress';
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
            }),
          ]);
          checks[name] = 'up';
        } catch {
          checks[name] = 'down';
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const ready = !this.shuttingDown && Object.values(checks).every((state) => state === 'up');
    return { ready, checks };
  }
}
