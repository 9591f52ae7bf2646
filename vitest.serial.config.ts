import { defineConfig } from 'vitest/config';

/**
 * Tests that read the machine's CPU load (the idle-only volunteer) must not share the machine
 * with the rest of the suite: `npm test` runs them alone, after the main run.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.serial.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
    minWorkers: 1,
    fileParallelism: false,
  },
});
