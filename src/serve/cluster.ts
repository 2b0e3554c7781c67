import cluster, { type Worker } from 'node:cluster';
import type { ServerType } from '@hono/node-server';
import { buildSummary, openArchive, rebuild, type Archive } from '../archive.js';
import type { Config } from '../config.js';
import { liveManifest } from '../index/index.js';
import { createApp, type ReindexSummary } from './app.js';
import { closeGracefully, listen, singleUpdates, watchForUpdates } from './server.js';

/**
 * `npm start` with server.workers above 1: this process (the primary) forks that many workers with
 * Node's cluster; each opens the live index and serves on the one shared port (the primary hands
 * connections out round-robin), so a search waits for a free core, not for another search. The
 * index is on disk in a form that opens in about a second (src/index/artifacts.ts), and each
 * worker holds what it reads of it; the page cache shares the files' bytes between them.
 *
 * Updates (POST /api/reindex to any worker, or `--watch`) are built by the primary only, one at a
 * time; each worker then opens the new generation and swaps it in, and the update answers once
 * every worker serves it. A worker that dies is replaced.
 */

type ToWorker = { type: 'reload' } | { type: 'reindexed'; id: number; summary: ReindexSummary | null; error?: string } | { type: 'stop'; graceMs: number };
type ToPrimary = { type: 'ready'; port: number } | { type: 'reloaded'; index: string } | { type: 'reload-failed'; error: string } | { type: 'reindex'; id: number };

export interface RunningCluster {
  readonly port: number;
  readonly workers: number;
  /** Stops watching, then stops every worker gracefully (each finishes its requests in flight, up to graceMs). */
  close(graceMs?: number): Promise<void>;
}

/** The next message from `worker` that `wanted` accepts; null if the worker exits first. */
function nextMessage<T extends ToPrimary>(worker: Worker, wanted: (m: ToPrimary) => m is T): Promise<T | null> {
  return new Promise((resolve) => {
    const onMessage = (m: ToPrimary) => {
      if (!wanted(m)) return;
      done();
      resolve(m);
    };
    const onExit = () => {
      done();
      resolve(null);
    };
    const done = () => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('exit', onExit);
  });
}

/** Forks `count` workers serving the live index of config.indexDir and coordinates their updates. */
export async function startCluster(config: Config, log: (message: string) => void, options: { watch?: boolean; workers: number }): Promise<RunningCluster> {
  let serving = (await liveManifest(config))?.id ?? 'none';
  let stopping = false;
  const workers = new Set<Worker>();

  const fork = async (): Promise<number> => {
    const worker = cluster.fork();
    const ready = await nextMessage(worker, (m): m is Extract<ToPrimary, { type: 'ready' }> => m.type === 'ready');
    if (!ready) throw new Error('a worker stopped before it could serve (its error is above)');
    workers.add(worker);
    worker.on('message', (m: ToPrimary) => {
      if (m.type !== 'reindex') return;
      const answer = (reply: Omit<Extract<ToWorker, { type: 'reindexed' }>, 'type' | 'id'>) => worker.isConnected() && worker.send({ type: 'reindexed', id: m.id, ...reply } satisfies ToWorker);
      const run = updates.reindex();
      if (!run) answer({ summary: null });
      else run.then((summary) => answer({ summary }), (e: Error) => answer({ summary: null, error: e.message }));
    });
    worker.on('exit', (code, signal) => {
      workers.delete(worker);
      if (stopping) return;
      log(`Worker ${worker.process.pid} stopped (${signal ?? `exit code ${code}`}); starting another.`);
      fork().then(
        () => log(`A new worker serves in place of ${worker.process.pid}.`),
        (e: Error) => log(`Could not start a worker: ${e.message}`),
      );
    });
    return ready.port;
  };

  const updates = singleUpdates(config, log, async () => {
    const previousIndex = serving;
    const report = await rebuild(config, { log });
    const replies = await Promise.all(
      [...workers].map((worker) => {
        const reply = nextMessage(worker, (m): m is Extract<ToPrimary, { type: 'reloaded' | 'reload-failed' }> => m.type === 'reloaded' || m.type === 'reload-failed');
        worker.send({ type: 'reload' } satisfies ToWorker);
        return reply;
      }),
    );
    const failed = replies.find((r) => r?.type === 'reload-failed');
    if (failed?.type === 'reload-failed') throw new Error(`the new index was built, but a worker could not open it: ${failed.error}`);
    serving = report.manifest.id;
    return { ...buildSummary(report), previousIndex };
  });

  // The workers start one after another: each opens the index, and opening is disk- and CPU-bound.
  let port = 0;
  for (let i = 0; i < options.workers; i++) port = await fork();
  const watcher = options.watch ? await watchForUpdates(config, updates, log, () => serving) : null;
  return {
    port,
    workers: options.workers,
    close: async (graceMs = 10_000) => {
      stopping = true;
      await watcher?.close();
      await Promise.all(
        Object.values(cluster.workers ?? {}).map((worker) => {
          const exited = new Promise((resolve) => worker!.once('exit', resolve));
          // A worker still opening the index serves nothing yet; one serving finishes its requests first.
          if (!workers.has(worker!)) worker!.kill('SIGKILL');
          else worker!.send({ type: 'stop', graceMs } satisfies ToWorker);
          // A worker that does not stop in time (a request stuck in the model) is killed.
          const kill = setTimeout(() => worker!.kill('SIGKILL'), graceMs + 5000);
          return exited.finally(() => clearTimeout(kill));
        }),
      );
    },
  };
}

/** A worker's part: serve the live index, reopen it when the primary says an update is in, and stop when told. */
export async function runWorker(config: Config, log: (message: string) => void): Promise<void> {
  const send = (m: ToPrimary) => process.send!(m);
  let live: Archive = await openArchive(config);
  let asked = 0;
  const waiting = new Map<number, (m: Extract<ToWorker, { type: 'reindexed' }>) => void>();
  const reindex = async (): Promise<ReindexSummary | null> => {
    const id = ++asked;
    const reply = await new Promise<Extract<ToWorker, { type: 'reindexed' }>>((resolve) => {
      waiting.set(id, resolve);
      send({ type: 'reindex', id });
    });
    if (reply.error) throw new Error(reply.error);
    return reply.summary;
  };
  const { server, port } = await listen(createApp(() => live, { reindex }), config);
  process.on('message', (m: ToWorker) => void handle(m, server));
  const handle = async (m: ToWorker, server: ServerType) => {
    if (m.type === 'reindexed') {
      waiting.get(m.id)?.(m);
      waiting.delete(m.id);
    } else if (m.type === 'reload') {
      try {
        // The model may have been trained again: the new index names the one to load.
        live = await openArchive(config);
        send({ type: 'reloaded', index: live.index.manifest.id });
      } catch (e) {
        send({ type: 'reload-failed', error: (e as Error).message });
      }
    } else if (m.type === 'stop') {
      await closeGracefully(server, m.graceMs, log);
      process.exit(0);
    }
  };
  // Ctrl-C reaches every process of the terminal's group: the primary stops the workers in order.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => void handle({ type: 'stop', graceMs: 10_000 }, server));
  // A worker whose primary is gone stops too.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', port });
}
