import { badRequest } from './errors.js';

/**
 * Tokens, each granting a set of event ids by glob (`news-*`, `*`). Parsed from
 * `LIVE_ORIGIN_TOKENS` as `token=glob[,token=glob...]`; a token may appear more than once.
 * A client presents one as a bearer token, or as the password of Basic credentials.
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

/** The schemes a 401 offers, one `WWW-Authenticate` line each: clients that read one challenge per line (ffmpeg) find Basic. */
export const AUTH_CHALLENGES: readonly string[] = ['Bearer', 'Basic realm="live-origin"'];

const CREDENTIALS = /^(Bearer|Basic)\s+(\S+)\s*$/i;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The token an `Authorization` value presents: `Bearer <token>`, or `Basic` credentials whose
 * password is the token, with any user name. Encoders that only know a user and a password
 * (ffmpeg's `http://user:token@host/...`, WebDAV outputs of cloud and hardware encoders) send
 * the latter. The user name ends at the first colon (RFC 7617), so a token may contain colons.
 */
export function presentedToken(authorization: string | undefined): string | undefined {
  const match = authorization === undefined ? null : CREDENTIALS.exec(authorization);
  if (!match) return undefined;
  const [, scheme, credentials] = match as unknown as [string, string, string];
  if (scheme.toLowerCase() === 'bearer') return credentials;
  if (!BASE64.test(credentials)) return undefined;
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** Whether an `Authorization` header value may act on `event` (undefined: a route with no event). */
export function checkAccess(grants: TokenGrants, authorization: string | undefined, event: string | undefined): Access {
  const token = presentedToken(authorization);
  const globs = token === undefined ? undefined : grants.get(token);
  if (!globs) return 'unauthenticated';
  if (event === undefined || globs.some((re) => re.test(event))) return 'granted';
  return 'forbidden';
}
