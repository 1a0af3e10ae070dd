import type { Condition, CompoundCondition, FieldCondition } from '@ucast/mongo2js';
import { rulesToAST } from '@casl/ability/extra';
import type { ObjectLiteral, SelectQueryBuilder, WhereExpressionBuilder } from 'typeorm';
import type { AppAbility } from './policy';

let parameterSequence = 0;

interface Column {
  sql: string;
  isArray: boolean;
  /** The JavaScript type CASL sees for the column's values, when the column type fixes it. */
  valueType: 'string' | 'number' | 'boolean' | undefined;
  /**
   * For a column of a joined relation, the joined row's primary key: a row without one is no
   * joined object, where CASL sees the field as undefined (not null).
   */
  joinedKey: string | undefined;
}

const TRANSLATED = new Set(['eq', 'ne', 'in', 'nin', 'lt', 'lte', 'gt', 'gte']);
const STRING_TYPES = new Set([
  'text',
  'varchar',
  'character varying',
  'char',
  'character',
  'uuid',
  'citext',
]);
const NUMBER_TYPES = new Set([
  'int',
  'int2',
  'int4',
  'integer',
  'smallint',
  'real',
  'float',
  'float4',
  'float8',
  'double precision',
]);

/**
 * What JavaScript type the column's values have in an entity: PostgreSQL casts a bound value
 * to the column's type (`'10' = 10` is true there) where CASL compares strictly. bigint and
 * numeric columns are left out: TypeORM reads them as strings unless a transformer says else.
 */
function valueTypeOf(type: unknown): Column['valueType'] {
  if (type === String) return 'string';
  if (type === Number) return 'number';
  if (type === Boolean || type === 'boolean' || type === 'bool') return 'boolean';
  if (typeof type !== 'string') return undefined;
  if (STRING_TYPES.has(type)) return 'string';
  if (NUMBER_TYPES.has(type)) return 'number';
  return undefined;
}

/**
 * Translates CASL conditions (rulesToAST: `can` rules OR-ed, each bounded by the `cannot`
 * rules above it) into SQL for TypeORM/PostgreSQL. Values are always bound parameters;
 * fields must be mapped columns of the main entity or of a joined relation (`owner.region`);
 * an operator or field it cannot translate throws, so a rule is never silently dropped.
 */
class SqlTranslator<T extends ObjectLiteral> {
  readonly parameters: Record<string, unknown> = {};

  constructor(private readonly qb: SelectQueryBuilder<T>) {}

  /**
   * `negated`: the condition sits under a `cannot` (a NOT), which keeps a NULL leaf NULL. An
   * equality or a list test on a NULL column is made FALSE there, as CASL decides for a
   * missing value. A comparison (`<`, `>`), whose CASL answer is JavaScript's coercion of null,
   * stays NULL, and so does the NOT: the row is left out, the safe side.
   */
  translate(condition: Condition, negated = false): string {
    if ('field' in condition) return this.field(condition as FieldCondition, negated);
    const compound = condition as CompoundCondition;
    const inner = compound.operator === 'not' ? !negated : negated;
    const parts = compound.value.map((child) => this.translate(child, inner));
    switch (compound.operator) {
      case 'and':
        return parts.length === 0 ? 'TRUE' : `(${parts.join(' AND ')})`;
      case 'or':
        return parts.length === 0 ? 'FALSE' : `(${parts.join(' OR ')})`;
      case 'not':
        return `(NOT (${parts.join(' AND ')}))`;
      default:
        throw new Error(`accessibleBy: operator ${compound.operator} is not supported`);
    }
  }

  private bind(value: unknown): string {
    const name = `casl_${++parameterSequence}`;
    this.parameters[name] = value;
    return `:${name}`;
  }

  private column(path: string): Column {
    const dot = path.indexOf('.');
    let alias = this.qb.expressionMap.mainAlias!;
    let property = path;
    if (dot > 0) {
      const relation = path.slice(0, dot);
      // The relation of the main entity: a join of another entity's relation of that name
      // (`team.owner`) would check the rule against the wrong rows.
      const join = this.qb.expressionMap.joinAttributes.find(
        (attribute) =>
          attribute.parentAlias === alias.name &&
          attribute.relationPropertyPath === relation &&
          attribute.alias.name !== undefined &&
          attribute.direction !== undefined,
      );
      if (!join)
        throw new Error(`accessibleBy: join the relation ${relation} to filter on ${path}`);
      // Joined rows of a to-many relation are checked one by one: a `cannot` on one label
      // would pass on the entity's other labels. CASL checks the entity as a whole.
      if (join.isMany) {
        throw new Error(
          `accessibleBy: ${relation} is a to-many relation; ${path} is not supported`,
        );
      }
      alias = join.alias;
      property = path.slice(dot + 1);
    }
    const column = alias.metadata.findColumnWithPropertyPath(property);
    if (!column || alias.metadata.findRelationWithPropertyPath(property)) {
      throw new Error(`accessibleBy: ${path} is not a column of ${alias.metadata.name}`);
    }
    const qualified = (name: string) => `${this.qb.escape(alias.name)}.${this.qb.escape(name)}`;
    const key = alias.metadata.primaryColumns[0];
    if (dot > 0 && !key) throw new Error(`accessibleBy: ${alias.metadata.name} has no primary key`);
    return {
      sql: qualified(column.databaseName),
      isArray: column.isArray,
      valueType: valueTypeOf(column.type),
      joinedKey: dot > 0 ? qualified(key.databaseName) : undefined,
    };
  }

  /** Refuses a value CASL would never find equal to (or ordered against) the column's values. */
  private checkValue(field: string, column: Column, value: unknown): void {
    if (value === null || column.valueType === undefined) return;
    if (typeof value !== column.valueType) {
      throw new Error(
        `accessibleBy: ${field} holds ${column.valueType} values; the rule gives a ${typeof value}`,
      );
    }
  }

  private field(condition: FieldCondition, negated: boolean): string {
    const column = this.column(condition.field);
    const { sql, isArray, joinedKey } = column;
    const { operator, value } = condition;
    // A NULL column makes a test NULL: outside a NOT that excludes the row already, and the
    // bare test keeps the column's index usable.
    const orFalse = (test: string) => (negated ? `COALESCE(${test}, FALSE)` : test);
    if ((operator === 'eq' || operator === 'ne') && Array.isArray(value)) {
      // CASL compares an array field element by element, and never equal to an array value.
      throw new Error(`accessibleBy: ${condition.field} compared with an array is not supported`);
    }
    if (!TRANSLATED.has(operator)) {
      // `exists` is not translated: CASL counts a field holding null as present, a NULL column
      // is all SQL can see, and a missing joined row is absent to both.
      throw new Error(`accessibleBy: operator ${operator} is not supported`);
    }
    for (const item of Array.isArray(value) ? value : [value]) {
      this.checkValue(condition.field, column, item);
    }
    // What CASL finds equal to null: a null field (not a missing joined object, whose field is
    // undefined), and on an array field also a null element.
    const nullValue = isArray
      ? `(${sql} IS NULL OR array_position(${sql}, NULL) IS NOT NULL)`
      : `${sql} IS NULL`;
    const isNull = joinedKey ? `(${joinedKey} IS NOT NULL AND ${nullValue})` : nullValue;
    switch (operator) {
      case 'eq':
        if (value === null) return isNull;
        // Mongo semantics: { roles: 'admin' } on an array field means "contains".
        return orFalse(
          isArray ? `${this.bind(value)} = ANY(${sql})` : `${sql} = ${this.bind(value)}`,
        );
      case 'ne':
        if (value === null) return `NOT ${isNull}`;
        return isArray
          ? `NOT COALESCE(${this.bind(value)} = ANY(${sql}), FALSE)`
          : `${sql} IS DISTINCT FROM ${this.bind(value)}`;
      case 'in':
      case 'nin': {
        const values = value as unknown[];
        if (!Array.isArray(values)) throw new Error(`accessibleBy: $${operator} needs an array`);
        const withNull = values.includes(null);
        if (isArray) {
          // On an array field: some element is (in) or none is (nin) in the list.
          if (withNull)
            throw new Error(`accessibleBy: $${operator} with null on ${condition.field}`);
          const overlaps = `COALESCE(${sql} && ${this.bind(values)}, FALSE)`;
          return operator === 'in' ? overlaps : `NOT ${overlaps}`;
        }
        // null in the list matches a NULL column (as CASL does); SQL's IN never matches NULL,
        // and NOT IN with a NULL in the list matches nothing.
        // Without null in the list, a NULL column and a missing joined row are alike to CASL
        // (not in any list); with null, only the first is "in" it.
        const others = values.filter((v) => v !== null).map((v) => this.bind(v));
        const listed = others.length > 0 ? `${sql} IN (${others.join(', ')})` : 'FALSE';
        const listedOrFalse = others.length > 0 ? `COALESCE(${listed}, FALSE)` : 'FALSE';
        if (operator === 'in')
          return withNull ? `(${listedOrFalse} OR ${isNull})` : orFalse(listed);
        return withNull
          ? `(NOT ${isNull} AND NOT ${listedOrFalse})`
          : `(${sql} IS NULL OR NOT ${listed})`;
      }
      case 'lt':
        return `${sql} < ${this.bind(value)}`;
      case 'lte':
        return `${sql} <= ${this.bind(value)}`;
      case 'gt':
        return `${sql} > ${this.bind(value)}`;
      case 'gte':
        return `${sql} >= ${this.bind(value)}`;
      default:
        throw new Error(`accessibleBy: operator ${operator} is not supported`);
    }
  }
}

/**
 * The query builder's methods that change its WHERE. Called after `accessibleBy`, `where`
 * replaced the filter and an `orWhere` (or an `andWhere('a OR b')`, which TypeORM does not
 * parenthesise) escaped it, so on the builder it returns they throw.
 */
const WHERE_METHODS = [
  'where',
  'andWhere',
  'orWhere',
  'whereInIds',
  'andWhereInIds',
  'orWhereInIds',
  'whereExists',
  'andWhereExists',
  'orWhereExists',
  'setFindOptions',
] as const;

function lockWhere<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>): SelectQueryBuilder<T> {
  for (const method of WHERE_METHODS) {
    Object.defineProperty(qb, method, {
      configurable: true,
      value: () => {
        throw new Error(
          `accessibleBy: ${method}() after accessibleBy() could replace or escape its filter; add the query's conditions before calling accessibleBy()`,
        );
      },
    });
  }
  return qb;
}

/**
 * Restricts a TypeORM query to the rows `ability` may `action` (CASL ships adapters for
 * Mongoose and Prisma only). The filter runs in PostgreSQL: rows are never loaded to be
 * filtered in memory, so pagination and counts are right. It composes with the query's own
 * WHERE: the existing conditions are put in parentheses first, so an `OR` there cannot
 * escape the filter. Call it after the query's own conditions: on the builder it returns,
 * `where`, `andWhere`, `orWhere` (and their variants) throw. Nothing permitted: `FALSE`.
 *
 * @example
 * const qb = repo.createQueryBuilder('user').where('user.locale = :l', { l: 'en' });
 * accessibleBy(qb, ability, 'read', 'User').orderBy('user.id').take(20).getMany();
 */
export function accessibleBy<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  ability: AppAbility,
  action: string,
  subjectType: string,
): SelectQueryBuilder<T> {
  const ast = rulesToAST(ability, action, subjectType);
  const translator = new SqlTranslator(qb);
  const sql = ast === null ? 'FALSE' : translator.translate(ast);
  const wheres = qb.expressionMap.wheres;
  if (wheres.length > 0) {
    const existing = (
      qb as unknown as { createWhereClausesExpression(w: typeof wheres): string }
    ).createWhereClausesExpression(wheres);
    qb.expressionMap.wheres = [{ type: 'simple', condition: `(${existing})` }];
  }
  return lockWhere(
    (qb as WhereExpressionBuilder as SelectQueryBuilder<T>).andWhere(
      `(${sql})`,
      translator.parameters,
    ),
  );
}
