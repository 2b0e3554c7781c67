import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type pg from 'pg';
import { chunkDocument } from '../../chunk/index.js';
import { UserError, type Config } from '../../config.js';
import { groupBy } from '../../group.js';
import { bySource } from '../../ingest/index.js';
import type { Embedder } from '../../embed/index.js';
import type { Chunk, SourceDocument } from '../../types.js';
import { StoredChunk } from '../artifacts.js';
import { luceneLength, termCounts } from '../lexicalIndex.js';
import type { ArchiveIndex, BuildOptions, BuildReport } from '../types.js';
import { fileChanges, FORMAT_VERSION, IndexDamagedError, ManifestSchema, manifestId, type Manifest, type ManifestInputs } from '../manifest.js';
import { removeUnusedModels, type ModelRecord } from '../model.js';
import { assembleIndex, contextTexts, formatsOf, passageText, readBuildInputs } from '../plan.js';
import { EF_CONSTRUCTION, M } from '../vectorStore.js';
import { describeUrl, openDatabase, reaching, transaction } from './database.js';
import { FIELD, PostgresStore, VECTOR_INDEX, vectorLiteral, type Lexicon } from './store.js';

export { PostgresStore } from './store.js';
export { closeDatabase, describeUrl, openDatabase, schemaAdvice, SCHEMA_VERSION, transaction } from './database.js';


/** A value for a jsonb column (null when absent). */
const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));

/** Passages embedded and written at a time (the whole build is one transaction; this bounds memory). */
const BATCH_PASSAGES = 512;
/** Model files are stored in parts of this size (a bytea value is sent whole). */
const MODEL_PART_BYTES = 8 * 1024 * 1024;

/** What the HNSW index was made for; a model of another dimension drops and recreates it. */
interface SearchSettings {
  dim: number;
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
 * IndexDamagedError when an earlier version's build died midway (those committed as they went; the
 * next build replaces what it wrote). A machine serving the archive for the first time gets its
 * built-in model from the database into indexDir.
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
  const { rows: present } = await pool.query("SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'passages' AND indexname = $1", [VECTOR_INDEX]);
  if (!present.length) throw new IndexDamagedError(`${where(config)} is missing its vector index (${VECTOR_INDEX})`);
  const { rows: passages } = await pool.query<{ id: number; document_id: string; start_offset: number; end_offset: number; terms_length: number; context_length: number }>(
    'SELECT id, document_id, start_offset, end_offset, terms_length, context_length FROM passages ORDER BY document_id, position',
  );
  if (passages.length !== manifest.counts.chunks) throw new IndexDamagedError(`${where(config)} holds ${passages.length} passages, its manifest says ${manifest.counts.chunks}`);
  const byDocument = groupBy(passages, (p) => p.document_id);
  const sorted = [...documents].sort(bySource);
  const chunks: Chunk[] = [];
  const rows: number[] = [];
  const total = { passage: 0, context: 0 };
  for (const doc of sorted) {
    for (const p of byDocument.get(doc.id) ?? []) {
      chunks.push(new StoredChunk(chunks.length, doc, p.start_offset, p.end_offset));
      rows.push(p.id);
      total.passage += p.terms_length;
      total.context += p.context_length;
    }
  }
  const { rows: terms } = await pool.query<{ id: number; term: string; passages: number; contexts: number }>('SELECT id, term, passages, contexts FROM lexical_terms');
  const n = Math.max(chunks.length, 1);
  const lexicon: Lexicon = {
    slots: new Map(terms.map((t, slot) => [t.term, slot])),
    ids: Int32Array.from(terms, (t) => t.id),
    passages: Int32Array.from(terms, (t) => t.passages),
    contexts: Int32Array.from(terms, (t) => t.contexts),
    averageLength: { passage: total.passage / n, context: total.context / n },
  };
  return assembleIndex(manifest, sorted, chunks, new PostgresStore(pool, config.store.databaseUrl!, Int32Array.from(rows), lexicon, config.retrieval.bm25));
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

/**
 * Moves the lexicon's counts by the postings a data-modifying statement (`changed`, without its
 * RETURNING) wrote or deleted: each term's passages and contexts holding it, up or down.
 */
const movingCounts = (changed: string, sign: '+' | '-') => `WITH changed AS (${changed} RETURNING field, term_id)
  UPDATE lexical_terms t SET passages = t.passages ${sign} c.passages, contexts = t.contexts ${sign} c.contexts
  FROM (SELECT term_id, count(*) FILTER (WHERE field = ${FIELD.passage}) AS passages, count(*) FILTER (WHERE field = ${FIELD.context}) AS contexts FROM changed GROUP BY term_id) c
  WHERE t.id = c.term_id`;

/** The HNSW index over the passages' vectors (cosine, the embedded graph's settings), created where missing; in a transaction. */
export async function ensureVectorIndex(client: pg.PoolClient): Promise<void> {
  // pgvector builds the graph far faster while it fits in maintenance_work_mem (its documentation's advice).
  await client.query("SET LOCAL maintenance_work_mem = '1GB'");
  await client.query(`CREATE INDEX IF NOT EXISTS ${VECTOR_INDEX} ON passages USING hnsw (embedding vector_cosine_ops) WITH (m = ${M}, ef_construction = ${EF_CONSTRUCTION})`);
}

/** Deletes documents with their passages and postings, taking their terms' counts off the lexicon. */
async function deleteDocuments(client: pg.PoolClient, ids: string[]): Promise<void> {
  await client.query(movingCounts('DELETE FROM postings WHERE passage IN (SELECT id FROM passages WHERE document_id = ANY($1))', '-'), [ids]);
  await client.query('DELETE FROM passages WHERE document_id = ANY($1)', [ids]);
  await client.query('DELETE FROM documents WHERE id = ANY($1)', [ids]);
}

/**
 * Adds whole documents: each with all its passages (`chunks`, ids their positions in their
 * documents), their vectors and lengths, the postings of their terms alone and in context, and the
 * lexicon's counts.
 */
async function addDocuments(client: pg.PoolClient, docs: SourceDocument[], chunks: Chunk[], vectors: Float32Array[], contexts: string[], key: string): Promise<void> {
  const fields = [chunks.map((c) => termCounts(c.text)), contexts.map(termCounts)];
  await client.query(
    'INSERT INTO documents (id, source, title, date, publisher, url, page_starts, headings, text, embedding_key) SELECT u.*, $10 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::jsonb[], $9::text[]) AS u',
    [docs.map((d) => d.id), docs.map((d) => d.source), docs.map((d) => d.title), docs.map((d) => d.date), docs.map((d) => d.publisher), docs.map((d) => d.url), docs.map((d) => json(d.pageStarts)), docs.map((d) => json(d.headings)), docs.map((d) => d.text), key],
  );
  const { rows: made } = await client.query<{ id: number }>(
    `INSERT INTO passages (document_id, position, start_offset, end_offset, terms_length, context_length, embedding)
     SELECT d, p, s, e, l, c, v::vector FROM unnest($1::text[], $2::int[], $3::int[], $4::int[], $5::int[], $6::int[], $7::text[]) WITH ORDINALITY AS u(d, p, s, e, l, c, v, n) ORDER BY n RETURNING id`,
    [chunks.map((c) => c.docId), chunks.map((c) => c.id), chunks.map((c) => c.start), chunks.map((c) => c.end), fields[0].map((f) => f.length), fields[1].map((f) => f.length), vectors.map(vectorLiteral)],
  );
  const terms = [...new Set(fields.flatMap((f) => f.flatMap((t) => [...t.counts.keys()])))];
  await client.query('INSERT INTO lexical_terms (term) SELECT unnest($1::text[]) ON CONFLICT (term) DO NOTHING', [terms]);
  const { rows: ids } = await client.query<{ id: number; term: string }>('SELECT id, term FROM lexical_terms WHERE term = ANY($1)', [terms]);
  const idOf = new Map(ids.map((r) => [r.term, r.id]));
  const postings = { field: [] as number[], term: [] as number[], passage: [] as number[], tf: [] as number[], length: [] as number[] };
  for (const [field, perChunk] of [[FIELD.passage, fields[0]], [FIELD.context, fields[1]]] as const) {
    perChunk.forEach(({ counts, length }, i) => {
      for (const [term, tf] of counts) {
        postings.field.push(field);
        postings.term.push(idOf.get(term)!);
        postings.passage.push(made[i].id);
        postings.tf.push(tf);
        postings.length.push(luceneLength(length));
      }
    });
  }
  await client.query(movingCounts('INSERT INTO postings (field, term_id, passage, tf, length) SELECT * FROM unnest($1::smallint[], $2::int[], $3::int[], $4::int[], $5::int[])', '+'), [
    postings.field,
    postings.term,
    postings.passage,
    postings.tf,
    postings.length,
  ]);
}

/** The key of pg_advisory_xact_lock under which builds run one at a time (a second waits for the first). */
const BUILD_LOCK = 7_340_002;

/**
 * Brings the database's index up to date with the corpus, in one transaction: a document whose
 * text, title and embedding key match its row is kept as it is; every other row is deleted and
 * every new or changed document is chunked, embedded and written; the manifest last. Searches see
 * the previous index until the commit, and a build that dies (or loses the database) leaves it as
 * it was, as a crash leaves the embedded store's previous generation.
 */
export async function buildPostgresIndex(config: Config, options: BuildOptions = {}): Promise<BuildReport> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const pool = await openDatabase(config);
  const url = config.store.databaseUrl!;
  const loaded = options.previous?.store instanceof PostgresStore ? options.previous : null;
  const previous = loaded ?? (await readPreviousIndex(config));
  const previousModel = previous?.manifest ?? (await readMeta<ModelRecord>(pool, 'manifest'));
  if (!previous) await fetchModel(pool, config, previousModel?.model.folder ?? null);
  const { documents, skipped, ocr, sources, stamps, model, coverage, inputs, fullReason } = await readBuildInputs(config, options, previous, previousModel);
  const { embedder } = model;
  await storeModel(pool, config, inputs.model.folder);
  log(`Passages are kept in ${describeUrl(url)}, ranked by pgvector's HNSW and BM25 scored from the database's postings.`);
  const { manifest, embedded, changed } = await reaching(
    url,
    () => transaction(pool, (client) => writeIndex(client, config, options, { documents, embedder, inputs, stamps, coverage })),
    'the build stopped and the previous index stays as it was; build again once it is back.',
  );
  // Fresh statistics for the planner, and the visibility map for index-only scans of the postings (a build that changed nothing leaves them as they were).
  if (changed) await reaching(url, () => pool.query('VACUUM (ANALYZE) postings, passages, lexical_terms'));
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
    embedded,
    trained: model.trained,
    embedder,
    ms: Date.now() - started,
  };
}

/** The build's writes, in its transaction: what changed deleted and written again, the manifest last. */
async function writeIndex(
  client: pg.PoolClient,
  config: Config,
  options: BuildOptions,
  { documents, embedder, inputs, stamps, coverage }: Pick<Awaited<ReturnType<typeof readBuildInputs>>, 'documents' | 'inputs' | 'stamps' | 'coverage'> & { embedder: Embedder },
): Promise<{ manifest: Manifest; embedded: number; changed: boolean }> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [BUILD_LOCK]);
  const key = embeddingKey(inputs);
  const { rows: existing } = await client.query<{ id: string; source: string; title: string; text_md5: string; embedding_key: string }>('SELECT id, source, title, md5(text) AS text_md5, embedding_key FROM documents');
  const rowBySource = new Map(existing.map((r) => [r.source, r]));
  const keep = new Set<string>();
  for (const doc of documents) {
    const row = rowBySource.get(doc.source);
    if (!options.full && row && row.id === doc.id && row.embedding_key === key && row.title === doc.title && row.text_md5 === md5(doc.text)) keep.add(doc.id);
  }
  const removed = existing.filter((r) => !keep.has(r.id)).map((r) => r.id);
  const added = documents.filter((d) => !keep.has(d.id));

  for (let i = 0; i < removed.length; i += 1000) await deleteDocuments(client, removed.slice(i, i + 1000));
  // Metadata edited in the catalog (date, publisher, url) changes no passage: kept rows are updated in place.
  const kept = documents.filter((d) => keep.has(d.id));
  for (let i = 0; i < kept.length; i += 1000) {
    const part = kept.slice(i, i + 1000);
    await client.query(
      'UPDATE documents d SET date = u.date, publisher = u.publisher, url = u.url, page_starts = u.page_starts, headings = u.headings FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[]) AS u(id, date, publisher, url, page_starts, headings) WHERE d.id = u.id',
      [part.map((d) => d.id), part.map((d) => d.date), part.map((d) => d.publisher), part.map((d) => d.url), part.map((d) => json(d.pageStarts)), part.map((d) => json(d.headings))],
    );
  }

  const settings: SearchSettings = { dim: embedder.info.dim };
  const before = await readMeta<SearchSettings>(client, 'search');
  const { rows: left } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM passages');
  const empty = left[0].n === 0;
  if (before?.dim !== settings.dim || (empty && added.length)) {
    // The graph is built faster over a loaded table than row by row, and another dimension needs another one.
    await client.query(`DROP INDEX IF EXISTS ${VECTOR_INDEX}`);
    if (before?.dim !== settings.dim) {
      if (!empty) throw new Error(`the passages table holds vectors of dimension ${before?.dim} and the model gives ${settings.dim}`);
      await client.query(`ALTER TABLE passages ALTER COLUMN embedding TYPE vector(${settings.dim})`);
    }
    await writeMeta(client, 'search', settings);
  }

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
    await addDocuments(client, batch.map((p) => p.doc), chunks, vectors, contextTexts(chunks, byId, null), key);
    done += chunks.length;
    options.onProgress?.('embed', done, total);
  }
  await ensureVectorIndex(client);
  await client.query('DELETE FROM lexical_terms WHERE passages = 0 AND contexts = 0');

  const { rows: count } = await client.query<{ documents: number; passages: number }>('SELECT (SELECT count(*)::int FROM documents) AS documents, (SELECT count(*)::int FROM passages) AS passages');
  const counts = { documents: count[0].documents, chunks: count[0].passages, vectorLabels: count[0].passages };
  const manifest: Manifest = { formatVersion: FORMAT_VERSION, id: manifestId(inputs), createdAt: new Date().toISOString(), ...inputs, stamps, counts, outOfVocabulary: coverage, artifacts: {} };
  await writeMeta(client, 'manifest', manifest);
  // Left by an earlier version's build that died: this one replaces what it wrote.
  await client.query("DELETE FROM archive_meta WHERE key = 'build'");
  await client.query('DELETE FROM model_files WHERE folder IS DISTINCT FROM $1', [manifest.model.folder]);
  return { manifest, embedded: total, changed: removed.length + added.length > 0 };
}
