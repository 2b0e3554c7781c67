import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { env, pipeline, Tensor, type FeatureExtractionPipeline } from '@xenova/transformers';
import type { Config } from '../config.js';
import { UserError } from '../config.js';
import { LRUCache } from 'lru-cache';

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
    for (let t = 0; t < length; t++) {
      if (mask[b * length + t] === 0n) continue;
      const row = (b * length + t) * dim;
      for (let d = 0; d < dim; d++) vector[d] += data[row + d];
    }
    out.push(normalizeInPlace(vector));
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
  const prefixed = (texts: string[], kind: 'query' | 'passage') => {
    const prefix = kind === 'query' ? queryPrefix : passagePrefix;
    return prefix ? texts.map((t) => prefix + t) : texts;
  };
  const info = { id, checksum: local ? checksumModel(folder, quantized) : `remote:${name}`, dim: probe.length, queryPrefix, passagePrefix };
  if (builtin) {
    const words = wholeWordModel(extractor, probe.length);
    return {
      info,
      folder,
      vocabulary,
      embed: async (texts, kind, onProgress) => {
        const all = prefixed(texts, kind);
        const out: Float32Array[] = [];
        for (let i = 0; i < all.length; i += batchSize) {
          out.push(...(await words.embed(all.slice(i, i + batchSize))));
          onProgress?.(Math.min(i + batchSize, all.length));
        }
        return out;
      },
      embedWords: (list) => words.embedWords(list),
    };
  }
  const embed: Embedder['embed'] = async (texts, kind, onProgress) => {
    const all = prefixed(texts, kind);
    // Texts of similar length share a batch: every text is padded to the batch's longest, and the
    // model computes (and returns) the padding too. So callers hand over all their texts at once.
    const order = all.map((_, i) => i).sort((a, b) => all[a].length - all[b].length || a - b);
    const out = new Array<Float32Array>(all.length);
    for (let i = 0; i < order.length; i += batchSize) {
      const batch = order.slice(i, i + batchSize);
      const vectors = await embedBatch(extractor, batch.map((t) => all[t]));
      batch.forEach((t, n) => (out[t] = vectors[n]));
      onProgress?.(Math.min(i + batchSize, all.length));
    }
    return out;
  };
  return { info, folder: local ? folder : null, vocabulary, embed, embedWords: (words) => embed(words, 'passage') };
}

/** Scales `vector` to unit length in place (a text with no known word pools to zero, and stays zero instead of becoming NaN). */
function normalizeInPlace(vector: Float32Array): Float32Array {
  let norm = 0;
  for (let d = 0; d < vector.length; d++) norm += vector[d] * vector[d];
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let d = 0; d < vector.length; d++) vector[d] *= scale;
  return vector;
}

/** Printable ASCII but "[" (which opens the tokenizer's special tokens): a piece of text read without the tokenizer. */
const PLAIN_PIECE = /^[\x21-\x5a\x5c-\x7e]+$/;
/** The BERT pre-tokenizer's split of lower-cased printable ASCII: runs of letters and digits, and each other character alone. */
const PLAIN_WORDS = /[0-9a-z]+|[^0-9a-z]/g;

/**
 * The built-in model read word by word, giving the same vectors as embedBatch to the bit: its
 * tokenizer holds whole words (bertTokenizerJson) and its network is a row lookup (onnxStaticModel),
 * so a text's vector is the mean of its words' rows. A space-separated piece of text tokenizes the
 * same on its own as inside the text (the normalizer works character by character, the
 * pre-tokenizer splits at whitespace). A piece of printable ASCII is read here: lower-cased, split
 * at punctuation, each word its id or [UNK] (with no "##" pieces in the vocabulary, WordPiece finds
 * a whole word or nothing); any other piece goes through the tokenizer, whose per-call overhead
 * (17 us a piece) is why pieces are not all sent to it. Each row is fetched from the model once, the
 * first time a text uses it. Tokenizing every sentence anew and pooling padded batches were most of
 * a query's sentence step (tests/model.test.ts compares with the transformers.js pipeline).
 */
function wholeWordModel(extractor: FeatureExtractionPipeline, dim: number) {
  const { tokenizer } = extractor;
  const [open, close] = tokenizer.encode('');
  const maxLength = tokenizer.model_max_length;
  const wordPiece = tokenizer.model as unknown as { vocab: string[]; tokens_to_ids: Map<string, number>; unk_token_id: number; max_input_chars_per_word: number };
  const { vocab, tokens_to_ids: tokens, unk_token_id: unknown } = wordPiece;
  const plainAllowed = !vocab.some((t) => t.startsWith('##'));
  // Pieces the tokenizer read (accented or other non-ASCII text), kept: 20,000 are a few MB.
  const pieces = new LRUCache<string, number[]>({ max: 20_000 });
  // Filled as rows are first used; bounded by the vocabulary (80,000 rows of 256 floats at most: 80 MB,
  // of which only the pages of rows used are ever touched).
  const rows = new Float32Array(vocab.length * dim);
  const loaded = new Uint8Array(vocab.length);

  const idsOf = (text: string): number[] => {
    const ids = [open];
    for (const piece of text.split(' ')) {
      if (!piece) continue;
      if (plainAllowed && PLAIN_PIECE.test(piece)) {
        for (const word of piece.toLowerCase().match(PLAIN_WORDS)!) ids.push(word.length > wordPiece.max_input_chars_per_word ? unknown : (tokens.get(word) ?? unknown));
        continue;
      }
      let pieceIds = pieces.get(piece);
      if (!pieceIds) pieces.set(piece, (pieceIds = tokenizer.encode(piece, null, { add_special_tokens: false })));
      for (const id of pieceIds) ids.push(id);
    }
    ids.push(close);
    // As the tokenizer cuts a text: [CLS] ... [SEP], then at its maximum length.
    return ids.length > maxLength ? ids.slice(0, maxLength) : ids;
  };

  const load = async (ids: Iterable<number>) => {
    const missing = [...new Set(ids)].filter((id) => !loaded[id]);
    if (!missing.length) return;
    const { last_hidden_state: hidden } = await extractor.model({
      input_ids: new Tensor('int64', BigInt64Array.from(missing, BigInt), [missing.length, 1]),
      attention_mask: new Tensor('int64', new BigInt64Array(missing.length).fill(1n), [missing.length, 1]),
    });
    const data = hidden.data as Float32Array;
    missing.forEach((id, i) => {
      rows.set(data.subarray(i * dim, (i + 1) * dim), id * dim);
      loaded[id] = 1;
    });
  };

  return {
    async embed(texts: string[]): Promise<Float32Array[]> {
      const ids = texts.map(idsOf);
      await load(ids.flat());
      return ids.map((row) => {
        // Summed in token order into float32, as embedBatch pools, so the vectors are the same bits.
        const vector = new Float32Array(dim);
        for (const id of row) for (let d = 0, at = id * dim; d < dim; d++) vector[d] += rows[at + d];
        return normalizeInPlace(vector);
      });
    },
    /**
     * A word's own row, unit length (zero for a word the model does not know: its [UNK] row is
     * zero). Divided by the norm, as word vectors always were, not multiplied by its inverse as
     * texts are: the answer model's features were trained on these bits.
     */
    async embedWords(words: string[]): Promise<Float32Array[]> {
      const ids = words.map((w) => tokens.get(w) ?? unknown);
      await load(ids);
      return ids.map((id) => {
        const v = rows.slice(id * dim, (id + 1) * dim);
        let norm = 0;
        for (const x of v) norm += x * x;
        if (norm > 0) for (let d = 0; d < dim; d++) v[d] /= Math.sqrt(norm);
        return v;
      });
    },
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
