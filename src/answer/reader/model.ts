import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { LruMap } from '../../lru.js';
import { MATCH_FEATURES, matchFeatures, MAX_CONTEXT_TOKENS, MAX_QUESTION_TOKENS, MAX_SENTENCE_TOKENS, readerTokens, type ReaderToken } from './tokens.js';
import { readWordVectors, UNKNOWN_RARITY, type WordVectorTable } from './vectors.js';

/**
 * The answer reader: a compare-aggregate network (decomposable attention, Parikh et al. 2016;
 * compare-aggregate, Wang and Jiang 2017) over fixed word vectors, trained by `npm run
 * train-reader`. Each question word is aligned softly with the words of the candidate sentence
 * and, apart, with those of its neighbours; each sentence word with the question's; exact, stem
 * and prefix matches bias the alignment, so names it never saw still align. The comparisons are
 * pooled and scored. This file runs it in typed arrays at query time; train/network.ts is the
 * same network in TensorFlow.js for training, and the two are checked against each other.
 */

/** Per-token input flags after the word vector: capitalised, all capitals, digits, a year, no vector, rarity. */
export const TOKEN_FLAGS = 6;

/** Every weight tensor of the network, by name, with its shape (d: token width, h: comparison width, g: scorer width, f: function words + 1, v: word-vector width). */
export function tensorShapes(dims: { d: number; h: number; g: number; f: number; v: number }): Record<string, number[]> {
  const { d, h, g, f, v } = dims;
  return {
    embedKernel: [v + TOKEN_FLAGS, d],
    embedBias: [d],
    functionWords: [f, d],
    sentenceMatch: [MATCH_FEATURES],
    contextMatch: [MATCH_FEATURES],
    questionKernel: [d, h],
    questionAligned: [d, h],
    questionMatch: [MATCH_FEATURES, h],
    questionBias: [h],
    contextKernel: [d, h],
    contextAligned: [d, h],
    contextMatchKernel: [MATCH_FEATURES, h],
    contextBias: [h],
    sentenceKernel: [d, h],
    sentenceAligned: [d, h],
    sentenceMatchKernel: [MATCH_FEATURES, h],
    sentenceBias: [h],
    importance: [d],
    hiddenKernel: [5 * h + d, g],
    hiddenBias: [g],
    outputKernel: [g],
    outputBias: [1],
  };
}

const Float32Base64 = z.string().transform((s) => {
  const bytes = Buffer.from(s, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
});

export const ReaderModelSchema = z.object({
  version: z.literal(1),
  dims: z.object({ d: z.number().int().positive(), h: z.number().int().positive(), g: z.number().int().positive() }),
  /** Words without a fixed vector that the reader learned its own for (row i + 1 of functionWords; row 0: any other word). */
  functionWords: z.array(z.string()),
  /** Weights as little-endian float32, base64. */
  tensors: z.record(z.string(), Float32Base64),
  /** Questions and candidates with the scores training computed for them: the runtime must agree (a test checks). */
  checks: z.array(z.object({ question: z.string(), sentence: z.string(), context: z.array(z.string()), score: z.number() })),
  /** How the reader was made and what it measured: for people, not read by the code. */
  training: z.record(z.string(), z.unknown()),
});
export type ReaderModel = z.infer<typeof ReaderModelSchema>;

/** A token's input to the reader: its word vector (zeros without one) and flags; and its function-word row (0: none). */
export function tokenInput(vectors: WordVectorTable, functionIds: Map<string, number>, token: ReaderToken): { input: Float32Array; functionId: number } {
  const dim = vectors.dim;
  const input = new Float32Array(dim + TOKEN_FLAGS);
  const functionId = functionIds.get(token.lower) ?? 0;
  const row = vectors.index.get(token.lower);
  if (row !== undefined) input.set(vectors.vectors.subarray(row * dim, (row + 1) * dim));
  const year = token.digits && token.lower.length === 4 && +token.lower >= 1000 && +token.lower <= 2099;
  const rarity = row !== undefined ? vectors.rarity[row] : functionId ? 0 : UNKNOWN_RARITY;
  input.set([token.capitalised ? 1 : 0, token.allCaps ? 1 : 0, token.digits ? 1 : 0, year ? 1 : 0, row === undefined && !functionId ? 1 : 0, rarity / UNKNOWN_RARITY], dim);
  return { input, functionId };
}

/** A candidate the reader scores: a sentence, and its neighbours in the passage (context, before and after). */
export interface ReaderCandidate {
  sentence: string;
  context: string[];
}

/** A passage's (or paragraph's) sentences as candidates, each read with the sentences before and after it: at query time and in training alike. */
export const candidatesOf = (sentences: string[]): ReaderCandidate[] => sentences.map((sentence, i) => ({ sentence, context: [sentences[i - 1], sentences[i + 1]].filter((s): s is string => !!s) }));

/** One token's learned representation and its products with the comparison kernels, made once per distinct token. */
interface TokenState {
  t: Float32Array;
  /** t·questionAligned, t·contextAligned, t·sentenceKernel (a sentence or context word's parts of the comparisons). */
  asAligned: Float32Array;
  asContext: Float32Array;
  asSentence: Float32Array;
}

/** A tokenized text with each token's state. */
interface ReadText {
  tokens: ReaderToken[];
  states: TokenState[];
  /** The states' parts laid end to end (n x h each), so the comparison loops read contiguous memory. */
  asAligned: Float32Array;
  asContext: Float32Array;
  asSentence: Float32Array;
}

const relu = (x: number) => (x > 0 ? x : 0);

/** Softmax of scores[from, from + n) in place. */
function softmaxInPlace(scores: Float32Array, from: number, n: number): void {
  let max = -Infinity;
  for (let k = 0; k < n; k++) max = Math.max(max, scores[from + k]);
  let sum = 0;
  for (let k = 0; k < n; k++) sum += scores[from + k] = Math.exp(scores[from + k] - max);
  for (let k = 0; k < n; k++) scores[from + k] /= sum;
}

/** out[j] += x · M[:, j] for a row vector x (length rows) and a row-major rows x cols matrix. */
function addVectorTimes(out: Float32Array, x: ArrayLike<number>, m: Float32Array, cols: number): void {
  for (let r = 0; r < x.length; r++) {
    const v = x[r];
    if (v === 0) continue;
    const at = r * cols;
    for (let c = 0; c < cols; c++) out[c] += v * m[at + c];
  }
}

export class AnswerReader {
  readonly d: number;
  readonly h: number;
  readonly g: number;
  private readonly w: Record<string, Float32Array>;
  private readonly functionIds: Map<string, number>;
  /** Token states by token key: an archive repeats its words, and a token's state is most of a sentence's cost. */
  private readonly states: LruMap<string, TokenState>;
  /** Tokens of texts read lately: a query reads its passages' sentences, and the next query often the same. */
  private readonly texts: LruMap<string, ReadText>;

  constructor(
    readonly model: ReaderModel,
    readonly vectors: WordVectorTable,
    capacity = { states: 50_000, texts: 20_000 },
  ) {
    this.states = new LruMap(capacity.states);
    this.texts = new LruMap(capacity.texts);
    ({ d: this.d, h: this.h, g: this.g } = model.dims);
    const shapes = tensorShapes({ ...model.dims, f: model.functionWords.length + 1, v: vectors.dim });
    for (const [name, shape] of Object.entries(shapes)) {
      const size = shape.reduce((a, b) => a * b, 1);
      if (model.tensors[name]?.length !== size) throw new Error(`reader weights: ${name} should hold ${size} numbers (${shape.join(' x ')}), it holds ${model.tensors[name]?.length ?? 0}`);
    }
    this.w = model.tensors;
    this.functionIds = new Map(model.functionWords.map((w, i) => [w, i + 1]));
  }

  private state(token: ReaderToken): TokenState {
    const key = `${token.lower}|${token.capitalised ? 1 : 0}${token.allCaps ? 1 : 0}`;
    let s = this.states.get(key);
    if (s) return s;
    const { d, h, w } = this;
    const { input, functionId } = tokenInput(this.vectors, this.functionIds, token);
    const t = new Float32Array(d);
    t.set(w.embedBias);
    for (let c = 0; c < d; c++) t[c] += w.functionWords[functionId * d + c];
    addVectorTimes(t, input, w.embedKernel, d);
    for (let c = 0; c < d; c++) t[c] = Math.tanh(t[c]);
    const times = (m: Float32Array) => {
      const out = new Float32Array(h);
      addVectorTimes(out, t, m, h);
      return out;
    };
    s = { t, asAligned: times(w.questionAligned), asContext: times(w.contextAligned), asSentence: times(w.sentenceKernel) };
    this.states.set(key, s);
    return s;
  }

  /** A text's tokens and their states (up to a sentence's limit; context reads a prefix of the same). */
  private read(text: string, limit: number): ReadText {
    const key = `${limit}:${text}`;
    let read = this.texts.get(key);
    if (!read) {
      const tokens = readerTokens(text, limit);
      const states = tokens.map((t) => this.state(t));
      const laid = (part: 'asAligned' | 'asContext' | 'asSentence') => {
        const out = new Float32Array(states.length * this.h);
        states.forEach((state, j) => out.set(state[part], j * this.h));
        return out;
      };
      this.texts.set(key, (read = { tokens, states, asAligned: laid('asAligned'), asContext: laid('asContext'), asSentence: laid('asSentence') }));
    }
    return read;
  }

  /**
   * Scores each candidate as an answer to the question (higher: more likely to answer; comparable
   * across candidates of one question). A passage's sentences are each other's context, so each
   * distinct text is aligned with the question once per call and its parts reused.
   */
  score(questionText: string, candidates: ReaderCandidate[]): number[] {
    const { d, h, g, w } = this;
    const q = this.read(questionText, MAX_QUESTION_TOKENS);
    const m = q.tokens.length;
    if (!m) return candidates.map(() => 0);
    // The question's own parts, once per question.
    const own = (kernel: Float32Array, bias: Float32Array | null) =>
      q.states.map((s) => {
        const out = new Float32Array(h);
        if (bias) out.set(bias);
        addVectorTimes(out, s.t, kernel, h);
        return out;
      });
    const question: QuestionParts = { read: q, sentenceOwn: own(w.questionKernel, w.questionBias), contextOwn: own(w.contextKernel, w.contextBias), asAlignedQuestion: own(w.sentenceAligned, null), importance: new Float32Array(m) };
    // The question words' importance: pools each comparison, and the question's summary.
    const { importance } = question;
    for (let i = 0; i < m; i++) for (let c = 0; c < d; c++) importance[i] += q.states[i].t[c] * w.importance[c];
    softmaxInPlace(importance, 0, m);
    const summary = new Float32Array(d);
    for (let i = 0; i < m; i++) for (let c = 0; c < d; c++) summary[c] += importance[i] * q.states[i].t[c];

    const alignments = new Map<string, Alignment>();
    const align = (text: string): Alignment => {
      let a = alignments.get(text);
      if (!a) alignments.set(text, (a = this.align(q, this.read(text, MAX_SENTENCE_TOKENS))));
      return a;
    };
    return candidates.map((candidate) => {
      const sentence = align(candidate.sentence);
      // Context reads the first MAX_CONTEXT_TOKENS words of each neighbour (as training does).
      const context = candidate.context.map((text) => {
        const a = align(text);
        return { read: a.read, dots: a.dots, match: a.match, count: Math.min(MAX_CONTEXT_TOKENS, a.read.tokens.length) };
      });
      const sentenceSide = this.compareQuestion(question, [{ read: sentence.read, dots: sentence.dots, match: sentence.match, count: sentence.read.tokens.length }], w.sentenceMatch, 'asAligned', question.sentenceOwn, w.questionMatch);
      const contextSide = this.compareQuestion(question, context, w.contextMatch, 'asContext', question.contextOwn, w.contextMatchKernel);
      const [zMax, zMean] = this.compareSentence(question, sentence, sentenceSide.scores);
      const features = new Float32Array(5 * h + d);
      features.set(sentenceSide.pooled, 0);
      features.set(sentenceSide.max, h);
      features.set(contextSide.pooled, 2 * h);
      features.set(zMax, 3 * h);
      features.set(zMean, 4 * h);
      features.set(summary, 5 * h);
      const hidden = new Float32Array(g);
      hidden.set(w.hiddenBias);
      addVectorTimes(hidden, features, w.hiddenKernel, g);
      let score = w.outputBias[0];
      for (let c = 0; c < g; c++) score += relu(hidden[c]) * w.outputKernel[c];
      return score;
    });
  }

  /** Dot products and match features of each question word with each word of a text (m x n, row-major). */
  private align(q: ReadText, read: ReadText): Alignment {
    const { d } = this;
    const m = q.tokens.length;
    const n = read.tokens.length;
    const dots = new Float32Array(m * n);
    const match = new Float32Array(m * n * MATCH_FEATURES);
    for (let i = 0; i < m; i++) {
      const qt = q.states[i].t;
      for (let j = 0; j < n; j++) {
        matchFeatures(q.tokens[i], read.tokens[j], match, (i * n + j) * MATCH_FEATURES);
        const ot = read.states[j].t;
        let e = 0;
        for (let c = 0; c < d; c++) e += qt[c] * ot[c];
        dots[i * n + j] = e;
      }
    }
    return { read, dots, match };
  }

  /**
   * Each question word compared with the words of `pieces` aligned to it (attention over all their
   * words, biased by how the words match): the comparisons pooled by question-word importance and
   * by max; and the alignment scores (m x the pieces' words).
   */
  private compareQuestion(question: QuestionParts, pieces: Array<Alignment & { count: number }>, matchWeights: Float32Array, aligned: 'asAligned' | 'asContext', own: Float32Array[], matchKernel: Float32Array): { scores: Float32Array; pooled: Float32Array; max: Float32Array } {
    const { h } = this;
    const m = question.read.tokens.length;
    const total = pieces.reduce((sum, p) => sum + p.count, 0);
    const scores = new Float32Array(m * total);
    const pooled = new Float32Array(h);
    const max = new Float32Array(h);
    const row = new Float32Array(total);
    const v = new Float32Array(h);
    const best = new Float32Array(MATCH_FEATURES);
    // Each piece's arrays in locals: the loops below run m x (piece words) times per candidate.
    const dotsOf = pieces.map((p) => p.dots);
    const matchOf = pieces.map((p) => p.match);
    const widthOf = pieces.map((p) => p.read.tokens.length);
    const countOf = pieces.map((p) => p.count);
    const partsOf = pieces.map((p) => p.read[aligned]);
    const w0 = matchWeights[0];
    const w1 = matchWeights[1];
    const w2 = matchWeights[2];
    for (let i = 0; i < m; i++) {
      let b0 = 0;
      let b1 = 0;
      let b2 = 0;
      let at = 0;
      for (let p = 0; p < pieces.length; p++) {
        const dots = dotsOf[p];
        const match = matchOf[p];
        const n = widthOf[p];
        const count = countOf[p];
        for (let j = 0; j < count; j++) {
          const k = (i * n + j) * MATCH_FEATURES;
          const m0 = match[k];
          const m1 = match[k + 1];
          const m2 = match[k + 2];
          if (m0 > b0) b0 = m0;
          if (m1 > b1) b1 = m1;
          if (m2 > b2) b2 = m2;
          row[at++] = dots[i * n + j] + w0 * m0 + w1 * m1 + w2 * m2;
        }
      }
      best[0] = b0;
      best[1] = b1;
      best[2] = b2;
      scores.set(row, i * total);
      v.set(own[i]);
      if (total) {
        softmaxInPlace(row, 0, total);
        at = 0;
        for (let p = 0; p < pieces.length; p++) {
          const parts = partsOf[p];
          const count = countOf[p];
          for (let j = 0; j < count; j++) {
            const a = row[at++];
            const from = j * h;
            for (let c = 0; c < h; c++) v[c] += a * parts[from + c];
          }
        }
      }
      addVectorTimes(v, best, matchKernel, h);
      const weight = question.importance[i];
      for (let c = 0; c < h; c++) {
        const x = v[c] > 0 ? v[c] : 0;
        pooled[c] += weight * x;
        if (i === 0 || x > max[c]) max[c] = x;
      }
    }
    return { scores, pooled, max };
  }

  /** The sentence's side: each of its words against the question words aligned to it, pooled by max and by mean. */
  private compareSentence(question: QuestionParts, sentence: Alignment, scores: Float32Array): [Float32Array, Float32Array] {
    const { h, w } = this;
    const m = question.read.tokens.length;
    const n = sentence.read.tokens.length;
    const zMax = new Float32Array(h);
    const zMean = new Float32Array(h);
    const column = new Float32Array(m);
    const z = new Float32Array(h);
    const match = new Float32Array(MATCH_FEATURES);
    const sentenceMatch = sentence.match;
    const own = sentence.read.asSentence;
    const aligned = question.asAlignedQuestion;
    const bias = w.sentenceBias;
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < m; i++) column[i] = scores[i * n + j];
      softmaxInPlace(column, 0, m);
      for (let c = 0; c < h; c++) z[c] = bias[c] + own[j * h + c];
      for (let i = 0; i < m; i++) {
        const a = column[i];
        const part = aligned[i];
        for (let c = 0; c < h; c++) z[c] += a * part[c];
      }
      match.fill(0);
      for (let i = 0; i < m; i++) for (let f = 0; f < MATCH_FEATURES; f++) if (sentenceMatch[(i * n + j) * MATCH_FEATURES + f] > match[f]) match[f] = sentenceMatch[(i * n + j) * MATCH_FEATURES + f];
      addVectorTimes(z, match, w.sentenceMatchKernel, h);
      for (let c = 0; c < h; c++) {
        const v = z[c] > 0 ? z[c] : 0;
        if (j === 0 || v > zMax[c]) zMax[c] = v;
        zMean[c] += v / n;
      }
    }
    return [zMax, zMean];
  }
}

/** A question's parts that every candidate reuses. */
interface QuestionParts {
  read: ReadText;
  /** Per question word: its own part of the sentence and context comparisons (with their biases), and its part of the sentence words' comparisons. */
  sentenceOwn: Float32Array[];
  contextOwn: Float32Array[];
  asAlignedQuestion: Float32Array[];
  importance: Float32Array;
}

/** A text aligned with the question: its words, their dot products with the question's (m x n) and the match features. */
interface Alignment {
  read: ReadText;
  dots: Float32Array;
  match: Float32Array;
}

const DEFAULT_MODEL = new URL('./reader-model.json', import.meta.url);
const DEFAULT_VECTORS = new URL('./word-vectors.bin', import.meta.url);

/** Loads the reader shipped in the repository (or the files named), validated. */
export function loadAnswerReader(modelFile: string | URL = DEFAULT_MODEL, vectorsFile: string | URL = DEFAULT_VECTORS): AnswerReader {
  const model = ReaderModelSchema.parse(JSON.parse(readFileSync(modelFile, 'utf8')));
  return new AnswerReader(model, readWordVectors(vectorsFile));
}

let shipped: AnswerReader | null = null;
/** The reader shipped in the repository, loaded once per process (it is the same for every archive). */
export const shippedAnswerReader = () => (shipped ??= loadAnswerReader());
