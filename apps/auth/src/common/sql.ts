/**
 * Rows of `manager.query(...)` with RETURNING. TypeORM's postgres driver answers UPDATE and
 * DELETE with `[rows, rowCount]` but INSERT and SELECT with `rows`.
 */
export function returnedRows<T = unknown>(result: unknown): T[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}
