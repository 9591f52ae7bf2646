import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // *.serial.test.ts measure the machine's load and run alone afterwards (vitest.serial.config.ts).
    exclude: ['test/bench/**', 'node_modules/**', 'dist/**', 'test/**/*.serial.test.ts'],
    // End-to-end suites start DHTs, coordinators and worker processes: give them room, and run
    // at most two files at once on a two-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    minWorkers: 1,
  },
});
