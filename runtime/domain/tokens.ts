import { badRequest } from './errors.js';

/**
 * Bearer tokens, each granting a set of event ids by glob (`news-*`, `*`). Parsed from
 * `LIVE_ORIGIN_TOKENS` as `token=glob[,token=glob...]`; a token may appear more than once.
 */
export type TokenGrants = ReadonlyMap<string, readonly RegExp[]>;

const MIN_TOKEN_LENGTH = 16;

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

export function parseTokenGrants(spec: string): TokenGrants {
  const grants = new Map<string, RegExp[]>();
  for (const entry of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf('=');
    const token = eq > 0 ? entry.slice(0, eq) : '';
    const glob = eq > 0 ? entry.slice(eq + 1) : '';
    if (token.length < MIN_TOKEN_LENGTH || !glob) {
      throw badRequest(`each token entry must be token=glob with a token of at least ${MIN_TOKEN_LENGTH} characters`);
    }
    grants.set(token, [...(grants.get(token) ?? []), globToRegExp(glob)]);
  }
  if (grants.size === 0) throw badRequest('no tokens configured');
  return grants;
}

export type Access = 'granted' | 'unauthenticated' | 'forbidden';

/** Whether an `Authorization` header value may act on `event` (undefined: a route with no event). */
export function checkAccess(grants: TokenGrants, authorization: string | undefined, event: string | undefined): Access {
  const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  const globs = match ? grants.get(match[1]!) : undefined;
  if (!globs) return 'unauthenticated';
  if (event === undefined || globs.some((re) => re.test(event))) return 'granted';
  return 'forbidden';
}
