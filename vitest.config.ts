import { defineConfig } from 'vitest/config';
import SlowFilesFirst from './tests/setup/sequencer.js';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Builds the built-in model once (about a minute on 2 cores) before any test file runs.
    globalSetup: ['tests/setup/model.ts'],
    // onnxruntime and hnswlib are native addons: separate processes are safer than worker threads.
    pool: 'forks',
    // Two files at a time on two cores (vitest's default is one fewer than the cores): many tests wait
    // on servers, a database or a browser, so two overlap well.
    maxWorkers: 2,
    sequence: { sequencer: SlowFilesFirst },
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
