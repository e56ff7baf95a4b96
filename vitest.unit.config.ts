import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:unit`: the suites that need no external tool (Varnish, ffmpeg, Chromium, nginx,
 * promtool), no local AWS stand-in and no child process, so a change is checked in under a
 * minute on a small machine: the domain, the services and the HTTP layer on the memory stores
 * (over real sockets), the adapters whose far end is a loopback stand-in, the memory store's
 * contract suite, the operations files' unit checks, and the CDK constructs that synthesize
 * without bundling the runtime. `npm test` runs everything.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    // Replaces the base list (mergeConfig would append to it, and so run everything).
    include: [
      'test/domain/**/*.test.ts',
      'test/service/**/*.test.ts',
      'test/http/**/*.test.ts',
      'test/contract/memory.test.ts',
      'test/adapters/aws-call.test.ts',
      'test/adapters/cloudfront-config.test.ts',
      'test/adapters/cloudfront-purger.test.ts',
      'test/adapters/cloudwatch-publisher.test.ts',
      'test/adapters/hot-cache.test.ts',
      'test/adapters/purge-client.test.ts',
      'test/adapters/read-cache.test.ts',
      'test/adapters/aws-stores-path-style.test.ts',
      'test/ops/alarms.test.ts',
      'test/ops/local-histogram.test.ts',
      'test/lib/config.test.ts',
      'test/lib/failover-timeline.test.ts',
      'test/lib/constructs/**/*.test.ts',
    ],
    exclude: [
      ...configDefaults.exclude,
      // The origin image bundles the runtime with esbuild (a child process); the fleet's test runs its boot script.
      'test/lib/constructs/origin-image*.test.ts',
      'test/lib/constructs/origin-fleet*.test.ts',
    ],
    // One module graph per worker instead of one per file: importing Fastify, the AWS SDK and
    // aws-cdk-lib again for every file took half the run (90 s against 43 s on 2 busy cores).
    // Every file still gets its own `describe` scope; `npm test` keeps full isolation.
    isolate: false,
  },
});
