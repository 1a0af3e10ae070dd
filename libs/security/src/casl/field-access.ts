import { permittedFieldsOf } from '@casl/ability/extra';
import { SecurityError } from '../security.error';
import type { AppAbility } from './policy';

function fieldsOf(ability: AppAbility, action: string, subject: object, all: readonly string[]) {
  return permittedFieldsOf(ability, action, subject as never, {
    fieldsFrom: (rule) => rule.fields ?? [...all],
  });
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
  return fieldsOf(ability, action, subject, allFields);
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
  const requested = Object.keys(changes);
  const allowed = new Set(permittedFields(ability, action, subject, requested));
  const refused = requested.filter((field) => !allowed.has(field));
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
