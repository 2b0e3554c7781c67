import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { buildSummary, rebuild, type Archive } from '../archive.js';
import type { Config } from '../config.js';
import { corpusChanges } from '../index/index.js';
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

/** Listens on config.server.host/port (in a cluster worker, on the port the workers share). */
export async function listen(app: { fetch: (request: Request) => Response | Promise<Response> }, config: Config): Promise<{ server: ServerType; port: number }> {
  const { port, host } = config.server;
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s));
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/** Stops accepting connections and lets in-flight requests finish, closing what is still open after graceMs. */
export function closeGracefully(server: ServerType, graceMs: number, log: (message: string) => void): Promise<void> {
  return new Promise<void>((resolve) => {
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
}

/** Updates of a running archive, one at a time: `reindex` is null while one is running. */
export interface Updates {
  reindex(): Promise<ReindexSummary> | null;
}

/** One update at a time of `update` (build the new index, then swap it in wherever it is served), each logged as it starts. */
export function singleUpdates(config: Config, log: (message: string) => void, update: () => Promise<ReindexSummary>): Updates {
  let running: Promise<ReindexSummary> | null = null;
  return {
    reindex() {
      if (running) return null;
      log(`Updating the index from ${config.corpusDir}; the current one answers meanwhile.`);
      running = update().finally(() => (running = null));
      return running;
    },
  };
}

/**
 * Updates the archive whenever the corpus folder changes, with a log line per update; changes that
 * arrive during an update are taken by one more update after it.
 */
export async function watchForUpdates(config: Config, updates: Updates, log: (message: string) => void, serving: () => string): Promise<CorpusWatcher> {
  let pending = false;
  const update = async (): Promise<void> => {
    const run = updates.reindex();
    if (!run) {
      if (!pending) log('Watch: files changed during the update; one more update follows it.');
      pending = true;
      return;
    }
    try {
      const s = await run;
      const changed = `${s.changes.added.count} added, ${s.changes.changed.count} changed, ${s.changes.removed.count} removed${s.changes.catalog ? `, catalog ${s.changes.catalog}` : ''}`;
      log(`Watch: ${changed}; embedded ${s.embedded} passages in ${(s.ms / 1000).toFixed(1)} s; now serving index ${s.index} (${s.documents} documents).`);
    } catch (e) {
      log(`Watch: the update failed, still serving index ${serving()}: ${(e as Error).message}`);
    }
    if (pending) {
      pending = false;
      await update();
    }
  };
  const { corpusDir, indexDir, server } = config;
  const watcher = watchCorpus(corpusDir, { debounceMs: server.watchDebounceMs, ignore: [indexDir] }, () => void update());
  await watcher.ready;
  log(`Watching ${corpusDir} for changes.`);
  // A change made after the index was built and before the watcher's first scan was seen by neither:
  // the folder is checked against the live index once, and updated from if it differs.
  const { added, changed, removed, catalog } = await corpusChanges(config);
  if (added.length + changed.length + removed.length || catalog) void update();
  return watcher;
}

/**
 * Serves the archive from this process on config.server.host/port. An update (POST /api/reindex
 * with the admin token, or a change in the corpus folder with `watch`) builds the new index from
 * the corpus while the old one keeps answering, then swaps it in with one assignment: a request
 * sees one archive or the other, never a mix.
 */
export async function startServer(initial: Archive, log: (message: string) => void, options: ServerOptions = {}): Promise<RunningServer> {
  let live = initial;
  const updates = singleUpdates(initial.config, log, async () => {
    const before = live;
    const report = await rebuild(before.config, { log, previous: before.index, loaded: before.embedder });
    live = before.withIndex(report.index, report.embedder);
    return { ...buildSummary(report), previousIndex: before.index.manifest.id };
  });
  const { server, port } = await listen(createApp(() => live, { reindex: async () => updates.reindex() ?? null }), initial.config);
  const watcher = options.watch ? await watchForUpdates(initial.config, updates, log, () => live.index.manifest.id) : null;
  return {
    port,
    archive: () => live,
    close: async (graceMs = 10_000) => {
      // An update still running is left to die with the process: a build that stops part-way leaves the live index as it was.
      await watcher?.close();
      await closeGracefully(server, graceMs, log);
    },
  };
}
