import { SecurityError } from '../security.error';
import type { AppAbility } from './policy';

/** A CASL field pattern's first segment as a regular expression (`*` matches anything). */
function segmentPattern(segment: string): RegExp {
  const escaped = segment.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\*+/g, '.*')}$`);
}

/**
 * Whether the caller may `action` the field `field` of `subject` as a whole, carrying `value`.
 * CASL decides the field itself, patterns included (`cannot read secret*`). When the value is
 * an object, a `cannot` rule about a part of the field (`profile.ssn`, `meta.**`, `*.ssn`)
 * refuses the whole field: it is shown or written whole, so it would carry that part along.
 */
function fieldAllowed(
  ability: AppAbility,
  action: string,
  subject: object,
  field: string,
  value: unknown,
) {
  if (!ability.can(action, subject as never, field)) return false;
  if (typeof value !== 'object' || value === null) return true;
  const subjectType = ability.detectSubjectType(subject as never);
  return !ability.possibleRulesFor(action, subjectType).some(
    (rule) =>
      rule.inverted &&
      rule.fields?.some((pattern) => {
        const dot = pattern.indexOf('.');
        return dot > 0 && segmentPattern(pattern.slice(0, dot)).test(field);
      }) &&
      rule.matchesConditions(subject as never),
  );
}

/**
 * The fields of `subject` the caller may `action`: a rule without a field list allows them
 * all, `cannot` rules with fields take theirs away.
 */
export function permittedFields(
  ability: AppAbility,
  action: string,
  subject: object,
  allFields: readonly string[] = Object.keys(subject),
): string[] {
  const values = subject as Record<string, unknown>;
  return allFields.filter((field) => fieldAllowed(ability, action, subject, field, values[field]));
}

/**
 * A copy of `subject` with only the fields the caller may `action` (default `read`): what a
 * response shows.
 *
 * @example return pickPermittedFields(ability, profile);
 */
export function pickPermittedFields<T extends object>(
  ability: AppAbility,
  subject: T,
  action = 'read',
): Partial<T> {
  const allowed = new Set(permittedFields(ability, action, subject));
  return Object.fromEntries(
    Object.entries(subject).filter(([field]) => allowed.has(field)),
  ) as Partial<T>;
}

/**
 * Refuses a write that names a field the caller may not `action` on `subject`: a 400
 * (FIELD_NOT_PERMITTED) naming the fields, before anything is written.
 *
 * @example assertWritableFields(ability, 'update', profile, body);
 */
export function assertWritableFields(
  ability: AppAbility,
  action: string,
  subject: object,
  changes: object,
): void {
  // Each field is judged with the value written, which is what would land in the object.
  const refused = Object.entries(changes)
    .filter(([field, value]) => !fieldAllowed(ability, action, subject, field, value))
    .map(([field]) => field);
  if (refused.length > 0) {
    throw new SecurityError('FIELD_NOT_PERMITTED', `field(s) not writable: ${refused.join(', ')}`);
  }
}

/**
 * RFC-free but SPEC §5: read first, then act. A caller who may not read the object gets
 * NOT_FOUND (it learns nothing), one who may read but not `action` it gets FORBIDDEN.
 *
 * @example authorize(ability, 'cancel', order);
 */
export function authorize(
  ability: AppAbility,
  action: string,
  subject: object | null | undefined,
): void {
  if (!subject || !ability.can('read', subject as never)) {
    throw new SecurityError('NOT_FOUND', 'not found');
  }
  if (action !== 'read' && !ability.can(action, subject as never)) {
    throw new SecurityError('FORBIDDEN', 'not allowed');
  }
}
