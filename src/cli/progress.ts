import cliProgress from 'cli-progress';
import { prepareArchive, type Archive, type PrepareHooks } from '../archive.js';
import type { Config } from '../config.js';

/** A progress bar on stderr with counts and rate; stdout stays free for machine-readable output. */
export function progressBar(label: string): { update(done: number, total: number): void; stop(): void } {
  let started = 0;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {value}/{total} | {rate}/s | {duration_formatted}`,
      noTTYOutput: true,
      notTTYSchedule: 2000,
      hideCursor: false,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  return {
    update(done, total) {
      // The rate counts from the first update, not from when the bar was made.
      if (!running) started = Date.now() - 1;
      const rate = (done / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1);
      if (!running) {
        bar.start(total, done, { rate });
        running = true;
      } else {
        bar.setTotal(total);
        bar.update(done, { rate });
      }
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}

/** Hooks that log to stderr and draw the passage-embedding bar; call done() when the work ends. */
export function progressHooks(): PrepareHooks & { done(): void } {
  const bar = progressBar('Embedding passages');
  return { log: (m) => process.stderr.write(`${m}\n`), progress: (_stage, done, total) => bar.update(done, total), done: () => bar.stop() };
}

/** prepareArchive with its progress shown on stderr. */
export async function prepareWithProgress(config: Config): Promise<Archive> {
  const hooks = progressHooks();
  try {
    return await prepareArchive(config, hooks);
  } finally {
    hooks.done();
  }
}
