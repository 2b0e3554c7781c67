import cliProgress from 'cli-progress';

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
