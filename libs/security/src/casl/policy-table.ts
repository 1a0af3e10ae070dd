import { AbilityBuilder, createMongoAbility } from '@casl/ability';
import { ROLES } from '../contract/access-token.claims';
import type { ServicePrincipal, UserPrincipal } from '../token/principal';
import type { AppAbility, Policy } from './policy';

export interface PolicyTableRow {
  policy: string;
  who: string;
  effect: 'can' | 'cannot';
  action: string;
  subject: string;
  fields: string;
  when: string;
}

/** Stand-ins whose values print as what they mean in a condition. */
const SAMPLE_USER: UserPrincipal = {
  kind: 'user',
  id: '<own id>',
  roles: [],
  region: '<own region>',
  sessionId: undefined,
  authTime: undefined,
  amr: [],
  clientId: '<client>',
  scopes: [],
  tokenId: '',
  expiresAt: 0,
  issuedAt: 0,
};

function rowsOf(policy: string, who: string, build: (b: AbilityBuilder<AppAbility>) => void) {
  const builder = new AbilityBuilder<AppAbility>(createMongoAbility);
  build(builder);
  return builder.rules.map((rule): PolicyTableRow => ({
    policy,
    who,
    effect: rule.inverted ? 'cannot' : 'can',
    action: [rule.action].flat().join(', '),
    subject: [rule.subject ?? 'all'].flat().join(', '),
    fields: rule.fields ? [rule.fields].flat().join(', ') : 'all',
    when: rule.conditions ? JSON.stringify(rule.conditions) : 'always',
  }));
}

/** Every rule of the policies, per role and per scope: the table the README shows. */
export function policyTable(policies: readonly Policy[]): PolicyTableRow[] {
  const rows: PolicyTableRow[] = [];
  for (const policy of policies) {
    for (const role of ROLES) {
      const rules = policy.roles[role];
      if (rules)
        rows.push(
          ...rowsOf(policy.name, `role ${role}`, (b) =>
            rules(b, { ...SAMPLE_USER, roles: [role] }),
          ),
        );
    }
    for (const [scope, rules] of Object.entries(policy.scopes)) {
      const service: ServicePrincipal = {
        kind: 'service',
        clientId: '<client>',
        scopes: [scope],
        tokenId: '',
        expiresAt: 0,
        issuedAt: 0,
      };
      rows.push(...rowsOf(policy.name, `scope ${scope}`, (b) => rules(b, service)));
    }
  }
  return rows;
}

/** The table as Markdown. */
export function formatPolicyTable(rows: readonly PolicyTableRow[]): string {
  const header = ['policy', 'who', 'can/cannot', 'action', 'subject', 'fields', 'when'];
  const lines = rows.map((r) =>
    [r.policy, r.who, r.effect, r.action, r.subject, r.fields, `\`${r.when}\``].join(' | '),
  );
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...lines.map((line) => `| ${line} |`),
  ].join('\n');
}
