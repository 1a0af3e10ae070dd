// Compiles apps/ and libs/ to dist/ with swc (about a second; type checking is `npm run typecheck`).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
rmSync('dist', { recursive: true, force: true });
const swc = require.resolve('@swc/cli/bin/swc.js');
const result = spawnSync(
  process.execPath,
  [
    swc,
    'apps',
    'libs',
    '-d',
    'dist',
    '--quiet',
    '--ignore',
    '**/*.spec.ts,**/*.int-spec.ts,**/*.e2e-spec.ts,**/test/**',
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
