import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eng as englishStopWords } from 'stopword';
import { chunkDocument, splitSentences, type ChunkingOptions } from '../chunk/index.js';
import { ConfigSchema } from '../config.js';
import type { SourceDocument } from '../types.js';
import { encodeStaticEmbeddingOnnx } from './onnxStaticModel.js';
import { fineTuneOnPassages, type ContrastiveOptions, type TrainingPassage } from './train/contrastive.js';
import { cooccurrence, ppmi, type Context } from './train/cooccurrence.js';
import { embedSymmetric } from './train/svd.js';
import { readWordNet } from './train/wordnet.js';

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
}

export const DEFAULT_BUILTIN_OPTIONS: BuiltinModelOptions = {
  dim: 256,
  maxVocabulary: 80_000,
  window: 5,
  sifA: 1e-4,
  eigenPower: 0,
  corpusWeight: 1,
  contrastive: { epochs: 3, batchSize: 128, learningRate: 0.15, temperature: 0.05, seed: 7 },
};

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const STOP = new Set([...englishStopWords, 'a', 'an', 'the', 'of', 'to', 'in', 'on', 'is', 'it', 'or', 'as', 'at', 'be', 'by']);

/**
 * Words as the BERT pre-tokenizer of the written tokenizer.json sees them: lower-cased, accents
 * stripped, split at anything that is not a letter or digit ("council's" -> "council", "s").
 */
export function bertWords(text: string): string[] {
  return text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

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

const trainable = (w: string) => w.length > 1 && !STOP.has(w);

export interface BuiltModel {
  vocabulary: string[];
  vectors: Float32Array;
  dim: number;
  stats: Record<string, number>;
}

/**
 * Trains static word vectors: PPMI over co-occurrence in WordNet entries (a synset's lemmas with its
 * gloss, and with the lemmas of related synsets) and in windows of the corpus text, factorised by a
 * randomized eigen-decomposition; each word vector is unit length times its SIF weight; then
 * fine-tuned contrastively on the corpus' passages, cut as the index cuts them (`chunking`).
 */
export async function trainStaticModel(
  documents: SourceDocument[],
  options: BuiltinModelOptions,
  log: (msg: string) => void = () => {},
  chunking: ChunkingOptions = ConfigSchema.parse({}).chunking,
): Promise<BuiltModel> {
  const t0 = Date.now();
  const synsets = readWordNet();
  const bags: Array<{ words: string[]; weight: number }> = [];
  for (const s of synsets.values()) {
    const lemmaWords = s.lemmas.flatMap(bertWords).filter(trainable);
    bags.push({ words: [...lemmaWords, ...bertWords(s.gloss).filter(trainable)], weight: 1 });
    const relatedWords = s.related.flatMap((key) => synsets.get(key)?.lemmas ?? []).flatMap(bertWords).filter(trainable);
    if (relatedWords.length) bags.push({ words: [...lemmaWords, ...relatedWords], weight: 0.5 });
  }
  const sentences = documents.flatMap((d) => splitSentences(d.text).map((s) => bertWords(d.text.slice(s.start, s.end)).filter(trainable)));
  log(`read ${synsets.size} WordNet synsets and ${sentences.length} corpus sentences (${Date.now() - t0} ms)`);

  // Vocabulary: every corpus word, then the most frequent WordNet words, in a deterministic order.
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
  const passages: TrainingPassage[] = documents.flatMap((doc) =>
    chunkDocument(doc, chunking).map((chunk) => ({
      title: toIds(bertWords(doc.title)),
      // Sentences of a few words (datelines, captions) make poor questions and are left out.
      sentences: splitSentences(chunk.text).map((s) => bertWords(chunk.text.slice(s.start, s.end))).filter((ws) => ws.length >= 5).map(toIds),
    })),
  );
  fineTuneOnPassages(vectors, dim, passages, options.contrastive, log);
  log(`fine-tuned on ${passages.length} passages (${Date.now() - t3} ms)`);
  return { vocabulary, vectors, dim, stats: { vocabulary: vocabulary.length, dim, pairs: matrix.values.length, synsets: synsets.size, corpusSentences: sentences.length, passages: passages.length } };
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
