import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { chunkDocument } from '../chunk/index.js';
import { UserError, type Config } from '../config.js';
import type { Embedder } from '../embed/index.js';
import { extensionOf, fingerprintCorpus, readCorpus, readOptions } from '../ingest/index.js';
import type { Chunk, SourceDocument } from '../types.js';
import { LexicalIndex } from './lexicalIndex.js';
import { ARTIFACTS, FORMAT_VERSION, ManifestSchema, manifestId, staleReasons, type Manifest, type ManifestInputs } from './manifest.js';
import { writeFileAtomic } from './storage.js';
import { VectorStore } from './vectorStore.js';

export { type Manifest } from './manifest.js';
export { VectorStore } from './vectorStore.js';
export { LexicalIndex } from './lexicalIndex.js';

/** A loaded index: documents, their chunks, and both search structures over the chunks (label = chunk id). */
export interface ArchiveIndex {
  manifest: Manifest;
  documents: Map<string, SourceDocument>;
  chunks: Chunk[];
  vectors: VectorStore;
  /** BM25 over passages (label = chunk id). */
  lexical: LexicalIndex;
  /** BM25 over each passage with its neighbours in the same document (label = chunk id). */
  contextLexical: LexicalIndex;
}

export interface BuildProgress {
  (stage: 'embed', done: number, total: number): void;
}

export interface BuildReport {
  manifest: Manifest;
  skipped: Array<{ source: string; reason: string }>;
  /** Documents indexed per file extension (".pdf": 3), for the build's summary. */
  formats: Record<string, number>;
  ms: number;
}

/** An index that cannot be loaded as it is; `problem` says what is wrong, the message adds how to rebuild. */
export class IndexDamagedError extends UserError {
  constructor(readonly problem: string) {
    super(`${problem}. Rebuild it with: npm run build-index`, 'index_damaged');
  }
}

/** The file naming the live generation; swapping it by rename is what makes a new index live. */
const CURRENT = 'CURRENT';

const StoredDocumentsSchema = z.object({
  documents: z.array(z.object({ id: z.string(), source: z.string(), title: z.string(), date: z.string().nullable(), publisher: z.string().nullable(), url: z.string().nullable(), text: z.string(), pageStarts: z.array(z.number().int().min(0)).optional() })),
  chunks: z.array(z.tuple([z.string(), z.number().int(), z.number().int()])),
});

export function manifestInputs(config: Config, model: Embedder['info'], sources: Record<string, string>): ManifestInputs {
  return {
    model: { ...model, titleInPassage: config.embedding.titleInPassage },
    chunking: { ...config.chunking },
    lexical: { ...config.retrieval.bm25 },
    sources,
  };
}

const sha256File = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * Builds a complete index into a new generation folder, writes its manifest last, then points
 * CURRENT at it with one rename. A crash at any moment leaves the previous generation live.
 */
export async function buildIndex(config: Config, embedder: Embedder, onProgress?: BuildProgress): Promise<BuildReport> {
  const started = Date.now();
  const { documents, skipped, sources } = await readCorpus(config.corpusDir, readOptions(config));
  const chunks: Chunk[] = documents.flatMap((d) => chunkDocument(d, config.chunking)).map((c, id) => ({ ...c, id }));
  const byId = new Map(documents.map((d) => [d.id, d]));
  const vectors: Float32Array[] = [];
  const step = config.embedding.batchSize;
  for (let i = 0; i < chunks.length; i += step) {
    vectors.push(...(await embedder.embed(chunks.slice(i, i + step).map((c) => passageText(c, byId.get(c.docId)!, config)), 'passage')));
    onProgress?.('embed', Math.min(i + step, chunks.length), chunks.length);
  }
  if (chunks.length === 0) onProgress?.('embed', 0, 0);

  const inputs = manifestInputs(config, embedder.info, sources);
  const id = manifestId(inputs);
  mkdirSync(config.indexDir, { recursive: true });
  const generation = `g-${id}-${Date.now().toString(36)}`;
  const dir = join(config.indexDir, generation);
  mkdirSync(dir);
  const stored = { documents, chunks: chunks.map((c) => [c.docId, c.start, c.end]) };
  writeFileAtomic(join(dir, 'documents.json'), JSON.stringify(stored));
  writeFileAtomic(join(dir, 'bm25.json'), LexicalIndex.create(chunks.map((c) => c.text), config.retrieval.bm25).serialize());
  writeFileAtomic(join(dir, 'bm25-context.json'), LexicalIndex.create(contextTexts(chunks, byId), config.retrieval.bm25).serialize());
  await VectorStore.create(vectors, embedder.info.dim).save(join(dir, 'vectors.hnsw'));
  const artifacts = Object.fromEntries(ARTIFACTS.map((name) => [name, { bytes: statSync(join(dir, name)).size, sha256: sha256File(join(dir, name)) }]));
  const manifest: Manifest = { formatVersion: FORMAT_VERSION, id, createdAt: new Date().toISOString(), ...inputs, counts: { documents: documents.length, chunks: chunks.length }, artifacts };
  writeFileAtomic(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  writeFileAtomic(join(config.indexDir, CURRENT), generation + '\n');
  removeOtherGenerations(config.indexDir, generation);
  const formats: Record<string, number> = {};
  for (const d of documents) formats[extensionOf(d.source)] = (formats[extensionOf(d.source)] ?? 0) + 1;
  return { manifest, skipped, formats: Object.fromEntries(Object.entries(formats).sort()), ms: Date.now() - started };
}

/** What is embedded for a passage: its text, after its document's title when configured (and not already there). */
function passageText(chunk: Chunk, doc: SourceDocument, config: Config): string {
  return config.embedding.titleInPassage && !chunk.text.startsWith(doc.title) ? `${doc.title}. ${chunk.text}` : chunk.text;
}

/** Each passage with the passages before and after it in its document (an abstract of three passages is whole). */
function contextTexts(chunks: Chunk[], documents: Map<string, SourceDocument>): string[] {
  return chunks.map((chunk, i) => {
    const before = chunks[i - 1]?.docId === chunk.docId ? chunks[i - 1].start : chunk.start;
    const after = chunks[i + 1]?.docId === chunk.docId ? chunks[i + 1].end : chunk.end;
    return documents.get(chunk.docId)!.text.slice(before, after);
  });
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

/** The live manifest, or null when there is no index yet. Throws a UserError when it is unreadable. */
export function readManifest(indexDir: string): Manifest | null {
  const generation = liveGeneration(indexDir);
  if (!generation) return null;
  const file = join(indexDir, generation, 'manifest.json');
  if (!existsSync(file)) throw new IndexDamagedError(`The index at ${indexDir} is damaged: ${generation}/manifest.json is missing`);
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
  return parsed.data;
}

/**
 * Why the live index does not serve the corpus, settings and model (including a manifest that is
 * damaged or from another format); null when there is no index.
 */
export async function indexStaleness(config: Config, model: Embedder['info']): Promise<{ reasons: string[] } | null> {
  let manifest: Manifest | null;
  try {
    manifest = readManifest(config.indexDir);
  } catch (e) {
    if (e instanceof IndexDamagedError) return { reasons: [e.problem] };
    throw e;
  }
  if (!manifest) return null;
  return { reasons: staleReasons(manifest, manifestInputs(config, model, await fingerprintCorpus(config.corpusDir, readOptions(config)))) };
}

/** Loads the live index after checking every artifact against the manifest; refuses anything it does not vouch for. */
export async function openIndex(indexDir: string): Promise<ArchiveIndex> {
  const manifest = readManifest(indexDir);
  if (!manifest) throw new UserError(`No index at ${indexDir}. Build one with: npm run build-index`, 'index_missing');
  const dir = join(indexDir, liveGeneration(indexDir)!);
  for (const name of ARTIFACTS) {
    const expected = manifest.artifacts[name];
    const file = join(dir, name);
    const problem = !expected
      ? 'is not listed in its manifest'
      : !existsSync(file)
      ? 'is missing'
      : statSync(file).size !== expected.bytes
        ? `has ${statSync(file).size} bytes, the manifest says ${expected.bytes}`
        : sha256File(file) !== expected.sha256
          ? 'does not match its checksum'
          : null;
    if (problem) throw new IndexDamagedError(`The index at ${indexDir} is damaged: ${name} ${problem}`);
  }
  const stored = StoredDocumentsSchema.parse(JSON.parse(readFileSync(join(dir, 'documents.json'), 'utf8')));
  const documents = new Map(stored.documents.map((d) => [d.id, d]));
  const chunks = stored.chunks.map(([docId, start, end], id) => ({ id, docId, start, end, text: documents.get(docId)!.text.slice(start, end) }));
  const lexical = LexicalIndex.load(readFileSync(join(dir, 'bm25.json'), 'utf8'));
  const contextLexical = LexicalIndex.load(readFileSync(join(dir, 'bm25-context.json'), 'utf8'));
  const vectors = await VectorStore.load(join(dir, 'vectors.hnsw'), manifest.model.dim, chunks.length);
  return { manifest, documents, chunks, vectors, lexical, contextLexical };
}
