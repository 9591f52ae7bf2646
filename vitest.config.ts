import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Files at once: one per core and one more, at least three, at most four (an end-to-end file runs
// a DHT and several node processes of ~100 MB each). Most files wait more than they compute
// (leases, redials, child processes starting): two files at once kept 1.5 of two cores busy
// (753 CPU-s in 501 s), so a third file fills the rest.
const FILES_AT_ONCE = Math.min(4, Math.max(3, availableParallelism() + 1));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // *.serial.test.ts measure the machine's load and run alone afterwards (vitest.serial.config.ts).
    exclude: ['test/bench/**', 'node_modules/**', 'dist/**', 'test/**/*.serial.test.ts'],
    // End-to-end suites start DHTs, coordinators and worker processes: give them room.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: FILES_AT_ONCE,
    minWorkers: 1,
  },
});
