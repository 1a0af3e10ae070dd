/**
 * Supplies headers for an outgoing message at publish time. `@app/security` provides one that
 * attaches `Authorization: Bearer <service token>`; without it, messages go out unauthenticated
 * and every consumer protected by `@app/security` refuses them.
 */
export interface MessageHeadersProvider {
  headersFor(subject: string): Promise<Record<string, string>>;
}
