import type { Clock } from '../ports/clock.js';
import type { StoreObserver } from '../ports/store-observer.js';
import { abortAfter } from './clock-waits.js';

/**
 * Timeouts and retries sized for live video (docs/contract.md: a write slower than 500 ms is a
 * fault, retries end within 2 s). The SDK retries transient failures itself (`maxAttempts`); every
 * call also carries an abort signal for the whole budget, so retries never outlast it.
 */

/** Every store call, its retries included, gives up after this long. */
export const CALL_BUDGET_MS = 2_000;
/** A write slower than this is reported as a fault (it still succeeds). */
export const WRITE_FAULT_MS = 500;
/** Attempts per call, first one included (SDK standard retry mode, jittered exponential backoff). */
export const MAX_ATTEMPTS = 3;
/** Large objects get extra budget at this assumed floor of throughput (64 MiB: +2 s). */
const BUDGET_BYTES_PER_MS = 32 * 1024;

/** Keep-alive sockets shared by every call of a client; sized above the SDK's default of 50. */
const AGENT = { keepAlive: true, maxSockets: 256 };

/** SDK request-handler settings for DynamoDB: small JSON requests, so a hard per-attempt timeout. */
export const DYNAMODB_HTTP = {
  connectionTimeout: 300,
  requestTimeout: 500,
  throwOnRequestTimeout: true,
  httpAgent: AGENT,
  httpsAgent: AGENT,
};

/**
 * SDK request-handler settings for S3: bodies up to 64 MiB, so no per-attempt total; a socket
 * that stays silent for a second is dead, and the call budget bounds the rest.
 */
export const S3_HTTP = {
  connectionTimeout: 500,
  socketTimeout: 1_000,
  httpAgent: AGENT,
  httpsAgent: AGENT,
};

export type StoreName = 'segments' | 'metadata';

export interface CallOptions {
  readonly observer: StoreObserver;
  /** Times the budget. */
  readonly clock: Clock;
  readonly store: StoreName;
  readonly operation: string;
  /** Writes are checked against the slow-write threshold. */
  readonly write: boolean;
  readonly writeFaultMs: number;
  /** Payload size, for the budget of large objects. */
  readonly bytes?: number;
}

/**
 * Runs one store call under the budget, reports its latency, a slow write, or a failure, and
 * lets the failure propagate (the service layer answers 503 with Retry-After). The budget and
 * the latency (the clock's steady `monotonic()` reading) are both taken on the injected clock.
 */
export async function awsCall<T>(options: CallOptions, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const budget = callBudgetMs(options.bytes ?? 0);
  const limit = abortAfter(options.clock, budget, () => new StoreTimeoutError(options, budget));
  const started = options.clock.monotonic();
  try {
    const result = await run(limit.signal);
    const ms = options.clock.monotonic() - started;
    options.observer.latency(options.store, options.operation, ms / 1000);
    if (options.write && ms > options.writeFaultMs) options.observer.fault(options.store, options.operation, 'slow');
    return result;
  } catch (error) {
    options.observer.fault(options.store, options.operation, 'error');
    throw limit.signal.aborted ? limit.signal.reason : error;
  } finally {
    limit.cancel();
  }
}

/** The whole-call budget, retries included, for a payload of this size. */
export function callBudgetMs(bytes: number): number {
  return CALL_BUDGET_MS + Math.ceil(bytes / BUDGET_BYTES_PER_MS);
}

export class StoreTimeoutError extends Error {
  constructor(options: Pick<CallOptions, 'store' | 'operation'>, budgetMs: number) {
    super(`${options.store} ${options.operation} did not complete within ${budgetMs} ms`);
    this.name = 'StoreTimeoutError';
  }
}

/** The error name the SDK gives a service error (`NoSuchKey`, `ConditionalCheckFailedException`, ...). */
export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}
