import cliProgress from 'cli-progress';
import { prepareArchive, type Archive, type PrepareHooks } from '../archive.js';
import type { Config } from '../config.js';

export interface ProgressBar {
  /** `total` undefined: not known yet (a stream of queries). */
  update(done: number, total?: number): void;
  stop(): void;
}

/** Seconds between progress lines when stderr is not a terminal (a log file, CI). */
const LOG_EVERY_MS = 5000;

/**
 * Progress on stderr with counts and rate; stdout stays free for machine-readable output. In a
 * terminal, a bar redrawn in place (cli-progress); otherwise a line every few seconds. The lines
 * are written from update() itself: embedding keeps the event loop busy, so a timer (cli-progress'
 * own schedule off a terminal) never fires during a build, and a log showed one line for minutes.
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  let started = 0;
  let running = false;
  const rate = (done: number) => (done / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1);
  if (!stream.isTTY) {
    let [line, written, last] = ['', '', 0];
    const format = (done: number, total?: number) => {
      const share = total === undefined ? '' : ` | ${total ? Math.floor((100 * done) / total) : 100}%`;
      return `${label}: ${done}${total === undefined ? '' : `/${total}`} | ${rate(done)}/s${share} | ${Math.round((Date.now() - started) / 1000)} s`;
    };
    const write = () => {
      stream.write(`${line}\n`);
      [written, last] = [line, Date.now()];
    };
    return {
      update(done, total) {
        if (!running) [started, running] = [Date.now() - 1, true];
        line = format(done, total);
        if ((total !== undefined && done >= total) || Date.now() - last >= LOG_EVERY_MS) write();
      },
      stop() {
        // A log always ends with the final count.
        if (running && line !== written) write();
        running = false;
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    { stream, format: `${label} [{bar}] {value}/{total} | {rate}/s | {duration_formatted}`, hideCursor: false, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  return {
    update(done, total = done) {
      // The rate counts from the first update, not from when the bar was made.
      if (!running) {
        started = Date.now() - 1;
        bar.start(total, done, { rate: rate(done) });
        running = true;
      } else {
        bar.setTotal(total);
        bar.update(done, { rate: rate(done) });
      }
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}

/** Hooks that log to stderr and draw the bars of scanned pages read by OCR and of passages embedded; call done() when the work ends. */
export function progressHooks(): PrepareHooks & { done(): void } {
  const bars = { ocr: progressBar('Reading scanned pages (OCR)'), embed: progressBar('Embedding passages') };
  return {
    log: (m) => process.stderr.write(`${m}\n`),
    progress: (stage, done, total) => {
      // Reading comes before embedding: its bar is finished once embedding starts.
      if (stage === 'embed') bars.ocr.stop();
      bars[stage].update(done, total);
    },
    done: () => {
      bars.ocr.stop();
      bars.embed.stop();
    },
  };
}

/** prepareArchive (or another preparation, such as prepareIndexFiles) with its progress shown on stderr. */
export async function prepareWithProgress<T = Archive>(config: Config, options: Pick<PrepareHooks, 'verify'> = {}, prepare: (config: Config, hooks: PrepareHooks) => Promise<T> = prepareArchive as never): Promise<T> {
  const hooks = { ...progressHooks(), ...options };
  try {
    return await prepare(config, hooks);
  } finally {
    hooks.done();
  }
}
