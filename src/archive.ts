import { answerQuestion, loadAnswerModel, SentenceCache, shippedAnswerReader, WordVectors, type AnswerModel } from './answer/index.js';
import { UserError, type Config } from './config.js';
import type { Embedder } from './embed/index.js';
import { bySource } from './ingest/index.js';
import { buildIndex, checkIndex, describeChanges, IndexDamagedError, indexStaleness, listFiles, liveManifest, loadIndex, loadIndexModel, type ArchiveIndex, type BuildProgress, type BuildReport, type Manifest } from './index/index.js';
import { loadReranker, rankPassages, type Reranker } from './retrieve/index.js';
import { passageTimeline } from './retrieve/timeline.js';
import type { SearchFilters, SearchResponse, SourceDocument } from './types.js';

/** A searchable archive: a loaded index and the model that embeds its queries. */
export interface Archive {
  readonly config: Config;
  readonly index: ArchiveIndex;
  readonly embedder: Embedder;
  /** What re-orders the top passages: the cross-encoder config.retrieval.rerank.model names, or the answer reader. */
  readonly reranker: Reranker;
  /** Ranked passages and the answer; with `timeline`, also the query's matches by publication period. */
  search(query: string, options?: { k?: number; filters?: SearchFilters; timeline?: boolean }): Promise<SearchResponse>;
  document(id: string): SourceDocument | undefined;
  documents(): SourceDocument[];
  /** The same index and models searched with other settings (e.g. BM25 alone, for evaluation). */
  withConfig(config: Config): Archive;
  /** The same settings over another index (one just rebuilt) and the model it was built with. */
  withIndex(index: ArchiveIndex, embedder: Embedder): Archive;
}

export interface PrepareHooks {
  log: (message: string) => void;
  progress?: BuildProgress;
  /** Embed every passage again instead of updating the live index. */
  full?: boolean;
  /** Train the archive's built-in model again. */
  retrain?: boolean;
  /** The live index, when it is loaded already (a running server). */
  previous?: ArchiveIndex;
  /** The live index's model, when it is loaded already. */
  loaded?: Embedder;
  /** Hash every corpus file to check the index, even those whose size and modification time are unchanged. */
  verify?: boolean;
}

/** The live manifest, or the problem that makes it unreadable. */
async function readLive(config: Config): Promise<{ manifest: Manifest | null; problem: string | null }> {
  try {
    return { manifest: await liveManifest(config), problem: null };
  } catch (e) {
    if (e instanceof IndexDamagedError) return { manifest: null, problem: e.problem };
    throw e;
  }
}

/** A loaded index and the model it was built with. */
export interface LoadedIndex {
  index: ArchiveIndex;
  embedder: Embedder;
}

/**
 * What `npm start` does before serving: an index present and matching the corpus, settings and
 * model (built or updated, with the reasons said, when not; a new archive's first build trains
 * its model), then loaded.
 */
export async function prepareArchive(config: Config, hooks: PrepareHooks): Promise<Archive> {
  const { index, embedder } = await prepareIndex(config, hooks);
  return createArchive(config, index, embedder, await loadReranker(config));
}

/** prepareArchive without the search models on top: the index, up to date, and its model. */
export function prepareIndex(config: Config, hooks: PrepareHooks): Promise<LoadedIndex> {
  return upToDate(config, hooks, (embedder) => openLiveIndex(config, embedder), (report) => ({ index: report.index, embedder: report.embedder }));
}

/**
 * prepareIndex for a process that serves nothing itself (the primary of the server's workers):
 * the live index brought up to date and its files checked, but not kept loaded. Its manifest.
 */
export function prepareIndexFiles(config: Config, hooks: PrepareHooks): Promise<Manifest> {
  return upToDate(
    config,
    hooks,
    () => checkIndex(config),
    (report) => report.manifest,
  );
}

/**
 * The live index checked against the corpus, settings and model, and built or updated (with the
 * reasons said) when it does not match; then `load` (or, after a build, `built`) makes the result.
 * A damaged artifact is found only by `load`: the corpus is the source of truth, so it is rebuilt.
 */
async function upToDate<T>(config: Config, hooks: PrepareHooks, load: (embedder: Embedder) => Promise<T>, built: (report: BuildReport) => T): Promise<T> {
  const { manifest, problem } = await readLive(config);
  const embedder = problem ? null : await loadIndexModel(config, manifest);
  const rebuilt = async (why: string) => {
    hooks.log(why);
    return built(await rebuild(config, { ...hooks, loaded: embedder ?? undefined }));
  };
  if (problem) return rebuilt(`The index is out of date: ${problem}. Rebuilding...`);
  if (!manifest) return rebuilt(`No index at ${config.indexDir}; building it...`);
  if (!embedder) return rebuilt(`The index at ${config.indexDir} has no usable model (${manifest.model.folder ?? manifest.model.id}); rebuilding...`);
  const reasons = (await indexStaleness(config, embedder, hooks.verify))?.reasons ?? [];
  if (reasons.length) return rebuilt(`The index is out of date: ${reasons.join('; ')}. Rebuilding...`);
  try {
    return await load(embedder);
  } catch (e) {
    if (!(e instanceof IndexDamagedError)) throw e;
    return rebuilt(`${e.problem}. Rebuilding...`);
  }
}

/** Lists in the build's log stop after this many names: a 41,000-file build is summarised, not listed. */
const LISTED = 20;

/** Builds or updates the index (training the archive's model when it needs one) and says what it did. */
export async function rebuild(config: Config, hooks: PrepareHooks): Promise<BuildReport> {
  const report = await buildIndex(config, { onProgress: hooks.progress, log: hooks.log, full: hooks.full, retrain: hooks.retrain, previous: hooks.previous, loaded: hooks.loaded, verify: hooks.verify });
  for (const s of report.skipped.slice(0, LISTED)) hooks.log(`skipped ${s.source}: ${s.reason}`);
  if (report.skipped.length > LISTED) hooks.log(`... and ${report.skipped.length - LISTED} more skipped files`);
  const what = describeChanges(report.changes);
  hooks.log(
    report.fullRebuild
      ? `Embedded all ${report.embedded} passages (${report.fullRebuild}).`
      : `Updated the index: ${what.join('; ') || 'no file changed'}; embedded ${report.embedded} of ${report.manifest.counts.chunks} passages, reused the rest.`,
  );
  const { ocr } = report;
  if (ocr.pages) {
    const low = ocr.lowConfidence.map((p) => `${p.source} p. ${p.page} (${p.confidence})`);
    hooks.log(`Read ${ocr.pages} scanned page${ocr.pages === 1 ? '' : 's'} by OCR, mean confidence ${ocr.meanConfidence}${low.length ? `; ${low.length} under ${ocr.minConfidence}, worth checking: ${listFiles(low)}` : ''}.`);
  }
  const oov = report.manifest.outOfVocabulary;
  if (oov) hooks.log(`The model does not know ${percent(oov.share)} of the corpus' words (${percent(oov.atTraining)} when it was trained; it is retrained past ${percent(oov.atTraining + oov.retrainAbove)}).`);
  const formats = Object.entries(report.formats).map(([ext, n]) => `${n} ${ext}`).join(', ');
  const skipped = report.skipped.length ? `; skipped ${report.skipped.length} file${report.skipped.length === 1 ? '' : 's'} (see above)` : '';
  hooks.log(`Indexed ${report.manifest.counts.documents} documents (${formats}) as ${report.manifest.counts.chunks} passages in ${(report.ms / 1000).toFixed(1)} s${skipped} (index ${report.manifest.id}).`);
  return report;
}

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

/** At most LISTED names of a list, with its length: what a summary shows of added, changed, removed or skipped files. */
const firstOf = <T>(items: T[]) => ({ count: items.length, first: items.slice(0, LISTED) });

/** What a build did, as the CLI prints it and POST /api/reindex answers it. */
export function buildSummary(report: BuildReport) {
  const { manifest, changes, embedded, fullRebuild, skipped, ocr, trained, ms } = report;
  return {
    index: manifest.id,
    documents: manifest.counts.documents,
    chunks: manifest.counts.chunks,
    embedded,
    fullRebuild,
    model: { id: manifest.model.id, checksum: manifest.model.checksum, trained: trained ? { reason: trained.reason, ms: trained.ms } : null },
    outOfVocabulary: manifest.outOfVocabulary,
    changes: { added: firstOf(changes.added), changed: firstOf(changes.changed), removed: firstOf(changes.removed), catalog: changes.catalog },
    skipped: firstOf(skipped),
    ocr: { pages: ocr.pages, meanConfidence: ocr.meanConfidence, lowConfidence: firstOf(ocr.lowConfidence) },
    ms,
  };
}

/** Opens the live index as it is, without checking it against the corpus (the CLI's search and batch). */
export async function openArchive(config: Config, embedder?: Embedder): Promise<Archive> {
  const live = await openLiveIndex(config, embedder);
  return createArchive(config, live.index, live.embedder, await loadReranker(config));
}

/** The live index and its model (the given one, checked against the index, or the one the index names). */
async function openLiveIndex(config: Config, embedder?: Embedder): Promise<LoadedIndex> {
  const index = await loadIndex(config);
  const model = embedder ?? (await loadIndexModel(config, index.manifest));
  if (!model) {
    throw new UserError(`The index at ${config.indexDir} names a model that is missing or from an older version (${index.manifest.model.folder}). Rebuild it with: npm run build-index`, 'model_missing');
  }
  if (index.manifest.model.checksum !== model.info.checksum || index.manifest.model.dim !== model.info.dim) {
    throw new UserError(
      `The index at ${config.indexDir} was built with model ${index.manifest.model.id} (${index.manifest.model.checksum.slice(0, 12)}), not the configured ${model.info.id} (${model.info.checksum.slice(0, 12)}). Rebuild it with: npm run build-index`,
      'index_model_mismatch',
    );
  }
  return { index, embedder: model };
}

function createArchive(config: Config, index: ArchiveIndex, embedder: Embedder, reranker: Reranker, sentences = new SentenceCache(embedder), answers: AnswerModel = loadAnswerModel(config), wordVectors = new WordVectors(embedder)): Archive {
  const idf = (term: string) => index.store.idf(term);
  // Loaded as the archive opens (once per process), so the first search does not pay for it.
  const network = shippedAnswerReader();
  const sorted = [...index.documents.values()].sort(bySource);
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
      const [{ passages, answerPassages, queryVector }, timeline] = await Promise.all([rankPassages({ index, embedder, reranker }, config, query, k, filters), options.timeline ? passageTimeline(index, query, filters) : undefined]);
      const { results, answer } = await answerQuestion({ sentences, words: wordVectors, idf, network }, answers, config, query, queryVector, passages, answerPassages);
      return { query, answer, results, ...(timeline ? { timeline } : {}), index: index.manifest.id };
    },
    document: (id) => index.documents.get(id),
    documents: () => sorted,
    withConfig: (other) => createArchive(other, index, embedder, reranker, sentences, other.answer.model === config.answer.model ? answers : loadAnswerModel(other), wordVectors),
    withIndex: (other, model) => createArchive(config, other, model, reranker, undefined, answers),
  };
}
