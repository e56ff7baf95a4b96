/**
 * CORS for delivery (contract v2, docs/contract.md): a web player on another origin reads segments,
 * playlists and the origin's `Live-*` / `CMSD-*` headers. Ingest and admin never answer CORS:
 * no browser page should drive them with a viewer's credentials.
 */

/** `LIVE_ORIGIN_CORS_ORIGINS` when unset: any page may play the stream, as with a public CDN. */
export const CORS_ANY_ORIGIN = '*';
/** Delivery is read-only. */
export const CORS_ALLOWED_METHODS = 'GET, HEAD';
/** The request headers a player sends beyond the safelisted ones: byte ranges and revalidation. */
export const CORS_ALLOWED_REQUEST_HEADERS = 'Range, If-None-Match, If-Range';
/** Chromium caps a preflight's cache at two hours; asking for more buys nothing. */
export const CORS_MAX_AGE_SECONDS = 7_200;
/**
 * Response headers a page may read beyond the safelisted ones (Content-Type, Content-Length,
 * Cache-Control, Last-Modified, ...). `Live-Notify-*` names depend on the event, so each
 * response adds the ones it carries.
 */
export const CORS_EXPOSED_HEADERS: readonly string[] = [
  'Live-Pipeline',
  'Live-Defect',
  'Live-Quality',
  'Live-TTL-Ms',
  'CMSD-Static',
  'CMSD-Dynamic',
  'ETag',
  'Content-Range',
  'Age',
  'Retry-After',
];
const EXPOSED = CORS_EXPOSED_HEADERS.join(', ');

/** A serialized origin as browsers send it: scheme, host, optional port; no path. */
const ORIGIN = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9a-f:.]+\](:\d{1,5})?$/;

export type CorsPolicy = { readonly kind: 'any' } | { readonly kind: 'list'; readonly origins: ReadonlySet<string> };

/**
 * The policy for a list of allowed origins (`*` alone for any). Throws on anything that is not
 * a serialized origin, so a typo fails at start-up rather than in a viewer's browser.
 */
export function corsPolicy(entries: readonly string[]): CorsPolicy {
  const cleaned = entries.map((entry) => entry.trim()).filter(Boolean);
  if (cleaned.length === 0 || (cleaned.length === 1 && cleaned[0] === CORS_ANY_ORIGIN)) return { kind: 'any' };
  const origins = new Set<string>();
  for (const entry of cleaned) {
    if (entry === CORS_ANY_ORIGIN) throw new Error('"*" allows every origin and cannot be combined with a list');
    const origin = entry.toLowerCase().replace(/\/$/, '');
    if (!ORIGIN.test(origin)) throw new Error(`"${entry}" is not an origin (scheme://host[:port])`);
    origins.add(origin);
  }
  return { kind: 'list', origins };
}

/** The `Access-Control-Allow-Origin` value for a request's `Origin`, or undefined when not allowed. */
export function allowedOrigin(policy: CorsPolicy, requestOrigin: string | undefined): string | undefined {
  if (policy.kind === 'any') return CORS_ANY_ORIGIN;
  if (requestOrigin === undefined) return undefined;
  return policy.origins.has(requestOrigin.toLowerCase()) ? requestOrigin : undefined;
}

/**
 * Headers every delivery response carries under this policy, whatever the request: with `*`
 * the answer is the same for every page, so caches keep one copy; with a list the answer
 * varies on the asking page, so a cache never hands one page's permission to another.
 */
export function corsFixedHeaders(policy: CorsPolicy): Record<string, string> {
  return policy.kind === 'any' ? { 'Access-Control-Allow-Origin': CORS_ANY_ORIGIN } : { Vary: 'Origin' };
}

/**
 * `Access-Control-Expose-Headers` for a response carrying these `Live-Notify-*` headers. Sent
 * to every request (it grants nothing without an Allow-Origin), so it depends on the event only.
 */
export function corsExposeHeaders(notificationHeaderNames: readonly string[] = []): string {
  return notificationHeaderNames.length === 0 ? EXPOSED : `${EXPOSED}, ${notificationHeaderNames.join(', ')}`;
}

/** The per-request part: the echoed origin under a list policy (undefined when `*` or not allowed). */
export function corsOriginHeader(policy: CorsPolicy, requestOrigin: string | undefined): string | undefined {
  return policy.kind === 'list' ? allowedOrigin(policy, requestOrigin) : undefined;
}

/** All CORS headers of a delivery response: fixed, exposed and per-request parts together. */
export function corsResponseHeaders(
  policy: CorsPolicy,
  requestOrigin: string | undefined,
  notificationHeaderNames: readonly string[] = [],
): Record<string, string> {
  const headers = { ...corsFixedHeaders(policy), 'Access-Control-Expose-Headers': corsExposeHeaders(notificationHeaderNames) };
  const echoed = corsOriginHeader(policy, requestOrigin);
  return echoed === undefined ? headers : { ...headers, 'Access-Control-Allow-Origin': echoed };
}

export type Preflight =
  | { readonly kind: 'allowed'; readonly headers: Record<string, string> }
  | { readonly kind: 'refused'; readonly reason: string; readonly headers: Record<string, string> }
  /** A plain OPTIONS (no Access-Control-Request-Method): what the resource allows. */
  | { readonly kind: 'options'; readonly headers: Record<string, string> };

/** The answer to `OPTIONS /live/...`. */
export function preflight(policy: CorsPolicy, requestOrigin: string | undefined, requestMethod: string | undefined): Preflight {
  const vary: Record<string, string> = policy.kind === 'list' ? { Vary: 'Origin' } : {};
  const allow = { Allow: `${CORS_ALLOWED_METHODS}, OPTIONS` };
  if (requestMethod === undefined || requestOrigin === undefined) return { kind: 'options', headers: { ...vary, ...allow } };
  const origin = allowedOrigin(policy, requestOrigin);
  if (origin === undefined) return { kind: 'refused', reason: `origin ${requestOrigin} is not allowed`, headers: vary };
  if (requestMethod !== 'GET' && requestMethod !== 'HEAD') {
    return { kind: 'refused', reason: `method ${requestMethod} is not allowed on delivery`, headers: { ...vary, ...allow } };
  }
  return {
    kind: 'allowed',
    headers: {
      ...vary,
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Allow-Methods': CORS_ALLOWED_METHODS,
      'Access-Control-Allow-Headers': CORS_ALLOWED_REQUEST_HEADERS,
      'Access-Control-Max-Age': String(CORS_MAX_AGE_SECONDS),
    },
  };
}
