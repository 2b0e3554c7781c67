import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { buildSummary, rebuild, type Archive } from '../archive.js';
import { createApp, type ReindexSummary } from './app.js';
import { watchCorpus, type CorpusWatcher } from './watch.js';

export interface RunningServer {
  readonly port: number;
  /** The archive answering now (a reindex swaps in a new one). */
  archive(): Archive;
  /** Stops watching, stops accepting connections, lets in-flight requests finish (up to graceMs), then resolves. */
  close(graceMs?: number): Promise<void>;
}

export interface ServerOptions {
  /** Keep the index in step with the corpus folder: changes are picked up (debounced) and swapped in. */
  watch?: boolean;
}

/**
 * Serves the archive on config.server.host/port. An update (POST /api/reindex with the admin
 * token, or a change in the corpus folder with `watch`) builds the new index from the corpus
 * while the old one keeps answering, then swaps it in with one assignment: a request sees one
 * archive or the other, never a mix. One update runs at a time.
 */
export async function startServer(initial: Archive, log: (message: string) => void, options: ServerOptions = {}): Promise<RunningServer> {
  let live = initial;
  let running: Promise<ReindexSummary> | null = null;
  const reindex = (): Promise<ReindexSummary> | null => {
    if (running) return null;
    const before = live;
    running = (async () => {
      const report = await rebuild(before.config, { log, previous: before.index, loaded: before.embedder });
      live = before.withIndex(report.index, report.embedder);
      return { ...buildSummary(report), previousIndex: before.index.manifest.id };
    })().finally(() => (running = null));
    return running;
  };
  const app = createApp(() => live, { reindex });
  const { port, host, watchDebounceMs } = initial.config.server;
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s));
  });

  let watcher: CorpusWatcher | null = null;
  if (options.watch) {
    // Changes that arrive during an update are taken by one more update after it.
    let pending = false;
    const update = async (): Promise<void> => {
      const run = reindex();
      if (!run) {
        pending = true;
        return;
      }
      try {
        const s = await run;
        const changed = `${s.changes.added.count} added, ${s.changes.changed.count} changed, ${s.changes.removed.count} removed`;
        log(`Watch: ${changed}; embedded ${s.embedded} passages in ${(s.ms / 1000).toFixed(1)} s; now serving index ${s.index} (${s.documents} documents).`);
      } catch (e) {
        log(`Watch: the update failed, still serving index ${live.index.manifest.id}: ${(e as Error).message}`);
      }
      if (pending) {
        pending = false;
        await update();
      }
    };
    const { corpusDir, indexDir } = initial.config;
    watcher = watchCorpus(corpusDir, { debounceMs: watchDebounceMs, ignore: [indexDir] }, () => void update());
    log(`Watching ${corpusDir} for changes.`);
  }

  return {
    port: (server.address() as AddressInfo).port,
    archive: () => live,
    close: async (graceMs = 10_000) => {
      // An update still running is left to die with the process: a build that stops part-way leaves the live index as it was.
      await watcher?.close();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          log(`Requests still open after ${graceMs} ms; closing them.`);
          (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        }, graceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        // Idle keep-alive connections would hold close() open; busy ones finish their request first.
        (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      });
    },
  };
}
