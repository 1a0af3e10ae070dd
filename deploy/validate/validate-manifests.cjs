#!/usr/bin/env node
/**
 * Validates rendered Kubernetes manifests offline, the way an API server would before
 * admission, using the OpenAPI-derived models of the `kubernetes-models` package:
 *
 *  1. runtime schema validation (required fields, types, enums, formats) of every
 *     object, through the model's own `validate()`;
 *  2. unknown fields: every object is written out as a TypeScript object literal typed
 *     with the model's interface and type-checked, because excess-property checking
 *     rejects a misspelt field (`readinessProbes`) that schema validation lets through.
 *
 * Usage: validate-manifests.cjs <kubernetes-models dir> <manifest.yaml>...
 * The first argument is a folder whose node_modules holds kubernetes-models (see
 * scripts/validate-deploy.sh). Prints one line per file and exits 1 on any error.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');
const YAML = require('yaml');

const [modelsRoot, ...files] = process.argv.slice(2);
if (!modelsRoot || files.length === 0) {
  console.error('usage: validate-manifests.cjs <kubernetes-models dir> <manifest.yaml>...');
  process.exit(2);
}
const root = resolve(modelsRoot);
const load = (p) => require(require.resolve(p, { paths: [root] }));

/** `apps/v1` + `Deployment` -> `kubernetes-models/apps/v1/Deployment` (core: `v1/...`). */
function modelPath(apiVersion, kind) {
  return `kubernetes-models/${apiVersion}/${kind}`;
}

let failures = 0;
const literals = [];
for (const file of files) {
  const docs = YAML.parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS())
    .filter(Boolean);
  let fileErrors = 0;
  for (const doc of docs) {
    const id = `${doc.kind}/${doc.metadata && doc.metadata.name}`;
    let Model;
    try {
      Model = load(modelPath(doc.apiVersion, doc.kind))[doc.kind];
    } catch {
      console.error(`  ${file}: ${id}: unknown apiVersion/kind ${doc.apiVersion} ${doc.kind}`);
      fileErrors++;
      continue;
    }
    // kustomize folds long base64 values over several lines; the API server's decoder
    // ignores those newlines, the schema's "byte" format does not.
    if (doc.kind === 'Secret' && doc.data) {
      for (const k of Object.keys(doc.data)) doc.data[k] = String(doc.data[k]).replace(/\s+/g, '');
    }
    try {
      new Model(doc).validate();
    } catch (err) {
      console.error(`  ${file}: ${id}: ${err.message}`);
      fileErrors++;
    }
    literals.push({ file, id, path: modelPath(doc.apiVersion, doc.kind), kind: doc.kind, doc });
  }
  failures += fileErrors;
  console.log(`${fileErrors ? 'FAIL' : 'ok  '} schema    ${file} (${docs.length} objects)`);
}

// Unknown-field check: one typed literal per object, type-checked in one tsc run.
const work = mkdtempSync(join(root, 'check-'));
try {
  const src = literals
    .map(({ path, kind, doc, file, id }, i) =>
      [
        `// ${file}: ${id}`,
        `import type { I${kind} as T${i} } from ${JSON.stringify(path)};`,
        `export const o${i}: T${i} = ${JSON.stringify(doc, null, 1)};`,
      ].join('\n'),
    )
    .join('\n');
  writeFileSync(join(work, 'manifests.ts'), src);
  writeFileSync(
    join(work, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        noEmit: true,
        strict: true,
        skipLibCheck: true,
        target: 'es2022',
        module: 'commonjs',
        moduleResolution: 'node',
        types: [],
      },
      files: ['manifests.ts'],
    }),
  );
  const tsc = require.resolve('typescript/bin/tsc', { paths: [process.cwd(), __dirname] });
  try {
    execFileSync(
      process.execPath,
      [tsc, '-p', join(work, 'tsconfig.json')],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    console.log(`ok   fields    ${literals.length} objects have only fields their API version defines`);
  } catch (err) {
    failures++;
    const lines = src.split('\n');
    const out = `${err.stdout || ''}${err.stderr || ''}` || err.message;
    // Point each compiler error at the manifest object it came from.
    for (const m of out.matchAll(/manifests\.ts\((\d+),\d+\): (error .*)/g)) {
      let n = Number(m[1]) - 1;
      while (n > 0 && !lines[n].startsWith('// ')) n--;
      console.error(`  ${lines[n].slice(3)}: ${m[2]}`);
    }
    if (!/manifests\.ts\(/.test(out)) console.error(out);
    console.log('FAIL fields    unknown or mistyped fields (above)');
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(failures ? 1 : 0);
