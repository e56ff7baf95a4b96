/**
 * Every failure the origin reports has a stable code. The HTTP layer maps each code to exactly
 * one status (see http/plugins/errors.ts); domain code only says what went wrong.
 */
export type ErrorCode =
  | 'invalid_identifier'
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  /** The target is in a state that does not allow the request yet (a PATCH while its PUT streams). */
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'range_not_satisfiable'
  | 'overloaded'
  | 'store_unavailable'
  | 'draining'
  | 'internal';

export class OriginError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers (e.g. Retry-After) the HTTP layer should send with this error; a list is one line per value. */
    readonly headers: Readonly<Record<string, string | string[]>> = {},
    /** The underlying failure, for logs only (never sent to clients). */
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'OriginError';
  }
}

export function badRequest(message: string): OriginError {
  return new OriginError('bad_request', message);
}

export function invalidIdentifier(message: string): OriginError {
  return new OriginError('invalid_identifier', message);
}
