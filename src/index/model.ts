import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import type { Config } from '../config.js';
import { builtinModelRecord, isCurrentBuiltinModel, loadEmbedder, loadModelFolder, trainBuiltinModel, trainedModelFolder, usesBuiltinModel, vocabularyCoverage, type Embedder } from '../embed/index.js';
import type { SourceDocument } from '../types.js';
import type { Manifest } from './manifest.js';

/** Where an archive keeps its built-in models: inside its index folder, so the archive is whole on its own. */
export const MODELS_DIR = 'models';

/** The out-of-vocabulary share of the corpus under the index's built-in model, as the manifest records it. */
export type ModelCoverage = NonNullable<Manifest['outOfVocabulary']>;

export interface ArchiveModel {
  embedder: Embedder;
  /** Why the model was trained by this build, and how long it took; null when the archive's model was kept. */
  trained: { reason: string; ms: number; reused: boolean } | null;
  /** Null for a model that is not the built-in one (subword tokenizers know every word). */
  coverage: ModelCoverage | null;
}

/** What choosing a model reads of an index's manifest (of any format: an upgrade keeps the model). */
export type ModelRecord = { model: { folder: string | null } };

/** The built-in model folder an index names, when it is there and of this version. */
function usableBuiltinFolder(config: Config, manifest: ModelRecord | null): string | null {
  const folder = manifest?.model.folder ? join(config.indexDir, manifest.model.folder) : null;
  return folder && isCurrentBuiltinModel(folder) ? folder : null;
}

/**
 * The model a live index embeds its queries with: for the built-in model, the one in the index's
 * folder that built it; otherwise the model the configuration names (shared by every archive).
 * Null when the index has no usable built-in model (a build trains one).
 */
export async function loadIndexModel(config: Config, manifest: Manifest | null): Promise<Embedder | null> {
  if (!usesBuiltinModel(config)) return loadEmbedder(config);
  const folder = usableBuiltinFolder(config, manifest);
  return folder ? loadModelFolder(folder, config) : null;
}

/** The folder of a built-in model relative to the index folder, as the manifest records it. */
export function modelFolderInIndex(config: Config, embedder: Pick<Embedder, 'folder' | 'vocabulary'>): string | null {
  if (!embedder.vocabulary || !embedder.folder) return null;
  return relative(resolve(config.indexDir), embedder.folder).split('\\').join('/');
}

/** Coverage of the corpus by a built-in model, with its training share from the model's record. */
export function modelCoverage(config: Config, embedder: Embedder, documents: Iterable<SourceDocument>): ModelCoverage | null {
  if (!embedder.vocabulary || !embedder.folder) return null;
  const atTraining = builtinModelRecord(embedder.folder)?.coverage.share ?? 0;
  return { ...vocabularyCoverage(documents, embedder.vocabulary), atTraining, retrainAbove: config.embedding.retrainAbove };
}

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * Chooses the model a build embeds with. The built-in model belongs to the archive: the first
 * build trains it on the corpus (into the index folder), later builds keep it, so unchanged
 * passages keep their vectors, until the corpus drifts from it (its out-of-vocabulary share grows
 * past retrainAbove) or a retrain is asked for; then a new model is trained beside the old one,
 * which stays until the new index is live. Any other configured model is loaded as it is.
 */
export async function chooseBuildModel(
  config: Config,
  documents: SourceDocument[],
  previous: ModelRecord | null,
  options: { retrain?: boolean; loaded?: Embedder; log: (message: string) => void },
): Promise<ArchiveModel> {
  if (!usesBuiltinModel(config)) {
    const embedder = options.loaded && !options.loaded.vocabulary ? options.loaded : await loadEmbedder(config);
    return { embedder, trained: null, coverage: null };
  }
  const folder = usableBuiltinFolder(config, previous);
  let reason: string;
  if (options.retrain) reason = 'a retrain was asked for';
  else if (!folder) reason = !previous ? 'this archive has no model yet' : previous.model.folder ? 'its model is missing or from an older version' : 'the index was built with another model';
  else {
    const embedder = options.loaded?.folder && resolve(options.loaded.folder) === resolve(folder) ? options.loaded : await loadModelFolder(folder, config);
    const coverage = modelCoverage(config, embedder, documents)!;
    if (coverage.share - coverage.atTraining <= coverage.retrainAbove) return { embedder, trained: null, coverage };
    reason = `the corpus has drifted from its model: ${percent(coverage.share)} of its words are unknown to it (${percent(coverage.atTraining)} when it was trained; the limit is ${percent(coverage.atTraining + coverage.retrainAbove)})`;
  }
  const modelsDir = join(config.indexDir, MODELS_DIR);
  // A build that trained this model and then died left it here: training again would write the same files.
  const reused = trainedModelFolder(documents, config.chunking, modelsDir).exists;
  if (reused) options.log(`A new model is needed (${reason}); using the model already trained on these documents.`);
  else options.log(`Training this archive's embedding model (${reason}) on ${documents.length} documents and WordNet; ${expectedTrainingTime(documents)}...`);
  const trained = await trainBuiltinModel(documents, config.chunking, modelsDir, options.log);
  if (!reused) options.log(`Model trained in ${(trained.ms / 1000).toFixed(0)} s: ${trained.folder}`);
  const embedder = await loadModelFolder(trained.folder, config);
  return { embedder, trained: { reason, ms: trained.ms, reused }, coverage: modelCoverage(config, embedder, documents) };
}

/** A rough forecast for the log, from measured training times on 2 cores (README: "The built-in model"). */
function expectedTrainingTime(documents: SourceDocument[]): string {
  let words = 0;
  for (const d of documents) words += d.text.length / 6;
  const seconds = 65 + Math.min(words, 3_000_000) * 4e-5;
  return `this takes about ${seconds < 90 ? 'a minute' : `${Math.round(seconds / 60)} minutes`} on 2 cores`;
}

/**
 * A built-in model given to a build from elsewhere (another archive's, in tests and tools) is
 * placed in this index's models folder, hard-linked where the file system allows, so the index
 * stays whole on its own. Returns the same model, located there.
 */
export function adoptModel(config: Config, embedder: Embedder): Embedder {
  if (!embedder.vocabulary || !embedder.folder) return embedder;
  const modelsDir = resolve(config.indexDir, MODELS_DIR);
  if (resolve(embedder.folder, '..') === modelsDir) return embedder;
  const target = join(modelsDir, basename(embedder.folder));
  if (!existsSync(join(target, 'config.json'))) {
    const tmp = `${target}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    linkTree(embedder.folder, tmp);
    renameSync(tmp, target);
  }
  return { ...embedder, folder: target };
}

/** Copies a folder, hard-linking its files where the file system allows (model files are never written in place). */
export function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from)) {
    const source = join(from, entry);
    const target = join(to, entry);
    if (statSync(source).isDirectory()) linkTree(source, target);
    else {
      try {
        linkSync(source, target);
      } catch {
        copyFileSync(source, target);
      }
    }
  }
}

/** Deletes the models of an index folder that its live manifest does not name (old models, and ones of builds that died). */
export function removeUnusedModels(indexDir: string, live: string | null): void {
  const dir = join(indexDir, MODELS_DIR);
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) if (`${MODELS_DIR}/${entry}` !== live) rmSync(join(dir, entry), { recursive: true, force: true });
}
