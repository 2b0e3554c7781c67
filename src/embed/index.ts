import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { env, pipeline, Tensor, type FeatureExtractionPipeline } from '@xenova/transformers';
import type { Config } from '../config.js';
import { UserError } from '../config.js';

export { BUILTIN_MODEL, builtinModelRecord, isCurrentBuiltinModel, trainBuiltinModel, trainedModelFolder, trainingKey, type BuiltinModelRecord } from './builtinModel.js';
export { trainable, vocabularyCoverage, type VocabularyCoverage } from './vocabulary.js';
export { setInferenceThreads } from './threads.js';

import { BUILTIN_MODEL, builtinModelRecord } from './builtinModel.js';

/** Prefixes known models were trained with; config.embedding.queryPrefix/passagePrefix override them. */
const KNOWN_PREFIXES: Array<{ match: RegExp; query: string; passage: string }> = [
  { match: /bge-.*-en/i, query: 'Represent this sentence for searching relevant passages: ', passage: '' },
  { match: /e5-/i, query: 'query: ', passage: 'passage: ' },
  { match: /nomic-embed/i, query: 'search_query: ', passage: 'search_document: ' },
];

/** What an index must agree with: model id, checksum of its files, vector size and prefixes. */
export interface EmbedderInfo {
  id: string;
  checksum: string;
  dim: number;
  queryPrefix: string;
  passagePrefix: string;
}

export interface Embedder {
  readonly info: EmbedderInfo;
  /** The folder its files were loaded from (null for a model streamed from the hub). */
  readonly folder: string | null;
  /**
   * The whole words the built-in model has vectors for (any other word is unknown to it and adds
   * nothing to a text's vector); null for other models, whose subword tokenizers read every word.
   */
  readonly vocabulary: ReadonlySet<string> | null;
  /** Unit-length vectors, one per text; `onProgress` hears how many are done after each model call. */
  embed(texts: string[], kind: 'query' | 'passage', onProgress?: (done: number) => void): Promise<Float32Array[]>;
  /** Unit-length vectors of single words (zero for a word the model does not know). */
  embedWords(words: string[]): Promise<Float32Array[]>;
}

/** Dot product of two vectors: the cosine similarity of unit ones (every model here gives unit vectors). */
export const dot = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** True when the configuration asks for the built-in model, which every archive trains for itself. */
export const usesBuiltinModel = (config: Config) => config.embedding.model === BUILTIN_MODEL;

/** sha256 over the model's files, so an index notices when the model under it changed. */
function checksumModel(folder: string, quantized: boolean): string {
  const hash = createHash('sha256');
  const files = ['config.json', 'tokenizer.json', 'tokenizer_config.json', join('onnx', quantized ? 'model_quantized.onnx' : 'model.onnx')];
  for (const file of files) if (existsSync(join(folder, file))) hash.update(file).update(readFileSync(join(folder, file)));
  return hash.digest('hex');
}

let loads: Promise<unknown> = Promise.resolve();

/**
 * Runs `load` with transformers.js looking for model folders in `modelsDir`. Its settings are
 * global, so loads run one at a time: two archives' models loaded at once would otherwise read
 * each other's folder.
 */
export function loadFromModelsDir<T>(modelsDir: string, allowRemoteModels: boolean, load: () => Promise<T>): Promise<T> {
  const run = loads.then(() => {
    env.allowLocalModels = true;
    env.localModelPath = resolve(modelsDir) + '/';
    env.allowRemoteModels = allowRemoteModels;
    return load();
  });
  loads = run.catch(() => {});
  return run;
}

/**
 * The tokenizer's ids for each text ([CLS] ... [SEP], cut at the model's maximum length), as
 * right-padded int64 tensors. The tokenizer's own batch call builds the same tensors through
 * per-element BigInt arrays, which was a third of a query's tokenizing time.
 */
function tokenize(extractor: FeatureExtractionPipeline, texts: string[]): { input_ids: Tensor; attention_mask: Tensor } {
  const { tokenizer } = extractor;
  const ids = texts.map((t) => tokenizer.encode(t).slice(0, tokenizer.model_max_length));
  const length = Math.max(...ids.map((row) => row.length));
  const inputIds = new BigInt64Array(texts.length * length).fill(BigInt(tokenizer.pad_token_id));
  const mask = new BigInt64Array(texts.length * length);
  ids.forEach((row, b) => row.forEach((id, t) => {
    inputIds[b * length + t] = BigInt(id);
    mask[b * length + t] = 1n;
  }));
  const dims = [texts.length, length];
  return { input_ids: new Tensor('int64', inputIds, dims), attention_mask: new Tensor('int64', mask, dims) };
}

/**
 * Mean pooling over the attention mask, then unit length: what the feature-extraction pipeline's
 * `pooling: 'mean', normalize: true` computes, done on the raw arrays because the pipeline's
 * element-by-element tensor access took most of the query time.
 */
async function embedBatch(extractor: FeatureExtractionPipeline, texts: string[]): Promise<Float32Array[]> {
  const inputs = tokenize(extractor, texts);
  const { last_hidden_state: hidden } = await extractor.model(inputs);
  const [batch, length, dim] = hidden.dims as number[];
  const data = hidden.data as Float32Array;
  const mask = inputs.attention_mask.data as BigInt64Array;
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const vector = new Float32Array(dim);
    let tokens = 0;
    for (let t = 0; t < length; t++) {
      if (mask[b * length + t] === 0n) continue;
      tokens++;
      const row = (b * length + t) * dim;
      for (let d = 0; d < dim; d++) vector[d] += data[row + d];
    }
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += vector[d] * vector[d];
    // A text with no known word pools to a zero vector; it stays zero instead of becoming NaN.
    const scale = tokens > 0 && norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < dim; d++) vector[d] *= scale;
    out.push(vector);
  }
  return out;
}

/**
 * A feature-extraction model through transformers.js' standard path: `name` is a folder under
 * `modelsDir` (config.json, tokenizer.json, onnx/model.onnx), or a hub id when remote models are
 * allowed. Mean pooling, normalised (embedBatch).
 */
async function openModel(modelsDir: string, name: string, id: string, config: Config, allowRemoteModels: boolean): Promise<Embedder> {
  const { quantized, batchSize } = config.embedding;
  const folder = resolve(modelsDir, name);
  const local = existsSync(join(folder, 'config.json'));
  let extractor: FeatureExtractionPipeline;
  try {
    extractor = await loadFromModelsDir(modelsDir, allowRemoteModels, () => pipeline('feature-extraction', name, { quantized }));
  } catch (e) {
    throw new UserError(`Could not load embedding model "${name}" from ${folder}: ${(e as Error).message}`, 'model_invalid');
  }
  const known = KNOWN_PREFIXES.find((p) => p.match.test(name));
  const queryPrefix = config.embedding.queryPrefix ?? known?.query ?? '';
  const passagePrefix = config.embedding.passagePrefix ?? known?.passage ?? '';
  const [probe] = await embedBatch(extractor, ['dimension probe']);
  const builtin = local && builtinModelRecord(folder) !== null;
  // The built-in tokenizer holds whole words only (see bertTokenizerJson); its specials are not words.
  const tokens = (extractor.tokenizer as unknown as { model: { tokens_to_ids: Map<string, number> } }).model.tokens_to_ids;
  const vocabulary = builtin ? new Set([...tokens.keys()].filter((t) => !/^\[[A-Z]+\]$/.test(t))) : null;
  const embed: Embedder['embed'] = async (texts, kind, onProgress) => {
    const prefix = kind === 'query' ? queryPrefix : passagePrefix;
    // Texts of similar length share a batch: every text is padded to the batch's longest, and the
    // model computes (and returns) the padding too. So callers hand over all their texts at once.
    const order = texts.map((_, i) => i).sort((a, b) => texts[a].length - texts[b].length || a - b);
    const out = new Array<Float32Array>(texts.length);
    for (let i = 0; i < order.length; i += batchSize) {
      const batch = order.slice(i, i + batchSize);
      const vectors = await embedBatch(extractor, batch.map((t) => prefix + texts[t]));
      batch.forEach((t, n) => (out[t] = vectors[n]));
      onProgress?.(Math.min(i + batchSize, texts.length));
    }
    return out;
  };
  return {
    info: { id, checksum: local ? checksumModel(folder, quantized) : `remote:${name}`, dim: probe.length, queryPrefix, passagePrefix },
    folder: local ? folder : null,
    vocabulary,
    embed,
    // The built-in model's tokenizer holds whole words, so a word's vector is its own row: one
    // model call for all the words, ids looked up directly (the tokenizer was most of the cost).
    embedWords: vocabulary
      ? async (words) => {
          if (!words.length) return [];
          const ids = BigInt64Array.from(words, (w) => BigInt(tokens.get(w) ?? tokens.get('[UNK]') ?? 0));
          const { last_hidden_state: hidden } = await extractor.model({ input_ids: new Tensor('int64', ids, [words.length, 1]), attention_mask: new Tensor('int64', new BigInt64Array(words.length).fill(1n), [words.length, 1]) });
          const data = hidden.data as Float32Array;
          const dim = data.length / words.length;
          return words.map((_, i) => {
            const v = data.slice(i * dim, (i + 1) * dim);
            let norm = 0;
            for (const x of v) norm += x * x;
            if (norm > 0) for (let d = 0; d < dim; d++) v[d] /= Math.sqrt(norm);
            return v;
          });
        }
      : (words) => embed(words, 'passage'),
  };
}

/**
 * The model config.embedding.model names (any transformers.js feature-extraction model: a folder
 * under embedding.modelsDir, or the hub when the user allowed remote models). It is shared by every
 * archive that names it; the built-in model is not loaded here but from its archive (loadModelFolder).
 */
export async function loadEmbedder(config: Config): Promise<Embedder> {
  const { model, modelsDir, allowRemoteModels } = config.embedding;
  if (model === BUILTIN_MODEL) throw new Error('the built-in model belongs to an archive: load it from the index (loadModelFolder)');
  const folder = resolve(modelsDir, model);
  if (!existsSync(join(folder, 'config.json')) && !allowRemoteModels) {
    throw new UserError(`Model "${model}" was not found at ${folder}, and remote models are off. Copy the model folder there, or set embedding.allowRemoteModels.`, 'model_missing');
  }
  return openModel(modelsDir, model, model, config, allowRemoteModels);
}

/** A model folder on disk (an archive's built-in model), through the same transformers.js path. */
export async function loadModelFolder(folder: string, config: Config): Promise<Embedder> {
  if (!existsSync(join(folder, 'config.json'))) throw new UserError(`The model folder ${folder} is missing or incomplete.`, 'model_missing');
  return openModel(dirname(folder), basename(folder), BUILTIN_MODEL, config, false);
}
