import {
  AbilityBuilder,
  createMongoAbility,
  type MongoAbility,
  type MongoQuery,
} from '@casl/ability';
import type { Role } from '../contract/access-token.claims';
import type { Principal, ServicePrincipal, UserLikePrincipal } from '../token/principal';

/** `manage` and `all` are CASL's wildcards for any action and any subject. */
export type AppAbility = MongoAbility<[string, string | object], MongoQuery>;
export type PolicyBuilder = Pick<AbilityBuilder<AppAbility>, 'can' | 'cannot'>;

/** Rules of one role, given the calling user (their id, region, ...). */
export type RoleRules = (builder: PolicyBuilder, user: UserLikePrincipal) => void;
/** Rules a service client gets from one scope. */
export type ScopeRules = (builder: PolicyBuilder, service: ServicePrincipal) => void;

/**
 * A domain's authorization, readable as a table: which role (for users, also when a service
 * acts for them) and which scope (for services) may do what to which subject.
 *
 * @example
 * export const ItemsPolicy = definePolicy({
 *   name: 'inventory',
 *   roles: {
 *     customer: ({ can }, me) => can('read', 'Item', { ownerId: me.id }),
 *     admin: ({ can }) => can('manage', 'Item'),
 *   },
 *   scopes: { 'inventory:read': ({ can }) => can('read', 'Item') },
 * });
 */
export interface Policy {
  readonly name: string;
  readonly roles: Readonly<Partial<Record<Role, RoleRules>>>;
  readonly scopes: Readonly<Record<string, ScopeRules>>;
}

export function definePolicy(policy: {
  name: string;
  roles?: Partial<Record<Role, RoleRules>>;
  scopes?: Record<string, ScopeRules>;
}): Policy {
  if (!policy.name) throw new TypeError('definePolicy: name is required');
  return Object.freeze({
    name: policy.name,
    roles: policy.roles ?? {},
    scopes: policy.scopes ?? {},
  });
}

/**
 * The ability of a principal under the given policies: a user's (or a delegated caller's)
 * roles, or a service's scopes. Nothing is allowed that no rule grants.
 */
export function buildAbility(policies: readonly Policy[], principal: Principal): AppAbility {
  const builder = new AbilityBuilder<AppAbility>(createMongoAbility);
  for (const policy of policies) {
    if (principal.kind === 'service') {
      for (const [scope, rules] of Object.entries(policy.scopes)) {
        if (principal.scopes.includes(scope)) rules(builder, principal);
      }
    } else {
      for (const role of principal.roles) policy.roles[role]?.(builder, principal);
    }
  }
  return builder.build();
}

/** Builds each principal's ability once: principals are shared by the verification cache. */
export class AbilityFactory {
  private readonly built = new WeakMap<Principal, AppAbility>();

  constructor(private readonly policies: readonly Policy[]) {}

  for(principal: Principal): AppAbility {
    let ability = this.built.get(principal);
    if (!ability) {
      ability = buildAbility(this.policies, principal);
      this.built.set(principal, ability);
    }
    return ability;
  }
}
