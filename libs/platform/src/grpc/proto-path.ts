import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The folder holding `proto/`: `PROTO_DIR` when set, else the nearest `proto/` above the
 * running code or the working directory (source checkout, dist/ and container alike).
 */
export function protoDir(): string {
  if (process.env.PROTO_DIR) return resolve(process.env.PROTO_DIR);
  for (const start of [__dirname, process.cwd()]) {
    let dir = start;
    for (;;) {
      if (existsSync(join(dir, 'proto', 'users'))) return join(dir, 'proto');
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error('proto/ not found: set PROTO_DIR');
}

/** Absolute path of a contract, e.g. `protoFile('users/v1/users.proto')`. */
export function protoFile(relative: string): string {
  return join(protoDir(), relative);
}
