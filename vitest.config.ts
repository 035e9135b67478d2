import { defineConfig } from 'vitest/config';

// Three tiers (see README): unit tests open no sockets; integration tests run one
// workspace's real servers on port 0; e2e tests run several parts and real Chromium.
// The fuzz project reruns the unit tier's parser properties at full strength.
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
        // `npm run fuzz`: the parsers' property tests with ≥ 100 000 cases each (protocol/test/support/fuzz.ts).
        test: {
          name: 'fuzz',
          include: ['*/test/unit/**/*-fuzz.test.ts'],
          env: { SCHOOLCAM_FUZZ_RUNS: process.env.SCHOOLCAM_FUZZ_RUNS ?? '100000' },
          testTimeout: 6 * 3600_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['*/test/integration/**/*.test.ts', 'tests/interop/**/*.test.ts', 'tests/integration/**/*.test.ts', 'tests/install/**/*.test.ts'],
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
