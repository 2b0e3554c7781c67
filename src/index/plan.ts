import type { Config } from '../config.js';
import { groupBy } from '../group.js';
import type { Embedder, EmbedderInfo } from '../embed/index.js';
import { extensionOf, readCorpus, readOptions, sectionAt, type CorpusReadResult, type KnownFiles } from '../ingest/index.js';
import type { Chunk, SourceDocument } from '../types.js';
import type { ArchiveIndex, BuildOptions } from './types.js';
import type { Manifest, ManifestInputs } from './manifest.js';
import type { PassageStore } from './store.js';
import { adoptModel, chooseBuildModel, modelCoverage, modelFolderInIndex, type ArchiveModel, type ModelCoverage, type ModelRecord } from './model.js';

/**
 * What every build starts from, whichever store it writes: the corpus as read now (unchanged files
 * keep their documents), the model to embed with (trained when the archive needs one), and whether
 * the live index can be updated or every passage must be embedded again.
 */
export interface BuildInputs extends CorpusReadResult {
  model: ArchiveModel;
  coverage: ModelCoverage | null;
  inputs: ManifestInputs;
  /** Why every passage is embedded again; null when the live index is updated. */
  fullReason: string | null;
}

export async function readBuildInputs(config: Config, options: BuildOptions, previous: ArchiveIndex | null, previousModel: ModelRecord | null): Promise<BuildInputs> {
  // A file whose bytes (and the catalog) are unchanged keeps its extracted text, unless a full rebuild was asked for.
  const onOcrProgress = options.onProgress ? (done: number, queued: number) => options.onProgress!('ocr', done, queued) : undefined;
  const corpus = await readCorpus(config.corpusDir, readOptions(config, onOcrProgress), previous && !options.full ? { ...knownFiles(previous.manifest), documents: previous.documentsBySource, verify: options.verify } : undefined);
  const model: ArchiveModel = options.embedder
    ? { embedder: adoptModel(config, options.embedder), trained: null, coverage: null }
    : await chooseBuildModel(config, corpus.documents, previousModel, { retrain: options.retrain, loaded: options.loaded, log: options.log ?? (() => {}) });
  const coverage = model.coverage ?? modelCoverage(config, model.embedder, corpus.documents);
  const inputs = manifestInputs(config, model.embedder, corpus.sources);
  return { ...corpus, model, coverage, inputs, fullReason: fullRebuildReason(previous, inputs, options.full, model.trained) };
}

/** What a manifest knows of the files it was built from, for reading only what changed since. */
export const knownFiles = (manifest: Manifest): KnownFiles => ({ sources: manifest.sources, stamps: manifest.stamps, writtenAt: Date.parse(manifest.createdAt) });

/** An index from its parts, with the lookups it keeps beside its lists (documents by id and source, each document's chunks). */
export function assembleIndex(manifest: Manifest, documents: SourceDocument[], chunks: Chunk[], store: PassageStore): ArchiveIndex {
  const chunksByDoc = groupBy(chunks, (c) => c.docId);
  return { manifest, documents: new Map(documents.map((d) => [d.id, d])), chunks, store, documentsBySource: new Map(documents.map((d) => [d.source, d])), chunksByDoc };
}

/** Documents indexed per file extension (".pdf": 3), for the build's summary. */
export function formatsOf(documents: SourceDocument[]): Record<string, number> {
  const formats: Record<string, number> = {};
  for (const d of documents) formats[extensionOf(d.source)] = (formats[extensionOf(d.source)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(formats).sort());
}

export function manifestInputs(config: Config, embedder: Pick<Embedder, 'info' | 'folder' | 'vocabulary'>, sources: Record<string, string>): ManifestInputs {
  const info: EmbedderInfo = embedder.info;
  return {
    model: { ...info, titleInPassage: config.embedding.titleInPassage, folder: modelFolderInIndex(config, embedder) },
    chunking: { ...config.chunking },
    lexical: { ...config.retrieval.bm25 },
    sources,
  };
}

/** Why the live index cannot be updated in place (so every passage is embedded again); null when it can. */
function fullRebuildReason(previous: ArchiveIndex | null, inputs: ManifestInputs, full: boolean | undefined, trained: ArchiveModel['trained']): string | null {
  if (full) return 'a full rebuild was asked for';
  if (!previous) return 'there is no readable index to update';
  if (trained && previous.manifest.model.checksum !== inputs.model.checksum) return `the model was trained again: ${trained.reason}`;
  const built = previous.manifest;
  if (JSON.stringify(built.model) !== JSON.stringify(inputs.model)) return 'the model or its settings changed';
  if (JSON.stringify(built.chunking) !== JSON.stringify(inputs.chunking)) return 'the chunking settings changed';
  return null;
}

/** What is embedded for a passage: its text, after its document's title when configured (and not already there). */
export function passageText(chunk: Chunk, doc: SourceDocument, config: Config): string {
  return config.embedding.titleInPassage && !chunk.text.startsWith(doc.title) ? `${doc.title}. ${chunk.text}` : chunk.text;
}

/**
 * Each passage with the passages before and after it in its document (an abstract of three
 * passages is whole) and the headings it stands under; empty where `skip` says its terms are reused.
 */
export function contextTexts(chunks: Chunk[], documents: Map<string, SourceDocument>, skip: Array<number | null> | null): string[] {
  return chunks.map((chunk, i) => {
    if (skip?.[i] != null) return '';
    const doc = documents.get(chunk.docId)!;
    const before = chunks[i - 1]?.docId === chunk.docId ? chunks[i - 1].start : chunk.start;
    const after = chunks[i + 1]?.docId === chunk.docId ? chunks[i + 1].end : chunk.end;
    const section = sectionAt(doc, chunk.start);
    return section ? `${section}\n\n${doc.text.slice(before, after)}` : doc.text.slice(before, after);
  });
}
