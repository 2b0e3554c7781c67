import { extractAnswer } from './answer/index.js';
import { UserError, type Config } from './config.js';
import { BUILTIN_MODEL, buildBuiltinModel, isBuiltinModelOutdated, isModelPresent, loadEmbedder, type Embedder } from './embed/index.js';
import { buildIndex, IndexDamagedError, listFiles, indexStaleness, openIndex, type ArchiveIndex, type BuildProgress, type BuildReport } from './index/index.js';
import { readCorpus, readOptions } from './ingest/index.js';
import { loadReranker, retrieve, SentenceCache, type Reranker } from './retrieve/index.js';
import type { SearchFilters, SearchResponse, SourceDocument } from './types.js';

/** A searchable archive: a loaded index and the model that embeds its queries. */
export interface Archive {
  readonly config: Config;
  readonly index: ArchiveIndex;
  readonly embedder: Embedder;
  /** The cross-encoder, when config.retrieval.rerank.model names one. */
  readonly reranker: Reranker | null;
  search(query: string, options?: { k?: number; filters?: SearchFilters }): Promise<SearchResponse>;
  document(id: string): SourceDocument | undefined;
  documents(): SourceDocument[];
  /** The same index and models searched with other settings (e.g. BM25 alone, for evaluation). */
  withConfig(config: Config): Archive;
  /** The same settings and models over another index (one just rebuilt). */
  withIndex(index: ArchiveIndex): Archive;
}

export interface PrepareHooks {
  log: (message: string) => void;
  progress?: BuildProgress;
  /** Embed every passage again instead of updating the live index. */
  full?: boolean;
  /** The live index, when it is loaded already (a running server). */
  previous?: ArchiveIndex;
}

/** Loads the embedding model, building the built-in one first when it is missing or was built by an older version. */
export async function ensureEmbedder(config: Config, hooks: PrepareHooks): Promise<Embedder> {
  const missing = !isModelPresent(config) && config.embedding.model === BUILTIN_MODEL;
  if (missing || isBuiltinModelOutdated(config)) {
    hooks.log(`The built-in model is ${missing ? 'missing' : 'from an older version'}; building it from ${config.corpusDir} and WordNet (about a minute)...`);
    const { folder, ms } = await buildBuiltinModel(config, (await readCorpus(config.corpusDir, readOptions(config))).documents, hooks.log);
    hooks.log(`Model written to ${folder} in ${(ms / 1000).toFixed(1)} s.`);
  }
  return loadEmbedder(config);
}

/**
 * What `npm start` does before serving: model present, index present and matching the corpus,
 * settings and model (rebuilt, with the reasons said, when not), then loaded.
 */
export async function prepareArchive(config: Config, hooks: PrepareHooks): Promise<Archive> {
  const embedder = await ensureEmbedder(config, hooks);
  const rebuilt = async () => createArchive(config, (await rebuild(config, embedder, hooks)).index, embedder, await loadReranker(config));
  const status = await indexStaleness(config, embedder.info);
  if (!status || status.reasons.length > 0) {
    hooks.log(status ? `The index is out of date: ${status.reasons.join('; ')}. Rebuilding...` : `No index at ${config.indexDir}; building it...`);
    return rebuilt();
  }
  try {
    return await openArchive(config, embedder);
  } catch (e) {
    // A damaged artifact is found only when loading; the corpus is the source of truth, so rebuild from it.
    if (!(e instanceof IndexDamagedError)) throw e;
    hooks.log(`${e.problem}. Rebuilding...`);
    return rebuilt();
  }
}

/** Builds the index and says what it indexed and skipped. */
export async function rebuild(config: Config, embedder: Embedder, hooks: PrepareHooks): Promise<BuildReport> {
  const report = await buildIndex(config, embedder, { onProgress: hooks.progress, full: hooks.full, previous: hooks.previous });
  for (const s of report.skipped) hooks.log(`skipped ${s.source}: ${s.reason}`);
  const { added, changed, removed } = report.changes;
  const what = ([[added, 'added'], [changed, 'changed'], [removed, 'removed']] as const).flatMap(([files, verb]) => (files.length ? [`${verb} ${listFiles(files)}`] : []));
  hooks.log(
    report.fullRebuild
      ? `Embedded all ${report.embedded} passages (${report.fullRebuild}).`
      : `Updated the index: ${what.join('; ') || 'no file changed'}; embedded ${report.embedded} of ${report.manifest.counts.chunks} passages, reused the rest.`,
  );
  const formats = Object.entries(report.formats).map(([ext, n]) => `${n} ${ext}`).join(', ');
  const skipped = report.skipped.length ? `; skipped ${report.skipped.length} file${report.skipped.length === 1 ? '' : 's'} (see above)` : '';
  hooks.log(`Indexed ${report.manifest.counts.documents} documents (${formats}) as ${report.manifest.counts.chunks} passages in ${(report.ms / 1000).toFixed(1)} s${skipped} (index ${report.manifest.id}).`);
  return report;
}

/** What a build did, as the CLI prints it and POST /api/reindex answers it. */
export function buildSummary(report: BuildReport) {
  const { manifest, changes, embedded, fullRebuild, skipped, ms } = report;
  return { index: manifest.id, documents: manifest.counts.documents, chunks: manifest.counts.chunks, embedded, fullRebuild, changes, skipped, ms };
}

/** Opens the live index as it is, without checking it against the corpus (the CLI's search and batch). */
export async function openArchive(config: Config, embedder?: Embedder): Promise<Archive> {
  const model = embedder ?? (await loadEmbedder(config));
  const index = await openIndex(config.indexDir);
  if (index.manifest.model.checksum !== model.info.checksum || index.manifest.model.dim !== model.info.dim) {
    throw new UserError(
      `The index at ${config.indexDir} was built with model ${index.manifest.model.id} (${index.manifest.model.checksum.slice(0, 12)}), not the configured ${model.info.id} (${model.info.checksum.slice(0, 12)}). Rebuild it with: npm run build-index`,
      'index_model_mismatch',
    );
  }
  return createArchive(config, index, model, await loadReranker(config));
}

function createArchive(config: Config, index: ArchiveIndex, embedder: Embedder, reranker: Reranker | null, sentences = new SentenceCache(embedder)): Archive {
  const sorted = [...index.documents.values()].sort((a, b) => (a.source < b.source ? -1 : 1));
  return {
    config,
    index,
    embedder,
    reranker,
    async search(query, options = {}) {
      const k = options.k ?? 10;
      const filters = options.filters ?? {};
      const unknown = (filters.docIds ?? []).filter((id) => !index.documents.has(id));
      if (unknown.length) throw new UserError(`Unknown document id(s): ${unknown.join(', ')}`, 'unknown_document');
      const hits = await retrieve({ index, embedder, reranker, sentences }, config, query, k, filters);
      return { query, answer: extractAnswer(hits, config), results: hits, index: index.manifest.id };
    },
    document: (id) => index.documents.get(id),
    documents: () => sorted,
    withConfig: (other) => createArchive(other, index, embedder, reranker, sentences),
    withIndex: (other) => createArchive(config, other, embedder, reranker),
  };
}
