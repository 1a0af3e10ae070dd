import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Thrown at start when the environment does not describe a runnable service. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates `env` against `schema` once, at start. The error names every bad variable and
 * never echoes a value (a value may be a secret).
 */
export function loadConfig<T extends z.ZodType>(
  schema: T,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    return `${name}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}

/** A file a variable names, read at start; an unreadable one stops the service with its name. */
export function readConfiguredFile(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`${variable}: cannot read ${path} (${(error as NodeJS.ErrnoException).code})`);
  }
}
