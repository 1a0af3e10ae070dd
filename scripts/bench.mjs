// `npm run bench`: compiles bench/ (with apps/ and libs/) with swc and runs every *.bench.ts.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const out = 'dist-bench';
rmSync(out, { recursive: true, force: true });
const swc = require.resolve('@swc/cli/bin/swc.js');
const compiled = spawnSync(
  process.execPath,
  [
    swc,
    'apps',
    'libs',
    'bench',
    'scripts/lib',
    '-d',
    out,
    '--quiet',
    '-C',
    'module.type=commonjs',
    '-C',
    'module.strict=true',
    '-C',
    'module.ignoreDynamic=true',
    '--ignore',
    '**/*.spec.ts,**/*.int-spec.ts,**/*.e2e-spec.ts,**/test/**',
  ],
  { stdio: 'inherit' },
);
if (compiled.status !== 0) process.exit(compiled.status ?? 1);
const only = process.argv[2];
let failed = 0;
for (const file of readdirSync('bench')
  .filter((name) => name.endsWith('.bench.ts'))
  .sort()) {
  if (only && !file.includes(only)) continue;
  console.log(`\n== ${file}`);
  const run = spawnSync(process.execPath, [`${out}/bench/${file.replace(/\.ts$/, '.js')}`], {
    stdio: 'inherit',
  });
  if (run.status !== 0) failed++;
}
rmSync(out, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
