import type { ErrorCode } from '../domain/errors.js';
import { TTL_DEFAULTS } from '../domain/ttl.js';
import type { MissReason } from '../service/delivery-service.js';

/**
 * How a reason becomes an HTTP answer: the one table. The services and the domain say what
 * happened (a delivery miss reason, an `OriginError` code); this says which status that is, the
 * `error` and `message` of the JSON body, how long a cache may keep it, and when to retry. Both
 * error paths (the errors plugin and the delivery fast path) and delivery's misses read it.
 */

/** The `error` field of a JSON answer: an error code, or one that only delivery's misses use. */
export type AnswerCode = ErrorCode | 'gone' | 'blocking_timeout';

/** Everything the origin answers without the object asked for. */
export type Reason = MissReason | ErrorCode;

export interface AnswerRule {
  readonly status: number;
  readonly code: AnswerCode;
  /** The body's message; an error brings its own (it says what was wrong with this request). */
  readonly message?: string;
  /**
   * Cache lifetime (`Cache-Control`, `Live-TTL-Ms`); a miss whose lifetime the timing rules
   * compute brings its own (`future`: until the object enters its hold window). Errors have none.
   */
  readonly ttlMs?: number;
  /** `Retry-After`, in seconds. */
  readonly retryAfterSeconds?: number;
}

/** A shed client waits as long as the 503 may be cached. */
const OVERLOAD_RETRY_AFTER_SECONDS = TTL_DEFAULTS.overloadMs / 1000;
/** A blocking reload that timed out may ask again at once: by then the playlist has usually moved on. */
const BLOCK_TIMEOUT_RETRY_AFTER_SECONDS = 1;
/** A store that refused a write is usually back within a second (a blip, a throttled burst). */
const STORE_RETRY_AFTER_SECONDS = 1;
/** A PATCH that arrived while its PUT streams: the ack is a segment's upload away. */
const CONFLICT_RETRY_AFTER_SECONDS = 1;

export const ANSWERS: { readonly [R in Reason]: AnswerRule } = {
  // Delivery without the object (contract: timing, masks, overload).
  unknown_event: { status: 404, code: 'not_found', message: 'unknown event', ttlMs: TTL_DEFAULTS.unknownEventMs },
  absent: { status: 404, code: 'not_found', message: 'no such object', ttlMs: TTL_DEFAULTS.shortMs },
  no_timeline: { status: 404, code: 'not_found', message: 'no such object (the event has no template or cadence yet)', ttlMs: TTL_DEFAULTS.shortMs },
  future: { status: 404, code: 'not_found', message: 'segment not due yet' },
  hold_timeout: { status: 404, code: 'not_found', message: 'segment was not published by its deadline', ttlMs: TTL_DEFAULTS.shortMs },
  gone: { status: 410, code: 'gone', message: 'segment was never produced', ttlMs: TTL_DEFAULTS.goneMs },
  masked: { status: 410, code: 'gone', message: 'segment was invalidated', ttlMs: TTL_DEFAULTS.goneMs },
  overload: {
    status: 503,
    code: 'overloaded',
    message: 'overloaded, retry later',
    ttlMs: TTL_DEFAULTS.overloadMs,
    retryAfterSeconds: OVERLOAD_RETRY_AFTER_SECONDS,
  },
  // A held segment request while the origin drains: not there yet, ask again (another instance).
  drain: { status: 404, code: 'not_found', message: 'origin is shutting down', ttlMs: TTL_DEFAULTS.shortMs },
  reload_drain: { status: 503, code: 'overloaded', message: 'origin is shutting down', ttlMs: 0, retryAfterSeconds: OVERLOAD_RETRY_AFTER_SECONDS },
  block_timeout: {
    status: 503,
    code: 'blocking_timeout',
    message: 'the playlist did not reach the requested segment or part within three target durations',
    ttlMs: 0,
    retryAfterSeconds: BLOCK_TIMEOUT_RETRY_AFTER_SECONDS,
  },
  // Errors: the request, its credentials, or the origin itself.
  invalid_identifier: { status: 400, code: 'invalid_identifier' },
  bad_request: { status: 400, code: 'bad_request' },
  unauthorized: { status: 401, code: 'unauthorized' },
  forbidden: { status: 403, code: 'forbidden' },
  not_found: { status: 404, code: 'not_found' },
  method_not_allowed: { status: 405, code: 'method_not_allowed' },
  conflict: { status: 409, code: 'conflict', retryAfterSeconds: CONFLICT_RETRY_AFTER_SECONDS },
  payload_too_large: { status: 413, code: 'payload_too_large' },
  unsupported_media_type: { status: 415, code: 'unsupported_media_type' },
  range_not_satisfiable: { status: 416, code: 'range_not_satisfiable' },
  overloaded: { status: 503, code: 'overloaded' },
  store_unavailable: { status: 503, code: 'store_unavailable', retryAfterSeconds: STORE_RETRY_AFTER_SECONDS },
  draining: { status: 503, code: 'draining' },
  internal: { status: 500, code: 'internal' },
};

/** The error code of a status Fastify itself answers with (a 4xx of its router or body parser). */
export const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  416: 'range_not_satisfiable',
  503: 'overloaded',
};
