import type { AuthConfig } from '../auth.config';
import type { RateLimitRule } from '@app/platform';

/** The configured limits of SPEC §4 (defaults: 5 per account, 100 per IP per 15 min). */
export function limitRules(config: AuthConfig) {
  return {
    loginAccount: {
      name: 'login:account',
      max: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      windowSeconds: config.LOGIN_ACCOUNT_WINDOW_SECONDS,
    },
    loginIp: {
      name: 'login:ip',
      max: config.LOGIN_MAX_ATTEMPTS_PER_IP,
      windowSeconds: config.LOGIN_IP_WINDOW_SECONDS,
    },
    registerIp: {
      name: 'register:ip',
      max: config.REGISTER_MAX_PER_IP,
      windowSeconds: config.REGISTER_IP_WINDOW_SECONDS,
    },
    mfaAccount: {
      name: 'mfa:account',
      max: config.MFA_MAX_FAILURES,
      windowSeconds: config.MFA_WINDOW_SECONDS,
    },
  } satisfies Record<string, RateLimitRule>;
}

export type LimitRules = ReturnType<typeof limitRules>;
export const LIMIT_RULES = Symbol('LIMIT_RULES');
