import type { EntityManager } from 'typeorm';

/**
 * Inside the transaction that starts a login's next step (its session or its MFA challenge):
 * whether the identity is still as the credential check read it (`tokensValidAfter` unchanged,
 * not disabled), keeping its row locked (FOR SHARE) until the transaction ends. A revocation of
 * the user (password change, disabling, role change) raises `tokens_valid_after`: it either
 * came first, and the login is refused, or waits, and then ends what this transaction created.
 */
export async function lockIdentityIfUnchanged(
  manager: EntityManager,
  identityId: string,
  tokensValidAfter: number,
): Promise<boolean> {
  const unchanged: unknown[] = await manager.query(
    `SELECT 1 FROM identities
      WHERE id = $1 AND NOT disabled AND tokens_valid_after = $2 FOR SHARE`,
    [identityId, tokensValidAfter],
  );
  return unchanged.length > 0;
}
