import { defineConfig } from 'vitest/config';

// Three tiers (see README): unit tests open no sockets; integration tests run one
// workspace's real servers on port 0; e2e tests run several parts and real Chromium.
//
// Every run is shuffled, files and the tests inside them, because every test must pass alone and
// in any order. The seed is printed ("Running tests with seed …"); replay a failing order with
// `npx vitest run --project <tier> --sequence.seed=<seed>`.
export default defineConfig({
  test: {
    sequence: { shuffle: { files: true, tests: true } },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['*/test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['*/test/integration/**/*.test.ts', 'tests/interop/**/*.test.ts', 'tests/install/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
