import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Files at once: one per core, at least two (as before on a two-core machine), at most four
// (an end-to-end file runs a DHT and several node processes of ~100 MB each). A machine with
// more cores (CI) runs more files at the same load per core.
const FILES_AT_ONCE = Math.min(4, Math.max(2, availableParallelism()));

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
