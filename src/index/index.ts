import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chunkDocument } from '../chunk/index.js';
import { UserError, type Config } from '../config.js';
import type { Embedder } from '../embed/index.js';
import { fingerprintCorpus, readOptions } from '../ingest/index.js';
import { assembleIndex, contextTexts, formatsOf, knownFiles, manifestInputs, passageText, readBuildInputs } from './plan.js';
import type { Chunk, SourceDocument } from '../types.js';
import { readArtifacts, writeArtifacts } from './artifacts.js';
import { LexicalIndex } from './lexicalIndex.js';
import { ARTIFACTS, fileChanges, FORMAT_VERSION, IndexDamagedError, ManifestSchema, manifestId, staleReasons, type FileChanges, type Manifest } from './manifest.js';
import { removeUnusedModels, type ModelRecord } from './model.js';
import { fileChecksum, writeFileAtomic } from './storage.js';
import { buildPostgresIndex, openPostgresIndex, readPostgresManifest } from './postgres/index.js';
import { EmbeddedStore } from './store.js';
import type { ArchiveIndex, BuildOptions, BuildReport } from './types.js';
import { packVectors, VectorStore, type ChunkVector } from './vectorStore.js';

export { describeChanges, IndexDamagedError, listFiles, type FileChanges, type Manifest } from './manifest.js';
export { linkTree, loadIndexModel, MODELS_DIR } from './model.js';
export { VectorStore } from './vectorStore.js';
export { LexicalIndex } from './lexicalIndex.js';
export { EmbeddedStore, type PassageStore, type StoreStats, type AllowedDocuments } from './store.js';
export type { ArchiveIndex, BuildOptions, BuildProgress, BuildReport } from './types.js';

/** The embedded store of an index built into files (null for one kept in Postgres). */
const embeddedStore = (index: ArchiveIndex | null | undefined): EmbeddedStore | null => (index?.store instanceof EmbeddedStore ? index.store : null);

/** The file naming the live generation; swapping it by rename is what makes a new index live. */
const CURRENT = 'CURRENT';

/** Past this share of deleted passages in the graph, an update rebuilds the graph (from stored vectors, not by re-embedding). */
const MAX_DELETED_SHARE = 0.3;

async function readPreviousIndex(config: Config): Promise<ArchiveIndex | null> {
  try {
    return await openIndex(config.indexDir);
  } catch (e) {
    // No index, a damaged one or one of an older format: the build starts from nothing.
    if (e instanceof UserError) return null;
    throw e;
  }
}

/** Whether the archive keeps its passages in Postgres (store.databaseUrl, or DATABASE_URL) rather than in indexDir's files. */
const inPostgres = (config: Config) => Boolean(config.store.databaseUrl);

/**
 * Builds or updates the configured archive's index: in Postgres (postgres/index.ts), or in the
 * embedded files of indexDir (below). Either way the live index is replaced only by a whole one:
 * a new generation folder, or documents written a transaction at a time.
 */
export async function buildIndex(config: Config, options: BuildOptions = {}): Promise<BuildReport> {
  return inPostgres(config) ? buildPostgresIndex(config, options) : buildEmbeddedIndex(config, options);
}

/** The configured archive's live manifest, or null when it has none. Throws IndexDamagedError when it is unreadable. */
export async function liveManifest(config: Config): Promise<Manifest | null> {
  return inPostgres(config) ? readPostgresManifest(config) : readManifest(config.indexDir);
}

/** The configured archive's live index, loaded. */
export async function loadIndex(config: Config): Promise<ArchiveIndex> {
  return inPostgres(config) ? openPostgresIndex(config) : openIndex(config.indexDir);
}

/** The configured archive's live manifest once its content is vouched for (the embedded files' checksums; the database's own guarantees). */
export async function checkIndex(config: Config): Promise<Manifest> {
  if (!inPostgres(config)) return verifyIndex(config.indexDir);
  const manifest = await readPostgresManifest(config);
  if (!manifest) throw new UserError(`The database holds no index yet. Build one with: npm run build-index`, 'index_missing');
  return manifest;
}

/**
 * Builds a complete index into a new generation folder, writes its manifest last, then points
 * CURRENT at it with one rename. A crash at any moment leaves the previous generation live.
 * When the live index was built with the same model and chunking, only the passages of added or
 * changed documents are embedded: the others keep their vectors and their place in the HNSW graph.
 */
async function buildEmbeddedIndex(config: Config, options: BuildOptions): Promise<BuildReport> {
  const started = Date.now();
  // A loaded index is used only while its folder is still there (another build may have replaced it).
  const live = embeddedStore(options.previous);
  const loaded = live && existsSync(join(config.indexDir, live.generation)) ? options.previous : undefined;
  const previous = loaded ?? (await readPreviousIndex(config));
  // A damaged index may still name a good model: its manifest is read on its own.
  const previousModel = previous?.manifest ?? readableManifest(config.indexDir) ?? earlierModel(config.indexDir);
  const { documents, skipped, ocr, sources, stamps, model, coverage, inputs, fullReason } = await readBuildInputs(config, options, previous, previousModel);
  const { embedder } = model;
  const reusable = fullReason ? null : previous;
  const reusableStore = embeddedStore(reusable);

  const chunks: Chunk[] = [];
  /** For each chunk, the id of the same chunk in the previous index, or null when it is new. */
  const reusedFrom: Array<number | null> = [];
  for (const doc of documents) {
    const old = reusable && reusableChunks(reusable, doc, config);
    const spans = old ?? chunkDocument(doc, config.chunking);
    spans.forEach((c, i) => {
      chunks.push({ id: chunks.length, docId: doc.id, start: c.start, end: c.end, text: c.text });
      reusedFrom.push(old ? old[i].id : null);
    });
  }
  const byId = new Map(documents.map((d) => [d.id, d]));
  const toEmbed = chunks.filter((_, i) => reusedFrom[i] === null);
  const progress = (done: number) => options.onProgress?.('embed', done, toEmbed.length);
  const vectorsOf = await embedder.embed(toEmbed.map((c) => passageText(c, byId.get(c.docId)!, config)), 'passage', progress);
  if (toEmbed.length === 0) progress(0);
  const embedded = new Map(toEmbed.map((c, n) => [c.id, vectorsOf[n]]));

  const chunkVectors: ChunkVector[] = chunks.map((c, i) => {
    const from = reusedFrom[i];
    return from === null ? { label: null, vector: embedded.get(c.id)! } : { label: reusableStore!.vectors.labels[from], vector: reusableStore!.vectors.vector(from) };
  });
  // Past MAX_DELETED_SHARE of deleted passages the graph is rebuilt from the vectors rather than updated.
  const graphLabels = reusableStore ? reusableStore.vectors.labelCount + toEmbed.length : 0;
  const updateGraph = reusableStore !== null && 1 - chunks.length / graphLabels <= MAX_DELETED_SHARE;
  const vectors = updateGraph
    ? await VectorStore.update(join(config.indexDir, reusableStore.generation, 'vectors.hnsw'), reusableStore.vectors, chunkVectors)
    : VectorStore.create(packVectors(chunkVectors.map((c) => c.vector), embedder.info.dim), embedder.info.dim);

  const id = manifestId(inputs);
  mkdirSync(config.indexDir, { recursive: true });
  const generation = `g-${id}-${Date.now().toString(36)}`;
  const dir = join(config.indexDir, generation);
  mkdirSync(dir);
  // Unchanged passages keep their terms; so do their contexts (their neighbours are in the same, unchanged document).
  const sameBm25 = reusable !== null && JSON.stringify(reusable.manifest.lexical) === JSON.stringify(inputs.lexical);
  const reuse = (from: LexicalIndex | undefined) => (sameBm25 && from ? { from, labels: reusedFrom } : undefined);
  const lexical = LexicalIndex.create(chunks.map((c) => c.text), config.retrieval.bm25, reuse(reusableStore?.passageBm25));
  const contextLexical = LexicalIndex.create(contextTexts(chunks, byId, sameBm25 ? reusedFrom : null), config.retrieval.bm25, reuse(reusableStore?.contextBm25));
  const written = writeArtifacts(dir, { documents, chunks, labels: vectors.labels, vectors: vectors.vectors, dim: embedder.info.dim, lexical, contextLexical });
  await vectors.save(join(dir, 'vectors.hnsw'));
  const artifacts = Object.fromEntries(ARTIFACTS.map((name) => [name, written[name] ?? fileChecksum(join(dir, name))]));
  const counts = { documents: documents.length, chunks: chunks.length, vectorLabels: vectors.labelCount };
  const manifest: Manifest = { formatVersion: FORMAT_VERSION, id, createdAt: new Date().toISOString(), ...inputs, stamps, counts, outOfVocabulary: coverage, artifacts };
  writeFileAtomic(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  writeFileAtomic(join(config.indexDir, CURRENT), generation + '\n');
  removeOtherGenerations(config.indexDir, generation);
  removeUnusedModels(config.indexDir, manifest.model.folder);
  // The index is returned as a load makes it, from the files just written (what a query reads only a little of stays on disk).
  const content = readArtifacts(dir);
  const store = new EmbeddedStore(vectors.withVectors(content.vectors), content.lexical, content.contextLexical, content.chunks, generation);
  const index = assembleIndex(manifest, content.documents, content.chunks, store);
  return {
    manifest,
    index,
    skipped,
    ocr,
    formats: formatsOf(documents),
    changes: fileChanges(previous?.manifest.sources ?? {}, sources),
    fullRebuild: fullReason,
    embedded: toEmbed.length,
    trained: model.trained,
    embedder,
    ms: Date.now() - started,
  };
}

/**
 * The previous index's chunks of this document when they can be kept as they are: same text and
 * same title (it is embedded with the passage); chunking is deterministic for the same settings,
 * which an update has. Null when the document must be chunked and embedded.
 */
function reusableChunks(previous: ArchiveIndex, doc: SourceDocument, config: Config): Chunk[] | null {
  const before = previous.documentsBySource.get(doc.source);
  if (!before || before.text !== doc.text || (config.embedding.titleInPassage && before.title !== doc.title)) return null;
  return previous.chunksByDoc.get(before.id) ?? null;
}

/** Deletes every generation folder but the live one (old builds and folders of builds that crashed). */
function removeOtherGenerations(indexDir: string, live: string): void {
  for (const entry of readdirSync(indexDir)) {
    if (entry !== live && /^g-/.test(entry)) rmSync(join(indexDir, entry), { recursive: true, force: true });
    if (/\.tmp-\d+$/.test(entry)) rmSync(join(indexDir, entry), { force: true });
  }
}

function liveGeneration(indexDir: string): string | null {
  const pointer = join(indexDir, CURRENT);
  if (!existsSync(pointer)) return null;
  return readFileSync(pointer, 'utf8').trim() || null;
}

/** The live manifest when it can be read, else null (no index, or a damaged one). */
function readableManifest(indexDir: string): Manifest | null {
  try {
    return readManifest(indexDir);
  } catch (e) {
    if (e instanceof UserError) return null;
    throw e;
  }
}

/**
 * The model named by a live manifest of another format (its `model.folder` field has not moved
 * since format 6), so that rebuilding an index of an older version keeps its trained model.
 */
function earlierModel(indexDir: string): ModelRecord | null {
  const generation = liveGeneration(indexDir);
  try {
    const folder = generation ? JSON.parse(readFileSync(join(indexDir, generation, 'manifest.json'), 'utf8'))?.model?.folder : null;
    return typeof folder === 'string' ? { model: { folder } } : null;
  } catch {
    return null;
  }
}

/** The live manifest, or null when there is no index yet. Throws a UserError when it is unreadable. */
export function readManifest(indexDir: string): Manifest | null {
  const generation = liveGeneration(indexDir);
  if (!generation) return null;
  const file = join(indexDir, generation, 'manifest.json');
  if (!existsSync(file)) throw new IndexDamagedError(`The index at ${indexDir} is damaged: ${generation}/manifest.json is missing`);
  // A generation's manifest is written once; a search reads it three times (model, staleness, load),
  // and a 41,000-file archive's takes a quarter of a second to parse.
  const { size, mtimeMs } = statSync(file);
  const key = `${resolve(file)}:${size}:${mtimeMs}`;
  const known = manifests.get(key);
  if (known) return known;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new IndexDamagedError(`The index at ${indexDir} is damaged: its manifest is not valid JSON`);
  }
  const version = (json as { formatVersion?: unknown })?.formatVersion;
  if (version !== FORMAT_VERSION) throw new IndexDamagedError(`The index at ${indexDir} is in format ${String(version)}; this version reads format ${FORMAT_VERSION}`);
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) throw new IndexDamagedError(`The index at ${indexDir} is damaged: its manifest is incomplete`);
  if (manifests.size >= 8) manifests.delete(manifests.keys().next().value!);
  manifests.set(key, parsed.data);
  return parsed.data;
}

/** Manifests already read, by file and stamp. */
const manifests = new Map<string, Manifest>();

/**
 * Why the live index does not serve the corpus, settings and model (including a manifest that is
 * damaged or from another format); null when there is no index.
 */
export async function indexStaleness(config: Config, model: Embedder, verify = false): Promise<{ reasons: string[] } | null> {
  let manifest: Manifest | null;
  try {
    manifest = await liveManifest(config);
  } catch (e) {
    if (e instanceof IndexDamagedError) return { reasons: [e.problem] };
    throw e;
  }
  if (!manifest) return null;
  const { sources } = await fingerprintCorpus(config.corpusDir, readOptions(config), verify ? undefined : knownFiles(manifest));
  return { reasons: staleReasons(manifest, manifestInputs(config, model, sources)) };
}

/**
 * Files added, changed or removed since the live index was built (by size and modification
 * time, hashing only what they say may have changed); none when there is no readable index.
 */
export async function corpusChanges(config: Config): Promise<FileChanges> {
  let manifest: Manifest | null = null;
  try {
    manifest = await liveManifest(config);
  } catch (e) {
    if (!(e instanceof IndexDamagedError)) throw e;
  }
  if (!manifest) return { added: [], changed: [], removed: [], catalog: null };
  const { sources } = await fingerprintCorpus(config.corpusDir, readOptions(config), knownFiles(manifest));
  return fileChanges(manifest.sources, sources);
}

/** Checks every artifact of the live index against its manifest (size and sha256); throws IndexDamagedError for anything it does not vouch for. */
export function verifyIndex(indexDir: string): Manifest {
  const manifest = readManifest(indexDir);
  if (!manifest) throw new UserError(`No index at ${indexDir}. Build one with: npm run build-index`, 'index_missing');
  const dir = join(indexDir, liveGeneration(indexDir)!);
  for (const name of ARTIFACTS) {
    const expected = manifest.artifacts[name];
    const file = join(dir, name);
    const actual = expected && existsSync(file) ? fileChecksum(file) : null;
    const problem = !expected
      ? 'is not listed in its manifest'
      : !actual
        ? 'is missing'
        : actual.bytes !== expected.bytes
          ? `has ${actual.bytes} bytes, the manifest says ${expected.bytes}`
          : actual.sha256 !== expected.sha256
            ? 'does not match its checksum'
            : null;
    if (problem) throw new IndexDamagedError(`The index at ${indexDir} is damaged: ${name} ${problem}`);
  }
  return manifest;
}

/** Loads the live index after checking every artifact against the manifest. */
export async function openIndex(indexDir: string): Promise<ArchiveIndex> {
  const manifest = verifyIndex(indexDir);
  const generation = liveGeneration(indexDir)!;
  // A generation's files are never rewritten (a build writes a new one), so what was checked is what is read below.
  const dir = join(indexDir, generation);
  let content: ReturnType<typeof readArtifacts>;
  try {
    content = readArtifacts(dir);
  } catch (e) {
    throw new IndexDamagedError(`The index at ${indexDir} is damaged: ${(e as Error).message}`);
  }
  const vectors = await VectorStore.load(join(dir, 'vectors.hnsw'), manifest.model.dim, content.labels, manifest.counts.vectorLabels, content.vectors);
  const { documents, chunks, lexical, contextLexical } = content;
  const store = new EmbeddedStore(vectors, lexical, contextLexical, chunks, generation);
  return assembleIndex(manifest, documents, chunks, store);
}
