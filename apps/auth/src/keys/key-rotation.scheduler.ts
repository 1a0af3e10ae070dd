import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config';
import { KeyRotationRefused, SigningKeyStore } from './signing-key.store';

/**
 * Scheduled rotation. Every replica checks; the store rotates only when the current key is
 * older than the interval, under a database lock, so replicas rotate once between them.
 */
@Injectable()
export class KeyRotationScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('KeyRotation');
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly keys: SigningKeyStore,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  onApplicationBootstrap(): void {
    const intervalMs = this.config.KEY_ROTATION_INTERVAL_SECONDS * 1000;
    const checkEveryMs = Math.min(60_000, Math.max(1000, intervalMs / 10));
    this.timer = setInterval(() => void this.tick(intervalMs), checkEveryMs);
    this.timer.unref();
  }

  async tick(intervalMs = this.config.KEY_ROTATION_INTERVAL_SECONDS * 1000): Promise<boolean> {
    try {
      return await this.keys.rotate('scheduled', intervalMs);
    } catch (error) {
      if (!(error instanceof KeyRotationRefused)) {
        this.logger.warn({ error: (error as Error).message }, 'scheduled key rotation failed');
      }
      return false;
    }
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
