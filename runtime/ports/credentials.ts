import type { TokenGrants } from '../domain/tokens.js';

/** What requests are authenticated against at one moment. */
export interface Credentials {
  /** Bearer tokens and the events each grants (ingest, admin, status). */
  readonly tokens: TokenGrants;
  /**
   * Every CDN secret accepted in `Live-CDN-Auth`: the current one and, during a rotation, the
   * next (empty: no CDN check). Kept as bytes: the delivery hot path compares, never converts.
   */
  readonly cdnSecrets: readonly Buffer[];
}

/**
 * Where the current credentials come from. Asked on every authenticated request, so a source
 * that re-reads them (a rotation, a revoked token) takes effect without a restart.
 */
export interface CredentialSource {
  current(): Credentials;
}

/** Credentials fixed for the life of the process (environment only). */
export function fixedCredentials(tokens: TokenGrants, cdnSecrets: readonly (string | undefined)[]): CredentialSource {
  const credentials: Credentials = {
    tokens,
    cdnSecrets: cdnSecrets.filter((secret): secret is string => Boolean(secret)).map((secret) => Buffer.from(secret)),
  };
  return { current: () => credentials };
}
