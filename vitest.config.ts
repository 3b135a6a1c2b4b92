import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real ZooKeeper servers, pseudo-terminals and child processes: keep parallelism modest on 2 cores.
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
  },
});
