import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { closeDatabase } from '../src/index/postgres/index.js';
import { schemaOnServer, startPglite } from '../scripts/pglite.js';
import { tempDir } from './helpers.js';

/**
 * The Postgres servers the store's tests run against: PGlite (Postgres compiled to WebAssembly,
 * in the test's process) always, and a real PostgreSQL server with pgvector when TEST_DATABASE_URL
 * names one (`.ci/run` starts one with ../shared/tools/real-postgres). Each group of tests gets a
 * schema of its own on the real server, so test files running at once do not meet.
 */
export const SERVER_URL = process.env.TEST_DATABASE_URL || null;

/** The tool that makes throwaway real servers, for tests that stop one mid-run: REAL_POSTGRES, or beside the checkout. */
export const REAL_POSTGRES = [process.env.REAL_POSTGRES, join(import.meta.dirname, '..', '..', 'shared', 'tools', 'real-postgres')].find((p): p is string => !!p && existsSync(p)) ?? null;

export type DatabaseKind = 'pglite' | 'server';
export const DATABASE_KINDS: DatabaseKind[] = ['pglite', 'server'];

/** Why a kind's tests are skipped here, or null when they run. */
export function skipReason(kind: DatabaseKind): string | null {
  return kind === 'server' && !SERVER_URL ? 'no real PostgreSQL server: set TEST_DATABASE_URL (a database with pgvector; .ci/run starts one with ../shared/tools/real-postgres)' : null;
}

if (!SERVER_URL) console.warn(`skipped: the store's tests against a real server (${skipReason('server')})`);
if (!REAL_POSTGRES) console.warn('skipped: the outage tests against a real server of their own (no real-postgres tool: set REAL_POSTGRES or put ../shared/tools/real-postgres beside the checkout)');

let schemas = 0;

/** A database for one group of tests: PGlite behind its socket, or a fresh schema on the real server. */
export async function testDatabase(kind: DatabaseKind, options: { maxConnections?: number } = {}): Promise<{ url: string; stop: () => Promise<void> }> {
  if (kind === 'pglite') {
    const running = await startPglite({ maxConnections: options.maxConnections });
    return {
      url: running.url,
      async stop() {
        await closeDatabase(running.url);
        await running.stop();
      },
    };
  }
  if (!SERVER_URL) throw new Error(skipReason(kind)!);
  const own = await schemaOnServer(SERVER_URL, `test_${process.pid}_${++schemas}`);
  return {
    url: own.url,
    async stop() {
      await closeDatabase(own.url);
      await own.drop();
    },
  };
}

/**
 * A real server of the test's own (real-postgres, in a temporary folder), which the test may stop
 * and start again on the same port and data: for outages, which would break other tests' server.
 */
export function ownServer(): { url: string; stop(): void; start(): void; remove(): void } {
  if (!REAL_POSTGRES) throw new Error('no real-postgres tool: set REAL_POSTGRES or put ../shared/tools/real-postgres beside the checkout');
  const dir = join(tempDir('real-postgres-'), 'cluster');
  const run = (...args: string[]) => execFileSync(REAL_POSTGRES!, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  const url = run('start', dir);
  const port = new URL(url).port;
  return {
    url,
    stop: () => void run('stop', dir),
    start: () => void run('start', dir, port),
    remove() {
      try {
        run('stop', dir);
      } catch {
        // stopped already
      }
    },
  };
}
