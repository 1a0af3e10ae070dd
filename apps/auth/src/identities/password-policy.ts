import { existsSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/**
 * NIST SP 800-63B §5.1.1.2: length and a blocklist, no composition rules, never truncated.
 * Passwords are NFKC-normalised (so the same password typed on two keyboards matches) and
 * counted in code points, not UTF-16 units.
 */
export class PasswordPolicy {
  private constructor(private readonly blocked: ReadonlySet<string>) {}

  static fromList(passwords: Iterable<string>): PasswordPolicy {
    const blocked = new Set<string>();
    for (const entry of passwords) {
      const normalized = normalizePassword(entry.trim()).toLowerCase();
      if (normalized) blocked.add(normalized);
    }
    return new PasswordPolicy(blocked);
  }

  /**
   * The shipped list: the SecLists top-1M list filtered to 12..128 characters (43,940
   * entries; shorter ones are refused by length anyway). Also found next to the compiled file
   * in dist/, which swc does not copy.
   */
  static load(file?: string): PasswordPolicy {
    const candidates = file
      ? [file]
      : [
          join(__dirname, 'common-passwords.txt'),
          join(__dirname.replace(`${sep}dist${sep}`, sep), 'common-passwords.txt'),
          join(process.cwd(), 'apps', 'auth', 'src', 'identities', 'common-passwords.txt'),
        ];
    const found = candidates.find((candidate) => existsSync(candidate));
    if (!found)
      throw new Error(`common password list not found (looked at ${candidates.join(', ')})`);
    return PasswordPolicy.fromList(readFileSync(found, 'utf8').split('\n'));
  }

  get size(): number {
    return this.blocked.size;
  }

  /** A reason the password is refused, or null. */
  problem(password: string): string | null {
    const normalized = normalizePassword(password);
    const length = [...normalized].length;
    if (length < PASSWORD_MIN_LENGTH)
      return `password must have at least ${PASSWORD_MIN_LENGTH} characters`;
    if (length > PASSWORD_MAX_LENGTH)
      return `password must have at most ${PASSWORD_MAX_LENGTH} characters`;
    if (this.blocked.has(normalized.toLowerCase())) {
      return 'password is too common; choose another one';
    }
    return null;
  }
}

export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

export const PASSWORD_POLICY = Symbol('PASSWORD_POLICY');
