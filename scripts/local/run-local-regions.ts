/**
 * Two local regions' stores (scripts/local/local-regions.ts) outside the caller's process, so a
 * busy test or demo process never delays the stores' answers: each server (two S3, one
 * DynamoDB) runs in a child process of its own. Prints one JSON line (the servers' addresses) on
 * stdout, then serves until SIGTERM/SIGINT, and removes their data on exit.
 */
import { startLocalRegionsInProcesses } from './local-regions.js';

const regions = await startLocalRegionsInProcesses();
// The stop is in place before the address line: whoever started this may stop it on reading it.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void regions.stop().then(() => process.exit(0)));
}
process.stdout.write(`${JSON.stringify(regions.address)}\n`);
