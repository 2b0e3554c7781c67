import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchive } from '../src/archive.js';
import { chunkDocument } from '../src/chunk/index.js';
import { loadConfig, type Config } from '../src/config.js';
import type { Embedder } from '../src/embed/index.js';
import { buildIndex, loadIndex, type ArchiveIndex } from '../src/index/index.js';
import { closeDatabase, openDatabase, schemaAdvice, SCHEMA_VERSION } from '../src/index/postgres/index.js';
import { readCorpus } from '../src/ingest/index.js';
import { lexicalTerms } from '../src/text/tokens.js';
import { runBatch } from '../src/cli/batch.js';
import { startServer } from '../src/serve/server.js';
import { startPglite } from '../scripts/pglite.js';
import { copyOfSeedIndex, copyOfSeeds, seedModel, tempDir } from './helpers.js';

/** A database for one group of tests: PGlite behind its socket, spoken to by the `pg` driver. */
async function database(): Promise<{ url: string; stop: () => Promise<void> }> {
  const running = await startPglite();
  return {
    url: running.url,
    async stop() {
      await closeDatabase(running.url);
      await running.stop();
    },
  };
}

/** A database for the tests of one describe block: started before them, stopped after. */
function databaseForBlock(): { readonly url: string } {
  let running: Awaited<ReturnType<typeof database>>;
  beforeAll(async () => {
    running = await database();
  });
  afterAll(async () => running.stop());
  return {
    get url() {
      return running.url;
    },
  };
}

const STORES = ['embedded', 'postgres'] as const;

/** One contract, both stores: what retrieval and the answer read must behave the same. */
describe.each(STORES)('the %s store', (kind) => {
  let db: Awaited<ReturnType<typeof database>> | null = null;
  let config: Config;
  let embedder: Embedder;
  let index: ArchiveIndex;

  beforeAll(async () => {
    embedder = await seedModel();
    if (kind === 'postgres') db = await database();
    config = loadConfig({ corpusDir: copyOfSeeds(), indexDir: join(tempDir(), 'index'), store: db ? { databaseUrl: db.url, connections: 1 } : {} });
    index = (await buildIndex(config, { embedder })).index;
  }, 120_000);
  afterAll(async () => db?.stop());

  it('holds every passage, and says which store and ranking it is', () => {
    const stats = index.store.stats();
    expect(stats.kind).toBe(kind);
    expect(stats.lexicalRanking).toBe(kind === 'postgres' ? 'pg_textsearch' : 'bm25');
    expect(stats.passages).toBe(index.chunks.length);
    expect(index.chunks.length).toBeGreaterThan(50);
    index.chunks.forEach((c, i) => expect(c.id).toBe(i)); // chunk ids are what both sides of the search return
  });

  it('finds a passage by its own vector first, best first, k at most', async () => {
    const target = index.chunks[17];
    const [vector] = await embedder.embed([target.text], 'passage');
    const hits = await index.store.dense(vector, 5, null);
    expect(hits).toHaveLength(5);
    expect(hits[0].chunk).toBe(17);
    expect(hits[0].score).toBeGreaterThan(0.99);
    for (let i = 1; i < hits.length; i++) expect(hits[i].score).toBeLessThanOrEqual(hits[i - 1].score + 1e-6);
  });

  it('ranks by BM25 only passages holding a query term, and keeps to the documents allowed', async () => {
    const hits = await index.store.lexical('Thornber senate', 10, null);
    expect(hits.length).toBeGreaterThan(0);
    for (const h of hits) expect(lexicalTerms(index.chunks[h.chunk].text).some((t) => t === 'thornber' || t === 'senat')).toBe(true);
    for (let i = 1; i < hits.length; i++) expect(hits[i].score).toBeLessThanOrEqual(hits[i - 1].score + 1e-6);
    const other = [...index.documents.keys()].find((id) => id !== index.chunks[hits[0].chunk].docId)!;
    const filtered = await index.store.lexical('council', 10, new Set([other]));
    expect(filtered.length).toBeGreaterThan(0);
    for (const h of filtered) expect(index.chunks[h.chunk].docId).toBe(other);
    const dense = await index.store.dense((await embedder.embed(['council'], 'query'))[0], 10, new Set([other]));
    expect(dense.length).toBeGreaterThan(0);
    for (const h of dense) expect(index.chunks[h.chunk].docId).toBe(other);
    expect(await index.store.lexical('the of and', 10, null)).toEqual([]);
  });

  it('finds the matching passages: BM25 at least a share of the best, among the documents allowed', async () => {
    const query = 'Solent devolution bid';
    const ranked = await index.store.lexical(query, index.chunks.length, null);
    const best = ranked[0].score;
    const expected = ranked.filter((h) => h.score >= 0.5 * best - 1e-9).map((h) => h.chunk).sort((a, b) => a - b);
    expect(expected.length).toBeGreaterThan(1);
    expect(expected.length).toBeLessThan(ranked.length); // the share leaves out weak matches
    expect(await index.store.matching(query, 0.5, null)).toEqual(expected);
    expect(await index.store.matching(query, 0, null)).toEqual(ranked.map((h) => h.chunk).sort((a, b) => a - b));
    const doc = index.chunks[ranked.at(-1)!.chunk].docId;
    const within = await index.store.matching(query, 0.5, new Set([doc]));
    expect(within.length).toBeGreaterThan(0);
    for (const c of within) expect(index.chunks[c].docId).toBe(doc);
    expect(await index.store.matching('the of and', 0.5, null)).toEqual([]);
  });

  it("scores the candidates as each side found them, and 0 where a passage lacks the query's terms", async () => {
    const query = 'Hampshire Senate';
    const [vector] = await embedder.embed([query], 'query');
    const [dense, lexical] = [await index.store.dense(vector, 10, null), await index.store.lexical(query, 10, null)];
    const without = index.chunks.find((c) => !/hampshire|senate/i.test(c.text))!;
    const chunks = [...dense.map((d) => d.chunk), ...lexical.map((d) => d.chunk), without.id];
    const scores = await index.store.scores(chunks, query, vector);
    dense.forEach((d, i) => expect(scores.dense[i]).toBeCloseTo(d.score, 4));
    lexical.forEach((d, i) => expect(scores.bm25[dense.length + i]).toBeCloseTo(d.score, 4));
    expect(scores.bm25.at(-1)).toBe(0);
    // A passage's neighbours are in its context: a passage holding a term has it in context too.
    lexical.forEach((_, i) => expect(scores.context[dense.length + i]).toBeGreaterThan(0));
  });

  it('weighs rare words above common ones', () => {
    expect(index.store.idf('thornber')).toBeGreaterThan(index.store.idf('council'));
    expect(index.store.idf('zzzunknown')).toBeGreaterThan(index.store.idf('thornber'));
  });

  it('updates in place: embeds only added and changed documents, and forgets removed ones', async () => {
    const before = index.manifest.counts.chunks;
    const corpus = config.corpusDir;
    writeFileSync(join(corpus, 'added.txt'), 'Glimmerfin Report\n\nThe glimmerfin survey of the estuary counted four hundred birds in March 2020.\n');
    appendFileSync(join(corpus, '000_2f8a857afa737480.txt'), '\n\nA late note: the zantheum archive was opened to researchers.\n');
    const removed = readCorpus(corpus).then((c) => c.documents.find((d) => d.source === '003_b19f9eb657466ce4.txt')!);
    const removedDoc = await removed;
    rmSync(join(corpus, '003_b19f9eb657466ce4.txt'));
    const report = await buildIndex(config, { embedder, previous: index });
    const docs = (await readCorpus(corpus)).documents;
    const changed = docs.filter((d) => d.source === 'added.txt' || d.source === '000_2f8a857afa737480.txt');
    expect(report.fullRebuild).toBeNull();
    expect(report.embedded).toBe(changed.reduce((n, d) => n + chunkDocument(d, config.chunking).length, 0));
    expect(report.changes).toMatchObject({ added: ['added.txt'], changed: ['000_2f8a857afa737480.txt'], removed: ['003_b19f9eb657466ce4.txt'] });
    index = report.index;
    expect(index.store.stats().passages).toBe(docs.reduce((n, d) => n + chunkDocument(d, config.chunking).length, 0));
    expect(index.manifest.counts.chunks).not.toBe(before);
    const found = async (q: string) => (await index.store.lexical(q, 5, null)).map((h) => index.chunks[h.chunk].docId);
    expect(await found('glimmerfin')).toEqual([docs.find((d) => d.source === 'added.txt')!.id]);
    expect(await found('zantheum')).toEqual([docs.find((d) => d.source === '000_2f8a857afa737480.txt')!.id]);
    const onlyInRemoved = lexicalTerms(removedDoc.text).find((t) => docs.every((d) => !lexicalTerms(d.text).includes(t)))!;
    expect(await found(onlyInRemoved)).toEqual([]);
    // What was loaded again from the store is what the update returned.
    const reloaded = await loadIndex(config);
    expect(reloaded.chunks.map((c) => [c.docId, c.start, c.end])).toEqual(index.chunks.map((c) => [c.docId, c.start, c.end]));
  }, 120_000);
});

describe('both stores', () => {
  const db = databaseForBlock();

  it('answer the seed questions with the same passages', async () => {
    const embedder = await seedModel();
    const corpusDir = copyOfSeeds();
    const configs = [loadConfig({ corpusDir, indexDir: join(tempDir(), 'index') }), loadConfig({ corpusDir, indexDir: join(tempDir(), 'index'), store: { databaseUrl: db.url, connections: 1 } })];
    for (const config of configs) await buildIndex(config, { embedder });
    const [embedded, postgres] = await Promise.all(configs.map((c) => openArchive(c, embedder)));
    const questions = ['Why did the 2016 bid fail?', 'Who started the Hampshire Senate?', 'How long does the rail journey from Waterloo take?', 'What did councils say about a directly elected mayor?', 'Which government minister was Roy Perry about to meet?'];
    for (const q of questions) {
      const [a, b] = [await embedded.search(q, { k: 10 }), await postgres.search(q, { k: 10 })];
      // pg_textsearch's BM25 differs from ours by up to about 2%: the order may swap low down, not at the top.
      const [ours, theirs] = [a.results.map((r) => `${r.docId}:${r.start}`), b.results.map((r) => `${r.docId}:${r.start}`)];
      expect(theirs.slice(0, 5)).toEqual(ours.slice(0, 5));
      expect(theirs.filter((p) => ours.includes(p)).length).toBeGreaterThanOrEqual(8);
      expect(b.answer?.text ?? null).toBe(a.answer?.text ?? null);
    }
  }, 120_000);
});

describe('the postgres store', () => {
  const db = databaseForBlock();

  it('migrates a new database once, and leaves one at its version as it is', async () => {
    const config = loadConfig({ store: { databaseUrl: db.url, connections: 1 } });
    await openDatabase(config);
    await closeDatabase(db.url);
    await openDatabase(config); // a second process, as far as the schema can tell
    const pool = await openDatabase(config);
    const { rows } = await pool.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    const tables = (await pool.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).rows.map((r) => r.tablename);
    expect(tables).toEqual(['archive_meta', 'documents', 'lexicon', 'model_files', 'passages', 'schema_migrations']);
  });

  it('answers 503 store_unavailable (search, health, batch lines) while the database is down, and serves again once it is back', async () => {
    const embedder = await seedModel();
    // PGlite keeping its data in a folder, so it can be stopped and started again on the same port.
    const dataDir = join(tempDir(), 'pgdata');
    let database = await startPglite({ dataDir });
    const port = Number(new URL(database.url).port);
    const config = loadConfig({ corpusDir: copyOfSeeds(), indexDir: join(tempDir(), 'index'), store: { databaseUrl: database.url, connections: 1 } });
    await buildIndex(config, { embedder });
    const server = await startServer(await openArchive(config, embedder), () => {});
    const base = `http://127.0.0.1:${server.port}`;
    try {
      expect((await fetch(`${base}/api/search?q=Solent`)).status).toBe(200);
      await database.stop();
      const down = await fetch(`${base}/api/search?q=Solent`);
      expect(down.status).toBe(503);
      expect((await down.json()).error).toEqual({ code: 'store_unavailable', message: expect.stringContaining(`The database at 127.0.0.1:${port} cannot be reached`) });
      const health = await fetch(`${base}/api/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: 'unavailable', store: { kind: 'postgres' }, message: expect.stringContaining(`127.0.0.1:${port}`) });
      // batch writes the error on each line and goes on.
      const input = join(tempDir(), 'queries.jsonl');
      writeFileSync(input, 'Solent\nHeart of Wessex\n');
      const lines: string[] = [];
      const { errors } = await runBatch(server.archive(), { input, k: 2 }, (text) => lines.push(text), () => {});
      expect(errors).toBe(2);
      expect(lines.map((l) => JSON.parse(l).error.code)).toEqual(['store_unavailable', 'store_unavailable']);

      database = await startPglite({ dataDir, port });
      // The pool reconnects by itself: the first query may still find a connection the old server dropped.
      let status = 0;
      for (let attempt = 0; attempt < 20 && status !== 200; attempt++) status = (await fetch(`${base}/api/search?q=Solent`)).status;
      expect(status).toBe(200);
      expect((await fetch(`${base}/api/health`)).status).toBe(200);
    } finally {
      await server.close();
      await closeDatabase(database.url);
      await database.stop().catch(() => {}); // stopped already when the test failed while it was down
    }
  }, 120_000);

  it('says what to do when the schema needs pgvector: a superuser to create it, or the server to have it', () => {
    const url = 'postgres://archive:secret@db.example:5432/archive';
    expect(schemaAdvice({ code: '42501', message: 'permission denied to create extension "vector"' }, url)).toMatch(/ask a superuser to run CREATE EXTENSION vector; in database "archive"/);
    expect(schemaAdvice({ code: '0A000', message: 'extension "vector" is not available' }, url)).toMatch(/The server does not have pgvector: install it there/);
    expect(schemaAdvice({ code: '42P07', message: 'relation "documents" already exists' }, url)).toBe('');
  });

  it('says which database it could not reach, without its password', async () => {
    const config = loadConfig({ store: { databaseUrl: 'postgres://archive:secret@127.0.0.1:1/archive' } });
    await expect(loadIndex(config)).rejects.toThrowError(/Could not connect to the database at postgres:\/\/archive:\*\*\*@127\.0\.0\.1:1\/archive: .*Check store\.databaseUrl \(or DATABASE_URL\)/);
  });

  it('leaves only whole documents when a build dies, and the next build carries on from them', async () => {
    const embedder = await seedModel();
    const config = loadConfig({ corpusDir: copyOfSeeds(), indexDir: join(tempDir(), 'index'), store: { databaseUrl: db.url, connections: 1 } });
    // Enough passages for two transactions; the model fails in the second.
    for (let n = 0; n < 14; n++) writeFileSync(join(config.corpusDir, `copy-${n}.txt`), readFileSync(join(config.corpusDir, '001_004c609643dbb3e3.txt'), 'utf8').replace(/Hampshire/g, `Hampshire${n}`));
    const dying = (_: string, done: number) => {
      if (done > 600) throw new Error('killed mid-build');
    };
    await expect(buildIndex(config, { embedder, onProgress: dying })).rejects.toThrowError(/killed mid-build/);
    await expect(loadIndex(config)).rejects.toThrowError(/build that did not finish.*npm run build-index/);
    const pool = await openDatabase(config);
    const { rows } = await pool.query<{ id: string; passages: number }>('SELECT d.id, count(p.id)::int AS passages FROM documents d LEFT JOIN passages p ON p.document_id = d.id GROUP BY d.id');
    const documents = new Map((await readCorpus(config.corpusDir)).documents.map((d) => [d.id, d]));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(documents.size);
    for (const r of rows) expect(r.passages).toBe(chunkDocument(documents.get(r.id)!, config.chunking).length);
    const written = rows.reduce((n, r) => n + r.passages, 0);
    const report = await buildIndex(config, { embedder });
    const total = [...documents.values()].reduce((n, d) => n + chunkDocument(d, config.chunking).length, 0);
    expect(report.embedded).toBe(total - written);
    expect((await loadIndex(config)).store.stats().passages).toBe(total);
  }, 120_000);

  it('ranks by Postgres full-text ranking when told to (or when the server has no pg_textsearch), and says so', async () => {
    const embedder = await seedModel();
    const fresh = await database();
    try {
      const config = loadConfig({ corpusDir: copyOfSeeds(), indexDir: join(tempDir(), 'index'), store: { databaseUrl: fresh.url, connections: 1, lexical: 'fulltext' } });
      const messages: string[] = [];
      const { index } = await buildIndex(config, { embedder, log: (m) => messages.push(m) });
      expect(messages.join('\n')).toMatch(/no pg_textsearch extension \(or store.lexical "fulltext"\), by Postgres full-text ranking \(ts_rank\), not BM25/);
      expect(index.store.stats().lexicalRanking).toBe('ts_rank');
      const hits = await index.store.lexical('Thornber', 5, null);
      expect(hits.length).toBeGreaterThan(0);
      for (const h of hits) expect(index.chunks[h.chunk].text).toMatch(/Thornber/);
    } finally {
      await fresh.stop();
    }
  }, 120_000);
});

describe('npm start on a database', () => {
  const servers: ChildProcess[] = [];
  let db: Awaited<ReturnType<typeof startPglite>>;
  beforeAll(async () => {
    // Two connections share PGlite's one session: fine for servers that only read, once the first has built.
    db = await startPglite({ maxConnections: 2 });
  });
  afterAll(async () => {
    for (const s of servers) s.kill('SIGTERM');
    await Promise.all(servers.map((s) => new Promise((resolve) => (s.exitCode !== null ? resolve(null) : s.once('exit', resolve)))));
    await db.stop();
  });

  /** `npm start` on its own index folder (as on its own machine) and the shared database; its base URL once it serves. */
  async function start(indexDir: string, corpusDir: string): Promise<{ base: string; log: () => string }> {
    const configFile = join(tempDir(), 'archive.config.json');
    writeFileSync(configFile, JSON.stringify({ store: { connections: 1 } }));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', '--workers', '1', '--corpus', corpusDir, '--index', indexDir, '--port', '0'], {
      cwd: join(import.meta.dirname, '..'),
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DATABASE_URL: db.url, ARCHIVE_CONFIG: configFile },
    });
    servers.push(child);
    let log = '';
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk));
    const started = Date.now();
    for (;;) {
      const port = log.match(/on http:\/\/127\.0\.0\.1:(\d+)/)?.[1];
      if (port) return { base: `http://127.0.0.1:${port}`, log: () => log };
      if (child.exitCode !== null || Date.now() - started > 90_000) throw new Error(`the server did not start: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('builds the database once, and a second server with an empty index folder serves it too', async () => {
    const corpusDir = copyOfSeeds();
    const first = await start(copyOfSeedIndex(), corpusDir);
    expect(first.log()).toMatch(/Embedded all 90 passages/);
    expect(first.log()).toMatch(/Passages are kept in postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres, ranked by pgvector's HNSW and pg_textsearch's BM25/);
    const emptyFolder = join(tempDir(), 'index');
    const second = await start(emptyFolder, corpusDir);
    // It found the archive up to date in the database and fetched the archive's model from it: no build, no training.
    expect(second.log()).not.toMatch(/Embedded|Training|Rebuilding/);
    expect(existsSync(join(emptyFolder, 'models'))).toBe(true);
    const query = `/api/search?q=${encodeURIComponent('why did the 2016 bid fail')}&k=5`;
    const [a, b] = await Promise.all([first, second].map(async (s) => (await fetch(`${s.base}${query}`)).json()));
    expect(a.results).toHaveLength(5);
    expect(b.results.map((r: { docId: string; start: number }) => [r.docId, r.start])).toEqual(a.results.map((r: { docId: string; start: number }) => [r.docId, r.start]));
    expect(b.answer).toEqual(a.answer);
    const health = await (await fetch(`${second.base}/api/health`)).json();
    expect(health.store).toEqual({ kind: 'postgres', lexicalRanking: 'pg_textsearch', passages: 90 });
  }, 180_000);
});
