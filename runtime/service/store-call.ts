import { OriginError } from '../domain/errors.js';

/**
 * Runs a store operation; any failure becomes a `store_unavailable` error (503 with Retry-After,
 * http/answers.ts), so clients see a clear retryable answer and never a leaked internal error. Not an async
 * function: the hot GET makes three of these calls, and the store's own promise is returned
 * with only a rejection handler added (no extra async frame per call).
 */
export function storeCall<T>(operation: string, run: () => Promise<T>): Promise<T> {
  let pending: Promise<T>;
  try {
    pending = run();
  } catch (error) {
    return Promise.reject(asStoreError(operation, error));
  }
  return pending.catch((error: unknown) => {
    throw asStoreError(operation, error);
  });
}

function asStoreError(operation: string, error: unknown): unknown {
  if (error instanceof OriginError) return error;
  return new OriginError('store_unavailable', `store unavailable during ${operation}`, {}, error);
}
