import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

/**
 * Postgres in this process (PGlite: Postgres compiled to WebAssembly, from npm) with pgvector,
 * behind a socket that speaks the wire protocol, so the archive's `pg` driver talks
 * to it as to any server. PGlite runs one connection at a time: give the archive
 * `store.connections: 1`. More than one connection (`maxConnections`) shares one session, so two
 * transactions at once would mix: only for processes that read. For tests, `npm run eval` and
 * bench-scale; `npx tsx scripts/pglite.ts [data-folder]` starts one on its own.
 */
export async function startPglite(options: { dataDir?: string; port?: number; maxConnections?: number } = {}): Promise<{ url: string; db: PGlite; stop: () => Promise<void> }> {
  const db = await PGlite.create({ dataDir: options.dataDir, extensions: { vector } });
  const server = new PGLiteSocketServer({ db, port: options.port ?? 0, host: '127.0.0.1', maxConnections: options.maxConnections ?? 1 });
  await server.start();
  const address = (server as unknown as { server?: { address(): { port: number } } }).server?.address();
  if (!address) throw new Error('the PGlite socket server did not say its port');
  return {
    url: `postgres://postgres@127.0.0.1:${address.port}/postgres`,
    db,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

/**
 * A schema of its own on the server at `serverUrl` (tests and benchmarks that share one real server
 * do not meet): its URL, whose connections search it first (then public, where pgvector is), and a
 * drop that removes it with everything in it.
 */
export async function schemaOnServer(serverUrl: string, schema: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  await run(`CREATE SCHEMA ${schema}`);
  const url = new URL(serverUrl);
  url.searchParams.set('options', `-c search_path=${schema},public`);
  return { url: url.toString(), drop: () => run(`DROP SCHEMA ${schema} CASCADE`) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dataDir = process.argv[2];
  const running = await startPglite({ dataDir, port: Number(process.env.PORT ?? 5432) });
  console.log(running.url);
  console.error(`PGlite ${dataDir ? `(data in ${dataDir}) ` : '(in memory) '}is listening; set DATABASE_URL=${running.url} and store.connections to 1. Ctrl-C stops it.`);
  const stop = () => void running.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
