import { defineConfig } from 'vitest/config';
import { integrationTestFiles } from './test/tiers.js';

const integration = integrationTestFiles();

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          // Pure code and in-process commands over the repository's files (test/tiers.ts).
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**', 'test/sandbox/**', 'node_modules/**', ...integration],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          // Real loopback registries, real TLS, the built CLI, chromium, helm, containerd, skopeo (test/tiers.ts).
          name: 'integration',
          include: integration,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          // The docs examples as written, in a network namespace of their own: run by test/sandbox/run.sh only.
          name: 'sandbox',
          include: ['test/sandbox/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
          // One API server for the whole suite: files run one after another against it.
          fileParallelism: false,
          globalSetup: ['test/e2e/global-setup.ts'],
        },
      },
    ],
  },
});
