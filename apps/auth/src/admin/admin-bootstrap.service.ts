import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config';
import { IdentitiesService } from '../identities/identities.service';

/**
 * The first admin (SPEC §2): from ADMIN_EMAIL / ADMIN_PASSWORD, created only while no account
 * has the admin role, so the bootstrap password never brings an admin back (after the admin
 * changed their email, or was removed) and can be deleted from the environment once the admin
 * exists. In development without them, a generated password is printed once. In production
 * without them and without an admin, auth starts and logs that nobody can administer it.
 * An existing account is never modified from here.
 */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminBootstrap');

  constructor(
    private readonly identities: IdentitiesService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (await this.identities.hasAdmin()) return;
    const email = this.config.ADMIN_EMAIL ?? 'admin@localhost.test';
    let password = this.config.ADMIN_PASSWORD;
    if (!password) {
      if (this.config.NODE_ENV === 'production') {
        this.logger.error(
          'no account has the admin role: set ADMIN_EMAIL and ADMIN_PASSWORD and restart to create one',
        );
        return;
      }
      password = randomBytes(18).toString('base64url');
      process.stdout.write(
        `bootstrap admin (development only, shown once): ${email} / ${password}\n`,
      );
    }
    const created = await this.identities
      .register({ email, password, displayName: 'Administrator' }, ['admin'])
      .then(
        () => true,
        (error: { getStatus?: () => number }) => {
          // Another replica created it first, or the email belongs to an account that is not an
          // admin: that account is left as it is.
          if (error.getStatus?.() !== 409) throw error;
          return false;
        },
      );
    if (created) this.logger.log({ msg: 'bootstrap admin created', email });
    else
      this.logger.warn({
        msg: 'bootstrap admin not created here: the email has an account (another replica may have created it)',
        email,
      });
  }
}
