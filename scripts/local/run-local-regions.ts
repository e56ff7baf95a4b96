/**
 * Two local regions' stores (scripts/local/local-regions.ts) in a process of their own, so a busy
 * test or demo process never delays the stores' answers. Prints one JSON line (the servers'
 * addresses) on stdout, then serves until SIGTERM/SIGINT, and removes its data on exit.
 */
import { startLocalRegions } from './local-regions.js';

const regions = await startLocalRegions();
process.stdout.write(`${JSON.stringify(regions.address)}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void regions.stop().then(() => process.exit(0)));
}
