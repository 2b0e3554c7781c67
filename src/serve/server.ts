import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { buildSummary, rebuild, type Archive } from '../archive.js';
import { createApp } from './app.js';

export interface RunningServer {
  readonly port: number;
  /** The archive answering now (a reindex swaps in a new one). */
  archive(): Archive;
  /** Stops accepting connections, lets in-flight requests finish (up to graceMs), then resolves. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Serves the archive on config.server.host/port. With an admin token configured, POST /api/reindex
 * updates the index from the corpus while the old one keeps answering, then swaps the new one in
 * with one assignment: a request sees one archive or the other, never a mix.
 */
export async function startServer(initial: Archive, log: (message: string) => void): Promise<RunningServer> {
  let live = initial;
  const reindex = async () => {
    const before = live;
    const report = await rebuild(before.config, before.embedder, { log, previous: before.index });
    live = before.withIndex(report.index);
    return { ...buildSummary(report), previousIndex: before.index.manifest.id };
  };
  const app = createApp(() => live, { reindex });
  const { port, host } = initial.config.server;
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s));
  });
  return {
    port: (server.address() as AddressInfo).port,
    archive: () => live,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
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
      }),
  };
}
