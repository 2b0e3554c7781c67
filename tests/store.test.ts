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
import type { SearchSides } from '../src/index/store.js';
import { contextTexts } from '../src/index/plan.js';
import { readCorpus } from '../src/ingest/index.js';
import { lexicalTerms } from '../src/text/tokens.js';
import { runBatch } from '../src/cli/batch.js';
import { startServer } from '../src/serve/server.js';
import { startPglite } from '../scripts/pglite.js';
import { copyOfSeedIndex, copyOfSeeds, seedModel, tempDir } from './helpers.js';
import { DATABASE_KINDS, ownServer, REAL_POSTGRES, skipReason, testDatabase, type DatabaseKind } from './databases.js';

/** A database for the tests of one describe block: started before them, stopped after. */
function databaseForBlock(kind: DatabaseKind = 'pglite'): { readonly url: string } {
  let running: Awaited<ReturnType<typeof testDatabase>>;
  beforeAll(async () => {
    running = await testDatabase(kind);
  });
  afterAll(async () => running?.stop());
  return {
    get url() {
      return running.url;
    },
  };
}

const DENSE: SearchSides = { dense: true, bm25: false, context: false };
const LEXICAL: SearchSides = { dense: false, bm25: true, context: false };
const ALL: SearchSides = { dense: true, bm25: true, context: true };

const STORES = ['embedded', ...DATABASE_KINDS] as const;

/** One contract, every store: what retrieval and the answer read must behave the same. */
describe.each(STORES)('the %s store', (kind) => {
  const skip = kind === 'embedded' ? null : skipReason(kind);
  let db: Awaited<ReturnType<typeof testDatabase>> | null = null;
  let config: Config;
  let embedder: Embedder;
  let index: ArchiveIndex;
  const none = () => new Float32Array(embedder.info.dim);
  const lexical = async (text: string, k: number, allowed: ReadonlySet<string> | null = null) => {
    const found = await index.store.candidates({ text, vector: none() }, k, allowed, LEXICAL);
    return found.chunks.map((chunk, i) => ({ chunk, score: found.bm25[i] }));
  };

  describe.skipIf(skip)(skip ?? 'contract', () => {
    beforeAll(async () => {
      embedder = await seedModel();
      if (kind !== 'embedded') db = await testDatabase(kind);
      config = loadConfig({ corpusDir: copyOfSeeds(), indexDir: join(tempDir(), 'index'), store: db ? { databaseUrl: db.url, connections: 1 } : {} });
      index = (await buildIndex(config, { embedder })).index;
    }, 120_000);
    afterAll(async () => db?.stop());

    it('holds every passage, and says which store it is', () => {
      const stats = index.store.stats();
      expect(stats.kind).toBe(kind === 'embedded' ? 'embedded' : 'postgres');
      expect(stats.passages).toBe(index.chunks.length);
      expect(index.chunks.length).toBeGreaterThan(50);
      index.chunks.forEach((c, i) => expect(c.id).toBe(i)); // chunk ids are what both sides of the search return
    });

    it('finds a passage by its own vector first, best first, k at most, and asks no side it was not told to', async () => {
      const target = index.chunks[17];
      const [vector] = await embedder.embed([target.text], 'passage');
      const hits = await index.store.candidates({ text: target.text, vector }, 5, null, DENSE);
      expect(hits.chunks).toHaveLength(5);
      expect(hits.chunks[0]).toBe(17);
      expect(hits.dense[0]).toBeGreaterThan(0.99);
      for (let i = 1; i < 5; i++) expect(hits.dense[i]).toBeLessThanOrEqual(hits.dense[i - 1] + 1e-6);
      // The passage's own words would score: BM25 was not asked.
      expect([...hits.bm25, ...hits.context]).toEqual(new Array(10).fill(0));
      const words = await index.store.candidates({ text: target.text, vector }, 5, null, LEXICAL);
      expect(words.dense).toEqual(new Array(words.chunks.length).fill(0));
      expect(words.bm25[0]).toBeGreaterThan(0);
    });

    it('ranks by BM25 only passages holding a query term, and keeps to the documents allowed', async () => {
      const hits = await lexical('Thornber senate', 10);
      expect(hits.length).toBeGreaterThan(0);
      for (const h of hits) expect(lexicalTerms(index.chunks[h.chunk].text).some((t) => t === 'thornber' || t === 'senat')).toBe(true);
      for (let i = 1; i < hits.length; i++) expect(hits[i].score).toBeLessThanOrEqual(hits[i - 1].score + 1e-6);
      const other = [...index.documents.keys()].find((id) => id !== index.chunks[hits[0].chunk].docId)!;
      const filtered = await lexical('council', 10, new Set([other]));
      expect(filtered.length).toBeGreaterThan(0);
      for (const h of filtered) expect(index.chunks[h.chunk].docId).toBe(other);
      const dense = await index.store.candidates({ text: 'council', vector: (await embedder.embed(['council'], 'query'))[0] }, 10, new Set([other]), ALL);
      expect(dense.chunks.length).toBeGreaterThan(0);
      for (const c of dense.chunks) expect(index.chunks[c].docId).toBe(other);
      expect(await lexical('the of and', 10)).toEqual([]);
    });

    it('finds the matching passages: BM25 at least a share of the best, among the documents allowed', async () => {
      const query = 'Solent devolution bid';
      const ranked = await lexical(query, index.chunks.length);
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

    it("gives the union of both sides' candidates, each scored by every side, and 0 where a passage lacks the query's terms", async () => {
      const query = 'Hampshire Senate';
      // The vector of another question: the dense side then finds passages without the query's words.
      const [vector] = await embedder.embed(['How long does the rail journey from Waterloo take?'], 'query');
      const [dense, words, all] = [await index.store.candidates({ text: query, vector }, 10, null, DENSE), await index.store.candidates({ text: query, vector }, 10, null, LEXICAL), await index.store.candidates({ text: query, vector }, 10, null, ALL)];
      const others = words.chunks.filter((c) => !dense.chunks.includes(c));
      expect(others.length).toBeGreaterThan(0);
      expect(all.chunks).toEqual([...dense.chunks, ...others]);
      dense.chunks.forEach((c, i) => expect(all.dense[all.chunks.indexOf(c)]).toBeCloseTo(dense.dense[i], 5));
      words.chunks.forEach((c, i) => expect(all.bm25[all.chunks.indexOf(c)]).toBeCloseTo(words.bm25[i], 9));
      const without = dense.chunks.filter((c) => !/hampshire|senate/i.test(index.chunks[c].text));
      expect(without.length).toBeGreaterThan(0);
      for (const c of without) expect(all.bm25[all.chunks.indexOf(c)]).toBe(0);
      // A passage's neighbours are in its context: a passage holding a term has it in context too.
      for (const c of words.chunks) expect(all.context[all.chunks.indexOf(c)]).toBeGreaterThan(0);
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
      const removedDoc = (await readCorpus(corpus)).documents.find((d) => d.source === '003_b19f9eb657466ce4.txt')!;
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
      const found = async (q: string) => (await lexical(q, 5)).map((h) => index.chunks[h.chunk].docId);
      expect(await found('glimmerfin')).toEqual([docs.find((d) => d.source === 'added.txt')!.id]);
      expect(await found('zantheum')).toEqual([docs.find((d) => d.source === '000_2f8a857afa737480.txt')!.id]);
      const onlyInRemoved = lexicalTerms(removedDoc.text).find((t) => docs.every((d) => !lexicalTerms(d.text).includes(t)))!;
      expect(await found(onlyInRemoved)).toEqual([]);
      // What was loaded again from the store is what the update returned.
      const reloaded = await loadIndex(config);
      expect(reloaded.chunks.map((c) => [c.docId, c.start, c.end])).toEqual(index.chunks.map((c) => [c.docId, c.start, c.end]));
    }, 120_000);
  });
});

describe.each(DATABASE_KINDS)('the embedded store and Postgres (%s)', (kind) => {
  const skip = skipReason(kind);
  describe.skipIf(skip)(skip ?? 'agree', () => {
    const db = databaseForBlock(kind);
    let embedded: ArchiveIndex;
    let postgres: ArchiveIndex;
    let embedder: Embedder;
    let configs: Config[];
    beforeAll(async () => {
      embedder = await seedModel();
      const corpusDir = copyOfSeeds();
      configs = [loadConfig({ corpusDir, indexDir: join(tempDir(), 'index') }), loadConfig({ corpusDir, indexDir: join(tempDir(), 'index'), store: { databaseUrl: db.url, connections: 1 } })];
      [embedded, postgres] = [(await buildIndex(configs[0], { embedder })).index, (await buildIndex(configs[1], { embedder })).index];
    }, 120_000);

    const questions = ['Why did the 2016 bid fail?', 'Who started the Hampshire Senate?', 'How long does the rail journey from Waterloo take?', 'What did councils say about a directly elected mayor?', 'Which government minister was Roy Perry about to meet?', 'Solent Solent combined authority'];

    it('score every candidate alike, on every side: BM25 from postings is the embedded index\'s BM25', async () => {
      const key = (index: ArchiveIndex, c: number) => `${index.chunks[c].docId}:${index.chunks[c].start}`;
      for (const text of questions) {
        const [vector] = await embedder.embed([text], 'query');
        const [a, b] = [await embedded.store.candidates({ text, vector }, 30, null, ALL), await postgres.store.candidates({ text, vector }, 30, null, ALL)];
        expect(b.chunks.map((c) => key(postgres, c))).toEqual(a.chunks.map((c) => key(embedded, c)));
        b.chunks.forEach((_, i) => {
          expect(b.dense[i]).toBeCloseTo(a.dense[i], 5);
          expect(Math.abs(b.bm25[i] - a.bm25[i])).toBeLessThan(1e-9);
          expect(Math.abs(b.context[i] - a.context[i])).toBeLessThan(1e-9);
        });
        expect(await postgres.store.matching(text, 0.5, null).then((m) => m.map((c) => key(postgres, c)))).toEqual(await embedded.store.matching(text, 0.5, null).then((m) => m.map((c) => key(embedded, c))));
      }
      for (const term of ['thornber', 'council', 'solent', 'zzzunknown']) expect(postgres.store.idf(term)).toBe(embedded.store.idf(term));
    });

    it('answer the seed questions with the same passages and the same answer', async () => {
      const [a, b] = await Promise.all(configs.map((config) => openArchive(config, embedder)));
      for (const q of questions) {
        const [x, y] = [await a.search(q, { k: 10 }), await b.search(q, { k: 10 })];
        expect(y.results.map((r) => `${r.docId}:${r.start}`)).toEqual(x.results.map((r) => `${r.docId}:${r.start}`));
        expect(y.answer?.text ?? null).toBe(x.answer?.text ?? null);
      }
    }, 120_000);
  });
});

/** A server the test may stop and start again on the same port and data: PGlite keeping its data in a folder, or a real server of its own. */
interface StoppableServer {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  remove(): Promise<void>;
}

async function stoppable(kind: DatabaseKind): Promise<StoppableServer> {
  if (kind === 'server') {
    const own = ownServer();
    return { url: own.url, stop: async () => own.stop(), start: async () => own.start(), remove: async () => own.remove() };
  }
  const dataDir = join(tempDir(), 'pgdata');
  let database: Awaited<ReturnType<typeof startPglite>> | null = await startPglite({ dataDir });
  const url = database.url;
  return {
    url,
    async stop() {
      await database?.stop();
      database = null;
    },
    async start() {
      database = await startPglite({ dataDir, port: Number(new URL(url).port) });
    },
    async remove() {
      await closeDatabase(url);
      await database?.stop();
    },
  };
}

/** Outages: PGlite always; a real server of the test's own where the real-postgres tool is at hand. */
describe.each(DATABASE_KINDS)('a database that goes away (%s)', (kind) => {
  const skip = kind === 'server' && !REAL_POSTGRES ? 'no real-postgres tool: set REAL_POSTGRES or put ../shared/tools/real-postgres beside the checkout' : null;
  describe.skipIf(skip)(skip ?? 'and comes back', () => {
    it('answers 503 store_unavailable (search, health, batch lines) while the database is down, and serves again once it is back', async () => {
      const embedder = await seedModel();
      const database = await stoppable(kind);
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

        await database.start();
        // The pool reconnects by itself: the first query may still find a connection the old server dropped.
        let status = 0;
        for (let attempt = 0; attempt < 20 && status !== 200; attempt++) status = (await fetch(`${base}/api/search?q=Solent`)).status;
        expect(status).toBe(200);
        expect((await fetch(`${base}/api/health`)).status).toBe(200);
      } finally {
        await server.close();
        await database.remove();
      }
    }, 120_000);

    it('leaves the previous index live when a build dies or loses the database midway, and the next build finishes', async () => {
      const embedder = await seedModel();
      const database = await stoppable(kind);
      try {
        const config = loadConfig({ corpusDir: copyOfSeeds(), indexDir: join(tempDir(), 'index'), store: { databaseUrl: database.url, connections: 1 } });
        const first = await buildIndex(config, { embedder });
        const passages = first.index.chunks.length;
        const answer = async () => (await openArchive(config, embedder)).search('Who started the Hampshire Senate?', { k: 3 });
        const before = await answer();
        // Enough passages for several batches: the build dies in the second.
        for (let n = 0; n < 14; n++) writeFileSync(join(config.corpusDir, `copy-${n}.txt`), readFileSync(join(config.corpusDir, '001_004c609643dbb3e3.txt'), 'utf8').replace(/Hampshire/g, `Hampshire${n}`));
        rmSync(join(config.corpusDir, '003_b19f9eb657466ce4.txt'));
        const dying = (_: string, done: number) => {
          if (done > 600) throw new Error('killed mid-build');
        };
        await expect(buildIndex(config, { embedder, onProgress: dying })).rejects.toThrowError(/killed mid-build/);
        expect((await loadIndex(config)).chunks.length).toBe(passages);
        expect((await answer()).results).toEqual(before.results);

        let stopping: Promise<void> | null = null;
        const losing = (_: string, done: number) => {
          if (done > 600 && !stopping) stopping = database.stop();
        };
        await expect(buildIndex(config, { embedder, onProgress: losing })).rejects.toThrowError(/cannot be reached .*the build stopped and the previous index stays as it was/);
        await stopping;
        await database.start();
        await closeDatabase(database.url);
        const reloaded = await loadIndex(config);
        expect(reloaded.chunks.length).toBe(passages);
        expect(reloaded.documents.has(first.index.chunks.find((c) => first.index.documents.get(c.docId)!.source === '003_b19f9eb657466ce4.txt')!.docId)).toBe(true);
        expect((await answer()).results).toEqual(before.results);

        const report = await buildIndex(config, { embedder });
        const documents = (await readCorpus(config.corpusDir)).documents;
        expect(report.index.chunks.length).toBe(documents.reduce((n, d) => n + chunkDocument(d, config.chunking).length, 0));
        expect((await loadIndex(config)).store.stats().passages).toBe(report.index.chunks.length);
      } finally {
        await database.remove();
      }
    }, 180_000);
  });
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
    const tables = (await pool.query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")).rows.map((r) => r.tablename);
    expect(tables).toEqual(['archive_meta', 'documents', 'lexical_terms', 'model_files', 'passages', 'postings', 'schema_migrations']);
  });

  it('migrates a version 2 database (terms columns) to postings equal to those a build writes', async () => {
    const embedder = await seedModel();
    const config = loadConfig({ corpusDir: copyOfSeeds(), indexDir: join(tempDir(), 'index'), store: { databaseUrl: db.url, connections: 1 } });
    const { index } = await buildIndex(config, { embedder });
    let pool = await openDatabase(config);
    const snapshot = async () => ({
      postings: (await pool.query("SELECT p.field, t.term, x.position, x.document_id, p.tf, p.length FROM postings p JOIN lexical_terms t ON t.id = p.term_id JOIN passages x ON x.id = p.passage ORDER BY 1, 2, 4, 3")).rows,
      terms: (await pool.query('SELECT term, passages, contexts FROM lexical_terms ORDER BY term')).rows,
      lengths: (await pool.query('SELECT document_id, position, terms_length, context_length FROM passages ORDER BY 1, 2')).rows,
    });
    const built = await snapshot();
    const [vector] = await embedder.embed(['Solent'], 'query');
    const found = await index.store.candidates({ text: 'Solent', vector }, 10, null, ALL);
    expect(built.lengths.some((r) => r.context_length > 200)).toBe(true); // lengths past 32 are stored in four significant bits
    // Back to version 2's shape: the passages' terms as text columns and a lexicon of passage counts.
    const rowOf = new Map((await pool.query<{ id: number; document_id: string; position: number }>('SELECT id, document_id, position FROM passages')).rows.map((r) => [`${r.document_id}:${r.position}`, r.id]));
    const position = (c: (typeof index.chunks)[number]) => index.chunks.filter((o) => o.docId === c.docId && o.id < c.id).length;
    const contexts = contextTexts(index.chunks, index.documents, null);
    await pool.query('ALTER TABLE passages ADD COLUMN terms text, ADD COLUMN context_terms text');
    await pool.query('UPDATE passages p SET terms = u.t, context_terms = u.c FROM unnest($1::int[], $2::text[], $3::text[]) AS u(id, t, c) WHERE p.id = u.id', [
      index.chunks.map((c) => rowOf.get(`${c.docId}:${position(c)}`)),
      index.chunks.map((c) => lexicalTerms(c.text).join(' ')),
      contexts.map((t) => lexicalTerms(t).join(' ')),
    ]);
    await pool.query('DROP TABLE postings; DROP TABLE lexical_terms; CREATE TABLE lexicon (term text PRIMARY KEY, passages integer NOT NULL)');
    await pool.query('ALTER TABLE passages DROP COLUMN terms_length, DROP COLUMN context_length; DELETE FROM schema_migrations WHERE version = 3');
    await closeDatabase(db.url);
    pool = await openDatabase(config);
    expect(await snapshot()).toEqual(built);
    expect(await (await loadIndex(config)).store.candidates({ text: 'Solent', vector }, 10, null, ALL)).toEqual(found);
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
});

describe.each(DATABASE_KINDS)('npm start on a database (%s)', (kind) => {
  const skip = skipReason(kind);
  // PGlite runs one session: one worker per server, one connection each. A real server takes two workers each.
  const workers = kind === 'server' ? 2 : 1;
  describe.skipIf(skip)(skip ?? `${workers} worker(s) per server`, () => {
    const servers: ChildProcess[] = [];
    let db: Awaited<ReturnType<typeof testDatabase>>;
    beforeAll(async () => {
      // Two connections share PGlite's one session: fine for servers that only read, once the first has built.
      db = await testDatabase(kind, { maxConnections: 2 });
    });
    afterAll(async () => {
      for (const s of servers) s.kill('SIGTERM');
      await Promise.all(servers.map((s) => new Promise((resolve) => (s.exitCode !== null ? resolve(null) : s.once('exit', resolve)))));
      await db?.stop();
    });

    /** `npm start` on its own index folder (as on its own machine) and the shared database; its base URL once it serves. */
    async function start(indexDir: string, corpusDir: string): Promise<{ base: string; log: () => string }> {
      const configFile = join(tempDir(), 'archive.config.json');
      writeFileSync(configFile, JSON.stringify({ store: { connections: kind === 'server' ? 4 : 1 } }));
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', '--workers', String(workers), '--corpus', corpusDir, '--index', indexDir, '--port', '0'], {
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
      const database = new URL(db.url);
      expect(first.log()).toContain(`Passages are kept in postgres://${database.username}${database.password ? ':***' : ''}@127.0.0.1:${database.port}${database.pathname}, ranked by pgvector's HNSW and BM25 scored from the database's postings`);
      const emptyFolder = join(tempDir(), 'index');
      const second = await start(emptyFolder, corpusDir);
      // It found the archive up to date in the database and fetched the archive's model from it: no build, no training.
      expect(second.log()).not.toMatch(/Embedded|Training|Rebuilding/);
      expect(second.log()).toContain(`passages in postgres://${database.username}${database.password ? ':***' : ''}@127.0.0.1:${database.port}${database.pathname}) from ${workers === 1 ? 'this process' : `${workers} worker processes`} on http://`);
      expect(existsSync(join(emptyFolder, 'models'))).toBe(true);
      const query = `/api/search?q=${encodeURIComponent('why did the 2016 bid fail')}&k=5`;
      // Several requests each, so that every worker of each server answers some.
      const answers = await Promise.all([first, second].flatMap((s) => Array.from({ length: 2 * workers }, async () => (await fetch(`${s.base}${query}`)).json())));
      expect(answers[0].results).toHaveLength(5);
      for (const b of answers.slice(1)) {
        expect(b.results.map((r: { docId: string; start: number }) => [r.docId, r.start])).toEqual(answers[0].results.map((r: { docId: string; start: number }) => [r.docId, r.start]));
        expect(b.answer).toEqual(answers[0].answer);
      }
      const health = await (await fetch(`${second.base}/api/health`)).json();
      expect(health.store).toEqual({ kind: 'postgres', passages: 90 });
    }, 180_000);
  });
});
