import { createMemoryStores } from '../../runtime/adapters/memory-stores.js';
import { NO_OBSERVER } from '../../runtime/ports/store-observer.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract(
  'memory',
  async () => {
    const stores = createMemoryStores({ memoryBytes: 64 * 1024 * 1024, observer: NO_OBSERVER });
    return { stores, cleanup: () => stores.close() };
  },
  { singleInstance: 'the memory store lives in one process; every instance has its own data' },
);
