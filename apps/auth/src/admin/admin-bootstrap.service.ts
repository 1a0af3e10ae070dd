import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config';
import { IdentitiesService } from '../identities/identities.service';

/**
 * The first admin (SPEC §2): from ADMIN_EMAIL / ADMIN_PASSWORD, created once; in development
 * without them, a generated password is printed once. Production refuses to start without
 * them (config). An existing account is never modified from here.
 */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminBootstrap');

  constructor(
    private readonly identities: IdentitiesService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const email = this.config.ADMIN_EMAIL ?? 'admin@localhost.test';
    if (await this.identities.findByEmail(email)) return;
    let password = this.config.ADMIN_PASSWORD;
    if (!password) {
      if (this.config.NODE_ENV === 'production')
        throw new Error('ADMIN_PASSWORD: is required in production');
      password = randomBytes(18).toString('base64url');
      process.stdout.write(
        `bootstrap admin (development only, shown once): ${email} / ${password}\n`,
      );
    }
    await this.identities
      .register({ email, password, displayName: 'Administrator' }, ['admin'])
      .catch((error: { getStatus?: () => number }) => {
        // Another replica created it first.
        if (error.getStatus?.() !== 409) throw error;
      });
    this.logger.log({ msg: 'bootstrap admin created', email });
  }
}
