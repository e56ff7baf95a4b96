import { afterAll } from 'vitest';
import { createAwsStores } from '../../runtime/adapters/aws-stores.js';
import { NO_OBSERVER } from '../../runtime/ports/store-observer.js';
import type { LocalAws } from '../support/local-aws.js';
import { startLocalAws } from '../support/local-aws.js';
import { describeStoreContract } from './store-contract.js';

/** One pair of local servers for the file; each `make` is a new origin instance over them. */
let local: Promise<LocalAws> | undefined;

afterAll(async () => {
  await (await local)?.stop();
});

describeStoreContract('aws (s3rver + dynalite)', async () => {
  local ??= startLocalAws();
  const { bucket, tablePrefix, region } = await local;
  const stores = createAwsStores({ bucket, tablePrefix, region, peerBuckets: {}, memoryBytes: 64 * 1024 * 1024 }, NO_OBSERVER);
  return { stores, cleanup: () => stores.close() };
});
