import { resolve } from 'node:path';
import type { Policy } from './policy';
import { formatPolicyTable, policyTable } from './policy-table';

function isPolicy(value: unknown): value is Policy {
  const v = value as Policy | null;
  return typeof v?.name === 'string' && typeof v.roles === 'object' && typeof v.scopes === 'object';
}

/**
 * Prints the role x action x subject table of the policies exported by the given modules.
 * Usage: node dist/libs/security/src/casl/print-policy-table.js dist/apps/users/src/users/users.policy.js ...
 */
function main(files: string[]): void {
  if (files.length === 0) {
    process.stderr.write('usage: print-policy-table <policy module>...\n');
    process.exit(2);
  }
  const policies: Policy[] = [];
  for (const file of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported = require(resolve(file)) as Record<string, unknown>;
    policies.push(...Object.values(exported).filter(isPolicy));
  }
  process.stdout.write(`${formatPolicyTable(policyTable(policies))}\n`);
}

if (require.main === module) main(process.argv.slice(2));
