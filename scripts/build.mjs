// Compiles apps/ and libs/ to dist/ with swc (about a second; type checking is `npm run typecheck`),
// then copies the data files the code reads at run time (e.g. auth's common-password list).
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const DATA_FILE = /\.(txt|json)$/;
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
if (result.status !== 0) process.exit(result.status ?? 1);
for (const top of ['apps', 'libs']) {
  for (const entry of readdirSync(top, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !DATA_FILE.test(entry.name)) continue;
    const source = path.join(entry.parentPath, entry.name);
    if (source.split(path.sep).includes('test')) continue;
    cpSync(source, path.join('dist', source));
  }
}
