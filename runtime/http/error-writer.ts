import type { FastifyBaseLogger, FastifyError } from 'fastify';
import { OriginError } from '../domain/errors.js';
import type { AnswerRule } from './answers.js';
import { ANSWERS, CODE_OF_STATUS } from './answers.js';

/**
 * The one writer of error answers: the errors plugin (every Fastify route) and the delivery
 * fast path (which answers from the Node server, without a reply object) both call `writeError`,
 * so an error has the same status, body, headers, log line and count whichever path it took.
 */

/** The JSON body of every answer without an object. */
export interface AnswerBody {
  readonly error: string;
  readonly message: string;
}

/** Response headers as Fastify and the Node server both take them; a list is one line per value. */
export type AnswerHeaders = Readonly<Record<string, string | string[]>>;

/** Where an answer goes: a Fastify reply, or a raw response on the fast path. */
export type AnswerSink = (status: number, headers: AnswerHeaders, body: AnswerBody) => void;

/** What the writer needs around it: the request's logger, and the unserved-ratio signal. */
export interface ErrorContext {
  readonly log: FastifyBaseLogger;
  readonly metrics: { errorAnswered(code: string): void };
}

/** Turns anything thrown into an `OriginError` with a code; 5xx never shows internals. */
export function toOriginError(error: FastifyError | OriginError | Error): OriginError {
  if (error instanceof OriginError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const code = fastifyError.validationContext === 'params' ? 'invalid_identifier' : 'bad_request';
    return new OriginError(code, `${fastifyError.validationContext ?? 'request'} ${fastifyError.validation[0]?.message ?? 'invalid'}`);
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new OriginError(CODE_OF_STATUS[status] ?? 'bad_request', fastifyError.message);
  }
  return new OriginError('internal', 'internal error');
}

/**
 * Answers `error` through `sink`: its code's status and `Retry-After` (answers.ts), the error's
 * own headers (a 401's challenges), `{ error, message }`. Logs it (5xx at error with the cause,
 * which pino's serializer appends; the rest at info) and counts it for the unserved ratio.
 * Returns the status.
 */
export function writeError(error: Error, context: ErrorContext, sink: AnswerSink): number {
  const origin = toOriginError(error);
  const rule = ANSWERS[origin.code];
  if (rule.status >= 500) context.log.error({ err: error, code: origin.code }, 'request failed');
  else context.log.info({ code: origin.code, reason: origin.message }, 'request rejected');
  context.metrics.errorAnswered(origin.code);
  sink(rule.status, { ...retryAfter(rule), ...origin.headers }, { error: origin.code, message: origin.message });
  return rule.status;
}

/** The `Retry-After` header of a rule, if it has one. */
export function retryAfter(rule: AnswerRule): Record<string, string> {
  return rule.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(rule.retryAfterSeconds) };
}
