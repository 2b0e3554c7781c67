import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { z } from 'zod';
import { LRUCache } from 'lru-cache';
import { encodeReaderGraph, encodeWordStateGraph } from './graph.js';
import { MATCH_FEATURES, matchFeatures, MAX_CONTEXT_TOKENS, MAX_QUESTION_TOKENS, MAX_SENTENCE_TOKENS, readerTokens, type ReaderToken } from './tokens.js';
import { readWordVectors, UNKNOWN_RARITY, type WordVectorTable } from './vectors.js';

/**
 * The answer reader: a compare-aggregate network (decomposable attention, Parikh et al. 2016;
 * compare-aggregate, Wang and Jiang 2017) over fixed word vectors, trained by `npm run
 * train-reader`. Each question word is aligned softly with the words of the candidate sentence
 * and, apart, with those of its neighbours; each sentence word with the question's; exact, stem
 * and prefix matches bias the alignment, so names it never saw still align. The comparisons are
 * pooled and scored. At query time this file computes each word's state in typed arrays (cached
 * across questions) and runs the comparisons of all a question's candidates in one onnxruntime
 * graph (graph.ts); train/network.ts is the same network in TensorFlow.js for training, and the
 * two are checked against each other.
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
}

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
  /** Token states by token key: an archive repeats its words, so most of a question's words were read before. */
  private readonly states: LRUCache<string, TokenState>;
  /** Tokens of texts read lately: a query reads its passages' sentences, and the next query often the same. */
  private readonly texts: LRUCache<string, ReaderToken[]>;
  /** The comparisons' graph and the word-state graph in onnxruntime, made as the reader loads. */
  private readonly session: Promise<ort.InferenceSession>;
  private readonly wordStates: Promise<ort.InferenceSession>;

  constructor(
    readonly model: ReaderModel,
    readonly vectors: WordVectorTable,
    capacity = { states: 50_000, texts: 20_000 },
  ) {
    this.states = new LRUCache({ max: capacity.states });
    this.texts = new LRUCache({ max: capacity.texts });
    ({ d: this.d, h: this.h, g: this.g } = model.dims);
    const shapes = tensorShapes({ ...model.dims, f: model.functionWords.length + 1, v: vectors.dim });
    for (const [name, shape] of Object.entries(shapes)) {
      const size = shape.reduce((a, b) => a * b, 1);
      if (model.tensors[name]?.length !== size) throw new Error(`reader weights: ${name} should hold ${size} numbers (${shape.join(' x ')}), it holds ${model.tensors[name]?.length ?? 0}`);
    }
    this.w = model.tensors;
    this.functionIds = new Map(model.functionWords.map((w, i) => [w, i + 1]));
    const options = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' } as const;
    this.session = ort.InferenceSession.create(encodeReaderGraph(this.w, model.dims), options);
    this.wordStates = ort.InferenceSession.create(encodeWordStateGraph(this.w, { d: this.d, h: this.h, inputWidth: vectors.dim + TOKEN_FLAGS, functionRows: model.functionWords.length + 1 }), options);
    // A failure is reported to the first score() that awaits it, not as an unhandled rejection.
    this.session.catch(() => {});
    this.wordStates.catch(() => {});
  }

  /**
   * The states of every token of `lists`: cached ones looked up, the others computed in one run of
   * the word-state graph and cached. Returned per list (this call's own map keeps them, whatever the
   * cache drops meanwhile).
   */
  private async statesOf(lists: ReaderToken[][]): Promise<TokenState[][]> {
    const keyOf = (token: ReaderToken) => `${token.lower}|${token.capitalised ? 1 : 0}${token.allCaps ? 1 : 0}`;
    const found = new Map<string, TokenState>();
    const missing = new Map<string, ReaderToken>();
    for (const list of lists) {
      for (const token of list) {
        const key = keyOf(token);
        if (found.has(key) || missing.has(key)) continue;
        const state = this.states.get(key);
        if (state) found.set(key, state);
        else missing.set(key, token);
      }
    }
    if (missing.size) {
      const { d, h } = this;
      const width = this.vectors.dim + TOKEN_FLAGS;
      const inputs = new Float32Array(missing.size * width);
      const functionIds = new Int32Array(missing.size);
      [...missing.values()].forEach((token, i) => {
        const { input, functionId } = tokenInput(this.vectors, this.functionIds, token);
        inputs.set(input, i * width);
        functionIds[i] = functionId;
      });
      const out = await (await this.wordStates).run({ inputs: new ort.Tensor('float32', inputs, [missing.size, width]), functionIds: new ort.Tensor('int32', functionIds, [missing.size]) });
      const [states, parts] = [out.states.data as Float32Array, out.parts.data as Float32Array];
      [...missing.keys()].forEach((key, i) => {
        const at = i * 3 * h;
        // Copies: a slice of the batch's buffer would keep all of it alive in the cache.
        const state = { t: states.slice(i * d, (i + 1) * d), asAligned: parts.slice(at, at + h), asContext: parts.slice(at + h, at + 2 * h), asSentence: parts.slice(at + 2 * h, at + 3 * h) };
        this.states.set(key, state);
        found.set(key, state);
      });
    }
    return lists.map((list) => list.map((token) => found.get(keyOf(token))!));
  }

  /** A text's tokens (up to a sentence's limit; context reads a prefix of the same). */
  private read(text: string, limit: number): ReaderToken[] {
    const key = `${limit}:${text}`;
    let tokens = this.texts.get(key);
    if (!tokens) this.texts.set(key, (tokens = readerTokens(text, limit)));
    return tokens;
  }

  /**
   * Scores each candidate as an answer to the question (higher: more likely to answer; comparable
   * across candidates of one question), all of them in one run of the reader's graph (graph.ts).
   */
  async score(questionText: string, candidates: ReaderCandidate[]): Promise<number[]> {
    const { d, h, g, w } = this;
    const questionTokens = this.read(questionText, MAX_QUESTION_TOKENS);
    const m = questionTokens.length;
    if (!m || !candidates.length) return candidates.map(() => 0);
    // Context reads the first MAX_CONTEXT_TOKENS words of each neighbour (as training does).
    const sentenceTokens = candidates.map((c) => this.read(c.sentence, MAX_SENTENCE_TOKENS));
    const contextTokens = candidates.map((c) => c.context.map((text) => this.read(text, MAX_SENTENCE_TOKENS).slice(0, MAX_CONTEXT_TOKENS)));
    const states = await this.statesOf([questionTokens, ...sentenceTokens, ...contextTokens.flat()]);
    const q: ReadText = { tokens: questionTokens, states: states[0] };
    const sentences = sentenceTokens.map((tokens, c): ReadText => ({ tokens, states: states[1 + c] }));
    let at = 1 + candidates.length;
    const contexts = contextTokens.map((list) => list.map((tokens): ReadText => ({ tokens, states: states[at++] })));
    // The question's own parts, once per question.
    const own = (kernel: Float32Array, bias: Float32Array | null) => {
      const out = new Float32Array(m * h);
      q.states.forEach((s, i) => {
        const row = out.subarray(i * h, (i + 1) * h);
        if (bias) row.set(bias);
        addVectorTimes(row, s.t, kernel, h);
      });
      return out;
    };
    // The question words' importance pools each comparison, and weighs the question's summary.
    const importance = new Float32Array(m);
    for (let i = 0; i < m; i++) for (let c = 0; c < d; c++) importance[i] += q.states[i].t[c] * w.importance[c];
    softmaxInPlace(importance, 0, m);
    const summary = new Float32Array(d);
    for (let i = 0; i < m; i++) for (let c = 0; c < d; c++) summary[c] += importance[i] * q.states[i].t[c];
    const hiddenBias = Float32Array.from(w.hiddenBias);
    addVectorTimes(hiddenBias, summary, w.hiddenKernel.subarray(5 * h * g), g);
    const questionT = new Float32Array(d * m);
    q.states.forEach((s, i) => s.t.forEach((x, c) => (questionT[c * m + i] = x)));

    // The distinct words read (row 0 pads), and each one's match with each question word.
    const rows = new Map<TokenState, number>();
    const tokens: ReaderToken[] = [];
    const rowOf = (read: ReadText, j: number) => {
      let row = rows.get(read.states[j]);
      if (row === undefined) {
        rows.set(read.states[j], (row = rows.size + 1));
        tokens.push(read.tokens[j]);
      }
      return row;
    };
    const C = candidates.length;
    const N = Math.max(1, ...sentences.map((r) => r.tokens.length));
    const K = Math.max(1, ...contexts.map((list) => list.reduce((sum, r) => sum + r.tokens.length, 0)));
    const sentenceIds = new Int32Array(C * N);
    const sentencePenalty = new Float32Array(C * N).fill(-1e9);
    const sentenceMask = new Float32Array(C * N);
    const sentenceLength = new Float32Array(C);
    const contextIds = new Int32Array(C * K);
    const contextPenalty = new Float32Array(C * K).fill(-1e9);
    sentences.forEach((read, c) => {
      for (let j = 0; j < read.tokens.length; j++) {
        sentenceIds[c * N + j] = rowOf(read, j);
        sentencePenalty[c * N + j] = 0;
        sentenceMask[c * N + j] = 1;
      }
      sentenceLength[c] = Math.max(1, read.tokens.length);
    });
    contexts.forEach((list, c) => {
      let at = c * K;
      for (const read of list) {
        for (let j = 0; j < read.tokens.length; j++) {
          contextIds[at] = rowOf(read, j);
          contextPenalty[at++] = 0;
        }
      }
    });
    const U = rows.size + 1;
    const table = (part: 't' | 'asAligned' | 'asContext' | 'asSentence', width: number) => {
      const out = new Float32Array(U * width);
      for (const [state, row] of rows) out.set(state[part], row * width);
      return out;
    };
    const match = new Float32Array(U * m * MATCH_FEATURES);
    tokens.forEach((token, r) => {
      for (let i = 0; i < m; i++) matchFeatures(q.tokens[i], token, match, ((r + 1) * m + i) * MATCH_FEATURES);
    });
    const tensor = (data: Float32Array | Int32Array, dims: number[]) => new ort.Tensor(data instanceof Int32Array ? 'int32' : 'float32', data, dims);
    const session = await this.session;
    const out = await session.run({
      words: tensor(table('t', d), [U, d]),
      wordsAligned: tensor(table('asAligned', h), [U, h]),
      wordsContext: tensor(table('asContext', h), [U, h]),
      wordsSentence: tensor(table('asSentence', h), [U, h]),
      match: tensor(match, [U, m, MATCH_FEATURES]),
      questionT: tensor(questionT, [d, m]),
      sentenceOwn: tensor(own(w.questionKernel, w.questionBias), [m, h]),
      contextOwn: tensor(own(w.contextKernel, w.contextBias), [m, h]),
      questionAligned: tensor(own(w.sentenceAligned, null), [m, h]),
      importance: tensor(importance, [1, m]),
      hiddenBias: tensor(hiddenBias, [g]),
      sentenceIds: tensor(sentenceIds, [C, N]),
      sentencePenalty: tensor(sentencePenalty, [C, N]),
      sentenceMask: tensor(sentenceMask, [C, N, 1]),
      sentenceLength: tensor(sentenceLength, [C, 1]),
      contextIds: tensor(contextIds, [C, K]),
      contextPenalty: tensor(contextPenalty, [C, K]),
    });
    return Array.from(out.scores.data as Float32Array);
  }
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
