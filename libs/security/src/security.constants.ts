/** Injection tokens internal to SecurityModule. */
export const SECURITY_OPTIONS = Symbol('SECURITY_OPTIONS');
export const HTTP_AUTHENTICATOR = Symbol('HTTP_AUTHENTICATOR');
export const HTTP_STRATEGY = Symbol('HTTP_STRATEGY');
