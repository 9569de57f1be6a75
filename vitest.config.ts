import { defineConfig } from 'vitest/config';

/** End-to-end files that pin the scale-out stores themselves (they stop a private MongoDB or Azurite). */
const scaleOutOnly = [
  'test/faults/dependency-outage.test.ts',
  'test/faults/process-kill.test.ts',
  'test/faults/storage-outage.test.ts',
  'test/ops/readiness-outage.test.ts',
];
/** End-to-end files whose subject does not depend on the stores (or needs the embedded ones): run once. */
const storeIndependent = [
  'test/ops/server-bundle.test.ts',
  'test/terminal-link.test.ts',
  'test/slow-clients.test.ts',
  'test/expect-continue.test.ts',
  'test/headers.test.ts',
  'test/faults/disk-full.test.ts',
  'test/browser/**',
  'test/ops/compose.test.ts',
  'test/request-log.test.ts',
  'test/rate-limit.test.ts',
];

export default defineConfig({
  test: {
    // Real services: generous bounds for a 2-core machine; speed targets live in `npm run bench`.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
    maxWorkers: 2,
    reporters: ['default'],
    // The end-to-end suite runs once per store configuration (test/support/stack.ts reads ONE_TIME_STORES).
    projects: [
      { extends: true, test: { name: 'units', include: ['libs/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'e2e:embedded',
          include: ['test/**/*.test.ts'],
          exclude: scaleOutOnly,
          env: { ONE_TIME_STORES: 'embedded' },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e:scale-out',
          include: ['test/**/*.test.ts'],
          exclude: storeIndependent,
          env: { ONE_TIME_STORES: 'scale-out' },
        },
      },
    ],
  },
});
