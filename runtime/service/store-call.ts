import { OriginError } from '../domain/errors.js';

/** Seconds a client should wait before retrying a write the store could not take. */
export const STORE_RETRY_AFTER_SECONDS = 1;

/**
 * Runs a store operation; any failure becomes a 503 `store_unavailable` with Retry-After,
 * so clients see a clear retryable answer and never a leaked internal error.
 */
export async function storeCall<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof OriginError) throw error;
    throw new OriginError(
      'store_unavailable',
      `store unavailable during ${operation}`,
      { 'Retry-After': String(STORE_RETRY_AFTER_SECONDS) },
      error,
    );
  }
}
