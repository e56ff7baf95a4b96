import { errorName } from './aws-retry.js';

/**
 * Runs a conditional write; a failed condition is an answer, not a fault: undefined instead of
 * ConditionalCheckFailedException. The store's compare-and-set steps (first pin, first event,
 * in-order edge, widest width, existing item) all read their outcome this way.
 */
export async function unlessConditionFails<T>(write: () => Promise<T>): Promise<T | undefined> {
  try {
    return await write();
  } catch (error) {
    if (errorName(error) === 'ConditionalCheckFailedException') return undefined;
    throw error;
  }
}
