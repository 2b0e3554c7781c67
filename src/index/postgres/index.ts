import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type pg from 'pg';
import { chunkDocument } from '../../chunk/index.js';
import { UserError, type Config } from '../../config.js';
import { groupBy } from '../../group.js';
import { bySource } from '../../ingest/index.js';
import { lexicalTerms } from '../../text/tokens.js';
import type { Chunk, SourceDocument } from '../../types.js';
import { StoredChunk } from '../artifacts.js';
import type { ArchiveIndex, BuildOptions, BuildReport } from '../types.js';
import { fileChanges, FORMAT_VERSION, IndexDamagedError, ManifestSchema, manifestId, type Manifest, type ManifestInputs } from '../manifest.js';
import { removeUnusedModels, type ModelRecord } from '../model.js';
import { assembleIndex, contextTexts, formatsOf, passageText, readBuildInputs } from '../plan.js';
import { EF_CONSTRUCTION, M } from '../vectorStore.js';
import { describeUrl, openDatabase, transaction } from './database.js';
import { INDEX_NAMES, PostgresStore, vectorLiteral, type DatabaseRanking } from './store.js';

export { PostgresStore } from './store.js';
export { closeDatabase, describeUrl, openDatabase, schemaAdvice, SCHEMA_VERSION } from './database.js';


/** A value for a jsonb column (null when absent). */
const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));

/** Passages embedded and written per transaction: a crash loses at most one batch, never part of a document. */
const BATCH_PASSAGES = 512;
/** Model files are stored in parts of this size (a bytea value is sent whole). */
const MODEL_PART_BYTES = 8 * 1024 * 1024;

/** What the search indexes were made for; a build that wants others drops and recreates them. */
interface SearchSettings {
  dim: number;
  ranking: DatabaseRanking;
  k1: number;
  b: number;
}

async function readMeta<T>(db: pg.Pool | pg.PoolClient, key: string): Promise<T | null> {
  const { rows } = await db.query('SELECT value FROM archive_meta WHERE key = $1', [key]);
  return rows.length ? (rows[0].value as T) : null;
}

async function writeMeta(db: pg.Pool | pg.PoolClient, key: string, value: unknown): Promise<void> {
  await db.query('INSERT INTO archive_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, JSON.stringify(value)]);
}

const where = (config: Config) => `The database at ${describeUrl(config.store.databaseUrl!)}`;

/**
 * The live manifest kept in the database, or null when no build has finished there. Throws
 * IndexDamagedError while a build is unfinished (one that died is resumed by the next). A machine
 * serving the archive for the first time gets its built-in model from the database into indexDir.
 */
export async function readPostgresManifest(config: Config): Promise<Manifest | null> {
  const pool = await openDatabase(config);
  const build = await readMeta<{ startedAt: string }>(pool, 'build');
  if (build) throw new IndexDamagedError(`${where(config)} holds a build that did not finish (started ${build.startedAt})`);
  // A start reads the manifest three times (model, staleness, load); a row's xmin changes with every write, so it names the version parsed.
  const { rows } = await pool.query<{ version: string }>("SELECT xmin::text AS version FROM archive_meta WHERE key = 'manifest'");
  if (!rows.length) return null;
  const key = `${config.store.databaseUrl}\u0000${rows[0].version}`;
  let manifest = manifests.get(key);
  if (!manifest) {
    const parsed = ManifestSchema.safeParse(await readMeta<unknown>(pool, 'manifest'));
    if (!parsed.success) throw new IndexDamagedError(`${where(config)} holds a manifest of another format or version`);
    manifests.clear();
    manifests.set(key, (manifest = parsed.data));
  }
  await fetchModel(pool, config, manifest.model.folder);
  return manifest;
}

/** The manifest last parsed, by database and row version. */
const manifests = new Map<string, Manifest>();

/** The archive's model files, written into indexDir when this machine lacks them (checked against the manifest when loaded). */
async function fetchModel(pool: pg.Pool, config: Config, folder: string | null): Promise<void> {
  if (!folder || existsSync(join(config.indexDir, folder, 'config.json'))) return;
  const { rows } = await pool.query<{ path: string; bytes: Buffer }>('SELECT path, bytes FROM model_files WHERE folder = $1 ORDER BY path, part', [folder]);
  if (!rows.length) return; // the build trains or names another one
  const target = join(config.indexDir, folder);
  const tmp = `${target}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  for (const [path, parts] of groupBy(rows, (r) => r.path)) {
    mkdirSync(dirname(join(tmp, path)), { recursive: true });
    writeFileSync(join(tmp, path), Buffer.concat(parts.map((p) => p.bytes)));
  }
  renameSync(tmp, target);
}

/** Puts the archive's built-in model into the database once (model files are never changed in place), and forgets older ones. */
async function storeModel(pool: pg.Pool, config: Config, folder: string | null): Promise<void> {
  if (!folder) return;
  const { rows } = await pool.query('SELECT 1 FROM model_files WHERE folder = $1 LIMIT 1', [folder]);
  if (rows.length) return;
  const root = join(config.indexDir, folder);
  const files: string[] = [];
  const walk = (dir: string) => readdirSync(dir).forEach((e) => (statSync(join(dir, e)).isDirectory() ? walk(join(dir, e)) : files.push(join(dir, e))));
  walk(root);
  await transaction(pool, async (client) => {
    for (const file of files) {
      const bytes = readFileSync(file);
      for (let part = 0; part * MODEL_PART_BYTES < Math.max(1, bytes.length); part++) {
        await client.query('INSERT INTO model_files (folder, path, part, bytes) VALUES ($1, $2, $3, $4)', [folder, relative(root, file).split('\\').join('/'), part, bytes.subarray(part * MODEL_PART_BYTES, (part + 1) * MODEL_PART_BYTES)]);
      }
    }
  });
}

/** The index kept in the database, loaded: documents and passage offsets in memory, vectors and terms searched there. */
export async function openPostgresIndex(config: Config): Promise<ArchiveIndex> {
  const manifest = await readPostgresManifest(config);
  if (!manifest) throw new UserError(`${where(config)} holds no index yet. Build one with: npm run build-index`, 'index_missing');
  const pool = await openDatabase(config);
  const { rows } = await pool.query<Omit<SourceDocument, 'pageStarts' | 'headings'> & { pageStarts: number[] | null; headings: SourceDocument['headings'] | null }>(
    'SELECT id, source, title, date, publisher, url, page_starts AS "pageStarts", headings, text FROM documents',
  );
  if (rows.length !== manifest.counts.documents) throw new IndexDamagedError(`${where(config)} holds ${rows.length} documents, its manifest says ${manifest.counts.documents}`);
  const documents = rows.map(({ pageStarts, headings, ...d }): SourceDocument => ({ ...d, ...(pageStarts ? { pageStarts } : {}), ...(headings ? { headings } : {}) }));
  return loadPassages(config, manifest, documents);
}

/**
 * The index over `documents` (as the database holds them): their passages' offsets and row ids,
 * the lexicon, and the search indexes checked. Documents are ordered by source here, not by the
 * database's collation, so an index loaded and one just built number their chunks alike.
 */
async function loadPassages(config: Config, manifest: Manifest, documents: SourceDocument[]): Promise<ArchiveIndex> {
  const pool = await openDatabase(config);
  const settings = await readMeta<SearchSettings>(pool, 'search');
  const present = new Set((await pool.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE tablename = 'passages'")).rows.map((r) => r.indexname));
  const missing = settings ? [INDEX_NAMES.embedding, INDEX_NAMES.terms[settings.ranking], INDEX_NAMES.context[settings.ranking]].filter((name) => !present.has(name)) : ['all'];
  if (missing.length) throw new IndexDamagedError(`${where(config)} is missing search indexes (${missing.join(', ')})`);
  const { rows: passages } = await pool.query<{ id: number; document_id: string; start_offset: number; end_offset: number }>('SELECT id, document_id, start_offset, end_offset FROM passages ORDER BY document_id, position');
  if (passages.length !== manifest.counts.chunks) throw new IndexDamagedError(`${where(config)} holds ${passages.length} passages, its manifest says ${manifest.counts.chunks}`);
  const byDocument = groupBy(passages, (p) => p.document_id);
  const sorted = [...documents].sort(bySource);
  const chunks: Chunk[] = [];
  const rows: number[] = [];
  for (const doc of sorted) {
    for (const p of byDocument.get(doc.id) ?? []) {
      chunks.push(new StoredChunk(chunks.length, doc, p.start_offset, p.end_offset));
      rows.push(p.id);
    }
  }
  const lexicon = new Map((await pool.query<{ term: string; passages: number }>('SELECT term, passages FROM lexicon')).rows.map((r) => [r.term, r.passages]));
  return assembleIndex(manifest, sorted, chunks, new PostgresStore(pool, config.store.databaseUrl!, Int32Array.from(rows), settings!.ranking, lexicon));
}

async function readPreviousIndex(config: Config): Promise<ArchiveIndex | null> {
  try {
    return await openPostgresIndex(config);
  } catch (e) {
    // No index, an unfinished build or damaged search indexes: documents already there are still reused, by their embedding key.
    if (e instanceof UserError && e.code !== 'database_unreachable' && e.code !== 'database_schema' && e.code !== 'database_newer') return null;
    throw e;
  }
}

/** What a document's passages and vectors depend on besides its text and title: a changed key re-embeds it. */
function embeddingKey(inputs: ManifestInputs): string {
  return createHash('sha256').update(JSON.stringify({ model: inputs.model, chunking: inputs.chunking })).digest('hex').slice(0, 16);
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** Passages per term among these passages' terms (each passage counts a term once). */
function termCounts(termLists: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const list of termLists) for (const term of new Set(list.split(' ').filter(Boolean))) counts.set(term, (counts.get(term) ?? 0) + 1);
  return counts;
}

async function addToLexicon(client: pg.PoolClient, counts: Map<string, number>, sign: 1 | -1): Promise<void> {
  if (!counts.size) return;
  await client.query(
    'INSERT INTO lexicon (term, passages) SELECT * FROM unnest($1::text[], $2::int[]) ON CONFLICT (term) DO UPDATE SET passages = lexicon.passages + excluded.passages',
    [[...counts.keys()], [...counts.values()].map((n) => sign * n)],
  );
  if (sign < 0) await client.query('DELETE FROM lexicon WHERE passages <= 0');
}

/** The lexical ranking this database can give: pg_textsearch where installed, unless full-text ranking is configured. */
async function chooseRanking(pool: pg.Pool, config: Config, log: (message: string) => void): Promise<DatabaseRanking> {
  if (config.store.lexical === 'fulltext') return 'ts_rank';
  const { rows } = await pool.query("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_textsearch'");
  if (!rows.length) return 'ts_rank';
  try {
    await pool.query('CREATE EXTENSION IF NOT EXISTS pg_textsearch');
    return 'pg_textsearch';
  } catch (e) {
    // Installed but not loadable (some servers want it in shared_preload_libraries, or a superuser to create it).
    log(`pg_textsearch is installed but could not be enabled: ${(e as Error).message}`);
    return 'ts_rank';
  }
}

async function dropSearchIndexes(pool: pg.Pool): Promise<void> {
  const names = [INDEX_NAMES.embedding, ...Object.values(INDEX_NAMES.terms), ...Object.values(INDEX_NAMES.context)];
  for (const name of names) await pool.query(`DROP INDEX IF EXISTS ${name}`);
}

/** The HNSW index over the passages' vectors (cosine, the embedded graph's settings), created where missing. */
export async function ensureVectorIndex(pool: pg.Pool): Promise<void> {
  // pgvector builds the graph far faster while it fits in maintenance_work_mem (its documentation's advice).
  await transaction(pool, async (client) => {
    await client.query("SET LOCAL maintenance_work_mem = '1GB'");
    await client.query(`CREATE INDEX IF NOT EXISTS ${INDEX_NAMES.embedding} ON passages USING hnsw (embedding vector_cosine_ops) WITH (m = ${M}, ef_construction = ${EF_CONSTRUCTION})`);
  });
}

/** The HNSW index and both lexical indexes, created where missing. */
async function ensureSearchIndexes(pool: pg.Pool, settings: SearchSettings): Promise<void> {
  await ensureVectorIndex(pool);
  for (const [column, names] of [['terms', INDEX_NAMES.terms], ['context_terms', INDEX_NAMES.context]] as const) {
    // Terms are our tokenizer's stems, so the 'simple' configuration (no stop words, no stemming) takes them as they are.
    const using = settings.ranking === 'pg_textsearch' ? `bm25 (${column}) WITH (text_config = 'simple', k1 = ${settings.k1}, b = ${settings.b})` : `gin (to_tsvector('simple', ${column}))`;
    await pool.query(`CREATE INDEX IF NOT EXISTS ${names[settings.ranking]} ON passages USING ${using}`);
  }
}

/** Deletes documents with their passages, and their passages' terms from the lexicon, in one transaction. */
async function deleteDocuments(pool: pg.Pool, ids: string[]): Promise<void> {
  await transaction(pool, async (client) => {
    const { rows } = await client.query<{ terms: string }>('DELETE FROM passages WHERE document_id = ANY($1) RETURNING terms', [ids]);
    await client.query('DELETE FROM documents WHERE id = ANY($1)', [ids]);
    await addToLexicon(client, termCounts(rows.map((r) => r.terms)), -1);
  });
}

/**
 * Adds whole documents in one transaction: each with all its passages (`chunks`, ids their
 * positions in their documents), their vectors, BM25 terms and terms in context, and the lexicon's counts.
 */
async function addDocuments(pool: pg.Pool, docs: SourceDocument[], chunks: Chunk[], vectors: Float32Array[], contexts: string[], key: string): Promise<void> {
  const terms = chunks.map((c) => lexicalTerms(c.text).join(' '));
  const contextTerms = contexts.map((t) => lexicalTerms(t).join(' '));
  await transaction(pool, async (client) => {
    await client.query(
      'INSERT INTO documents (id, source, title, date, publisher, url, page_starts, headings, text, embedding_key) SELECT u.*, $10 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::jsonb[], $9::text[]) AS u',
      [docs.map((d) => d.id), docs.map((d) => d.source), docs.map((d) => d.title), docs.map((d) => d.date), docs.map((d) => d.publisher), docs.map((d) => d.url), docs.map((d) => json(d.pageStarts)), docs.map((d) => json(d.headings)), docs.map((d) => d.text), key],
    );
    await client.query(
      'INSERT INTO passages (document_id, position, start_offset, end_offset, terms, context_terms, embedding) SELECT d, p, s, e, t, c, v::vector FROM unnest($1::text[], $2::int[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[]) AS u(d, p, s, e, t, c, v)',
      [chunks.map((c) => c.docId), chunks.map((c) => c.id), chunks.map((c) => c.start), chunks.map((c) => c.end), terms, contextTerms, vectors.map(vectorLiteral)],
    );
    await addToLexicon(client, termCounts(terms), 1);
  });
}

/**
 * Brings the database's index up to date with the corpus. A document whose text, title and
 * embedding key match its row is kept as it is; every other row is deleted and every new or
 * changed document is chunked, embedded and written, a batch of documents per transaction (so a
 * crash leaves whole documents only, and the next build carries on from them). The manifest is
 * written last; until then the database says a build is under way.
 */
export async function buildPostgresIndex(config: Config, options: BuildOptions = {}): Promise<BuildReport> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const pool = await openDatabase(config);
  const loaded = options.previous?.store instanceof PostgresStore ? options.previous : null;
  const previous = loaded ?? (await readPreviousIndex(config));
  const previousModel = previous?.manifest ?? (await readMeta<ModelRecord>(pool, 'manifest'));
  if (!previous) await fetchModel(pool, config, previousModel?.model.folder ?? null);
  const { documents, skipped, ocr, sources, stamps, model, coverage, inputs, fullReason } = await readBuildInputs(config, options, previous, previousModel);
  const { embedder } = model;
  await storeModel(pool, config, inputs.model.folder);
  await writeMeta(pool, 'build', { startedAt: new Date().toISOString() });

  const key = embeddingKey(inputs);
  const { rows: existing } = await pool.query<{ id: string; source: string; title: string; text_md5: string; embedding_key: string }>('SELECT id, source, title, md5(text) AS text_md5, embedding_key FROM documents');
  const rowBySource = new Map(existing.map((r) => [r.source, r]));
  const keep = new Set<string>();
  for (const doc of documents) {
    const row = rowBySource.get(doc.source);
    if (!options.full && row && row.id === doc.id && row.embedding_key === key && row.title === doc.title && row.text_md5 === md5(doc.text)) keep.add(doc.id);
  }
  const removed = existing.filter((r) => !keep.has(r.id)).map((r) => r.id);
  const added = documents.filter((d) => !keep.has(d.id));

  for (let i = 0; i < removed.length; i += 1000) await deleteDocuments(pool, removed.slice(i, i + 1000));
  // Metadata edited in the catalog (date, publisher, url) changes no passage: kept rows are updated in place.
  const kept = documents.filter((d) => keep.has(d.id));
  for (let i = 0; i < kept.length; i += 1000) {
    const part = kept.slice(i, i + 1000);
    await pool.query(
      'UPDATE documents d SET date = u.date, publisher = u.publisher, url = u.url, page_starts = u.page_starts, headings = u.headings FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[]) AS u(id, date, publisher, url, page_starts, headings) WHERE d.id = u.id',
      [part.map((d) => d.id), part.map((d) => d.date), part.map((d) => d.publisher), part.map((d) => d.url), part.map((d) => json(d.pageStarts)), part.map((d) => json(d.headings))],
    );
  }

  const settings: SearchSettings = { dim: embedder.info.dim, ranking: await chooseRanking(pool, config, log), ...config.retrieval.bm25 };
  const before = await readMeta<SearchSettings>(pool, 'search');
  const { rows: left } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM passages');
  const empty = left[0].n === 0;
  if (JSON.stringify(before) !== JSON.stringify(settings) || (empty && added.length)) {
    // Indexes are built faster over a loaded table than row by row, and new settings need new ones.
    await dropSearchIndexes(pool);
    if (before?.dim !== settings.dim) {
      if (!empty) throw new Error(`the passages table holds vectors of dimension ${before?.dim} and the model gives ${settings.dim}`);
      await pool.query(`ALTER TABLE passages ALTER COLUMN embedding TYPE vector(${settings.dim})`);
    }
    await writeMeta(pool, 'search', settings);
  }
  const url = describeUrl(config.store.databaseUrl!);
  log(
    settings.ranking === 'pg_textsearch'
      ? `Passages are kept in ${url}, ranked by pgvector's HNSW and pg_textsearch's BM25.`
      : `Passages are kept in ${url}, ranked by pgvector's HNSW and, with no pg_textsearch extension (or store.lexical "fulltext"), by Postgres full-text ranking (ts_rank), not BM25.`,
  );

  const byId = new Map(documents.map((d) => [d.id, d]));
  // A pending chunk's id is its position in its document.
  const pending = added.map((doc) => ({ doc, chunks: chunkDocument(doc, config.chunking).map((c, i) => ({ ...c, id: i, docId: doc.id }) as Chunk) }));
  const total = pending.reduce((n, p) => n + p.chunks.length, 0);
  let done = 0;
  options.onProgress?.('embed', 0, total);
  for (let i = 0; i < pending.length; ) {
    const batch: typeof pending = [];
    for (let n = 0; i < pending.length && (n === 0 || n + pending[i].chunks.length <= BATCH_PASSAGES); i++) {
      batch.push(pending[i]);
      n += pending[i].chunks.length;
    }
    const chunks = batch.flatMap((p) => p.chunks);
    const vectors = await embedder.embed(chunks.map((c) => passageText(c, byId.get(c.docId)!, config)), 'passage', (n) => options.onProgress?.('embed', done + n, total));
    await addDocuments(pool, batch.map((p) => p.doc), chunks, vectors, contextTexts(chunks, byId, null), key);
    done += chunks.length;
    options.onProgress?.('embed', done, total);
  }
  await ensureSearchIndexes(pool, settings);

  const { rows: count } = await pool.query<{ documents: number; passages: number }>('SELECT (SELECT count(*)::int FROM documents) AS documents, (SELECT count(*)::int FROM passages) AS passages');
  const counts = { documents: count[0].documents, chunks: count[0].passages, vectorLabels: count[0].passages };
  const manifest: Manifest = { formatVersion: FORMAT_VERSION, id: manifestId(inputs), createdAt: new Date().toISOString(), ...inputs, stamps, counts, outOfVocabulary: coverage, artifacts: {} };
  await transaction(pool, async (client) => {
    await writeMeta(client, 'manifest', manifest);
    await client.query("DELETE FROM archive_meta WHERE key = 'build'");
    await client.query('DELETE FROM model_files WHERE folder IS DISTINCT FROM $1', [manifest.model.folder]);
  });
  removeUnusedModels(config.indexDir, manifest.model.folder);
  return {
    manifest,
    // The documents are the ones just written: only the passages' offsets and ids are read back.
    index: await loadPassages(config, manifest, documents),
    skipped,
    ocr,
    formats: formatsOf(documents),
    changes: fileChanges(previous?.manifest.sources ?? {}, sources),
    fullRebuild: fullReason,
    embedded: total,
    trained: model.trained,
    embedder,
    ms: Date.now() - started,
  };
}
