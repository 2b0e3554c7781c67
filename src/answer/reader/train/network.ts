import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { seededRandom, shuffleInPlace } from '../../../embed/train/random.js';
import { TOKEN_FLAGS, tensorShapes, tokenInput } from '../model.js';
import { MATCH_FEATURES, matchFeatures, MAX_CONTEXT_TOKENS, MAX_QUESTION_TOKENS, MAX_SENTENCE_TOKENS, readerTokens, type ReaderToken } from '../tokens.js';
import type { WordVectorTable } from '../vectors.js';

/**
 * The reader's network in TensorFlow.js (the wasm backend, single-threaded, so runs repeat
 * exactly), for training only: the same computation as AnswerReader.score in ../model.ts, over
 * padded batches. Each question's candidates are scored together and trained by a softmax over
 * them (the answering sentences against the others of its paragraph).
 */

export interface TrainingQuestion {
  question: string;
  candidates: Array<{ sentence: string; context: string[] }>;
  /** 1 for each candidate that answers. */
  labels: number[];
}

export interface NetworkOptions {
  d: number;
  h: number;
  g: number;
  /** Candidates per question in a batch (the answers first, then others in a seeded order). */
  candidates: number;
  questionsPerBatch: number;
  epochs: number;
  learningRate: number;
  /** Share of token states and pooled comparisons dropped while training (0: none). */
  dropout: number;
  seed: number;
  /** An ablation: the match features' weights held at 0, so words align by their vectors alone. */
  withoutMatch?: boolean;
}

let backendReady: Promise<boolean> | null = null;
export const useWasmBackend = () => (backendReady ??= tf.setBackend('wasm'));

/** Tokens of every text, read once. */
const tokenCache = new Map<string, ReaderToken[]>();
function tokensOf(text: string, limit: number): ReaderToken[] {
  const key = `${limit}:${text}`;
  let t = tokenCache.get(key);
  if (!t) tokenCache.set(key, (t = readerTokens(text, limit)));
  return t;
}

export class ReaderNetwork {
  readonly variables: Record<string, tf.Variable>;
  private readonly functionIds: Map<string, number>;

  constructor(
    readonly options: NetworkOptions,
    readonly vectors: WordVectorTable,
    readonly functionWords: string[],
  ) {
    this.functionIds = new Map(functionWords.map((w, i) => [w, i + 1]));
    const random = seededRandom(options.seed);
    const shapes = tensorShapes({ d: options.d, h: options.h, g: options.g, f: functionWords.length + 1, v: vectors.dim });
    this.variables = Object.fromEntries(
      Object.entries(shapes).map(([name, shape]) => {
        const size = shape.reduce((a, b) => a * b, 1);
        // Glorot-uniform kernels, zero biases; match weights start at 1 (a word matching itself should align).
        const values = new Float32Array(size);
        if (name.endsWith('Match')) values.fill(1);
        else if (shape.length === 2 || name === 'importance' || name === 'outputKernel') {
          const fanIn = shape.length === 2 ? shape[0] : size;
          const fanOut = shape.length === 2 ? shape[1] : 1;
          const limit = Math.sqrt(6 / (fanIn + fanOut));
          for (let i = 0; i < size; i++) values[i] = (random() * 2 - 1) * limit;
        }
        // --without-match: drawn as usual (so the other weights start as in the full network), then held at 0.
        const held = options.withoutMatch === true && name.includes('Match');
        if (held) values.fill(0);
        return [name, tf.variable(tf.tensor(values, shape), !held)];
      }),
    );
  }

  /** Token inputs of a batch of texts, padded to `width`: dense inputs, function-word one-hots, mask. */
  private side(texts: ReaderToken[][], width: number) {
    const v = this.vectors.dim + TOKEN_FLAGS;
    const f = this.functionWords.length + 1;
    const input = new Float32Array(texts.length * width * v);
    const oneHot = new Float32Array(texts.length * width * f);
    const mask = new Float32Array(texts.length * width);
    texts.forEach((tokens, p) => tokens.forEach((token, i) => {
      const at = p * width + i;
      const { input: x, functionId } = tokenInput(this.vectors, this.functionIds, token);
      input.set(x, at * v);
      oneHot[at * f + functionId] = 1;
      mask[at] = 1;
    }));
    return { input: tf.tensor(input, [texts.length * width, v]), oneHot: tf.tensor(oneHot, [texts.length * width, f]), mask: tf.tensor(mask, [texts.length, width]) };
  }

  /** Match features of each question token against each token of `others`: [pairs, m, width, 3]. */
  private matches(questions: ReaderToken[][], others: ReaderToken[][], m: number, width: number): tf.Tensor {
    const out = new Float32Array(questions.length * m * width * MATCH_FEATURES);
    questions.forEach((q, p) => q.forEach((qt, i) => others[p].forEach((ot, j) => matchFeatures(qt, ot, out, ((p * m + i) * width + j) * MATCH_FEATURES))));
    return tf.tensor(out, [questions.length, m, width, MATCH_FEATURES]);
  }

  /** Scores of (question, candidate) pairs: the computation of AnswerReader.score. */
  scorePairs(pairs: Array<{ question: string; sentence: string; context: string[] }>, dropoutSeed: number | null = null): tf.Tensor1D {
    const { d } = this.options;
    const w = this.variables;
    const qTokens = pairs.map((p) => tokensOf(p.question, MAX_QUESTION_TOKENS));
    const sTokens = pairs.map((p) => tokensOf(p.sentence, MAX_SENTENCE_TOKENS));
    const cTokens = pairs.map((p) => p.context.flatMap((c) => tokensOf(c, MAX_CONTEXT_TOKENS)));
    const width = (lists: ReaderToken[][]) => Math.max(1, ...lists.map((l) => l.length));
    const [m, n, l] = [width(qTokens), width(sTokens), width(cTokens)];
    const P = pairs.length;
    // Dropout (training only, seeded so runs repeat) on the token states and the pooled comparisons: the network is small, the data smaller.
    const drop = <T extends tf.Tensor>(x: T, salt: number): T => (dropoutSeed === null || !this.options.dropout ? x : (tf.dropout(x, this.options.dropout, undefined, dropoutSeed * 8 + salt) as T));
    const states = (side: ReturnType<ReaderNetwork['side']>, len: number, salt: number) =>
      drop(tf.tanh(tf.add(tf.add(tf.matMul(side.input, w.embedKernel), tf.matMul(side.oneHot, w.functionWords)), w.embedBias)), salt).reshape([P, len, d]);
    const qSide = this.side(qTokens, m);
    const sSide = this.side(sTokens, n);
    const cSide = this.side(cTokens, l);
    const Q = states(qSide, m, 0);
    const S = states(sSide, n, 1);
    const C = states(cSide, l, 2);
    const times = (x: tf.Tensor, kernel: tf.Tensor, len: number) => tf.matMul(x.reshape([P * len, -1]), kernel).reshape([P, len, -1]);
    const NEG = -1e9;
    const importance = tf.softmax(tf.add(times(Q, w.importance.reshape([d, 1]), m).reshape([P, m]), tf.mul(tf.sub(1, qSide.mask), NEG)));

    // Question words against the sentence's (or the context's) words aligned to them.
    const compare = (other: tf.Tensor, otherMask: tf.Tensor, len: number, match: tf.Tensor, matchWeights: tf.Variable, kernel: tf.Variable, aligned: tf.Variable, matchKernel: tf.Variable, bias: tf.Variable) => {
      const scores = tf.add(tf.matMul(Q, other, false, true), tf.matMul(match.reshape([P * m * len, MATCH_FEATURES]), matchWeights.reshape([MATCH_FEATURES, 1])).reshape([P, m, len]));
      const attention = tf.softmax(tf.add(scores, tf.mul(tf.sub(1, otherMask), NEG).reshape([P, 1, len])));
      // Without any word on the other side, nothing is aligned (as the runtime adds nothing).
      const any = tf.minimum(tf.sum(otherMask, 1), 1).reshape([P, 1, 1]);
      const alignedPart = tf.mul(tf.matMul(attention, times(other, aligned, len)), any);
      const best = tf.max(match, 2);
      const v = tf.relu(tf.add(tf.add(tf.add(times(Q, kernel, m), alignedPart), times(best, matchKernel, m)), bias));
      const masked = tf.mul(v, qSide.mask.reshape([P, m, 1]));
      return { scores, pooled: tf.sum(tf.mul(masked, importance.reshape([P, m, 1])), 1), max: tf.max(masked, 1) };
    };
    const sMatch = this.matches(qTokens, sTokens, m, n);
    const cMatch = this.matches(qTokens, cTokens, m, l);
    const sentenceSide = compare(S, sSide.mask, n, sMatch, w.sentenceMatch, w.questionKernel, w.questionAligned, w.questionMatch, w.questionBias);
    const contextSide = compare(C, cSide.mask, l, cMatch, w.contextMatch, w.contextKernel, w.contextAligned, w.contextMatchKernel, w.contextBias);

    // Sentence words against the question words aligned to them.
    const columns = tf.softmax(tf.add(tf.transpose(sentenceSide.scores, [0, 2, 1]), tf.mul(tf.sub(1, qSide.mask), NEG).reshape([P, 1, m])));
    const alignedQuestion = tf.matMul(columns, times(Q, w.sentenceAligned, m));
    const sentenceBest = tf.max(sMatch, 1);
    const z = tf.relu(tf.add(tf.add(tf.add(times(S, w.sentenceKernel, n), alignedQuestion), times(sentenceBest, w.sentenceMatchKernel, n)), w.sentenceBias));
    const zMasked = tf.mul(z, sSide.mask.reshape([P, n, 1]));
    const zMax = tf.max(zMasked, 1);
    const zMean = tf.div(tf.sum(zMasked, 1), tf.maximum(tf.sum(sSide.mask, 1), 1).reshape([P, 1]));
    const summary = tf.sum(tf.mul(Q, importance.reshape([P, m, 1])), 1);
    const features = drop(tf.concat([sentenceSide.pooled, sentenceSide.max, contextSide.pooled, zMax, zMean, summary], 1), 3);
    const hidden = tf.relu(tf.add(tf.matMul(features, w.hiddenKernel), w.hiddenBias));
    return tf.add(tf.matMul(hidden, w.outputKernel.reshape([this.options.g, 1])), w.outputBias).reshape([P]) as tf.Tensor1D;
  }

  /** Trains on the questions (each with at least one answer), calling `onEpoch` after each epoch; returns the mean loss per epoch. */
  async train(questions: TrainingQuestion[], onStep: (done: number, total: number) => void, onEpoch: (epoch: number, loss: number) => Promise<void> | void): Promise<number[]> {
    const { candidates: K, questionsPerBatch: B, epochs, learningRate, seed } = this.options;
    const random = seededRandom(seed + 1);
    const optimizer = tf.train.adam(learningRate);
    const losses: number[] = [];
    const order = questions.map((_, i) => i);
    const steps = Math.ceil(questions.length / B);
    for (let epoch = 0; epoch < epochs; epoch++) {
      shuffleInPlace(order, random);
      let total = 0;
      for (let step = 0; step < steps; step++) {
        const batch = order.slice(step * B, (step + 1) * B).map((i) => questions[i]);
        const pairs: Array<{ question: string; sentence: string; context: string[] }> = [];
        const labels = new Float32Array(batch.length * K);
        const present = new Float32Array(batch.length * K);
        batch.forEach((q, b) => {
          const positives = q.labels.flatMap((l, i) => (l ? [i] : []));
          const negatives = shuffleInPlace(q.labels.flatMap((l, i) => (l ? [] : [i])), random);
          const picked = [...positives.slice(0, Math.max(1, K - negatives.length)), ...negatives].slice(0, K);
          for (let k = 0; k < K; k++) {
            const c = q.candidates[picked[k] ?? picked[0]];
            pairs.push({ question: q.question, ...c });
            if (k < picked.length) {
              present[b * K + k] = 1;
              labels[b * K + k] = q.labels[picked[k]];
            }
          }
        });
        const loss = optimizer.minimize(() => {
          const scores = this.scorePairs(pairs, epoch * steps + step).reshape([batch.length, K]);
          const presentMask = tf.tensor(present, [batch.length, K]);
          const logProbabilities = tf.logSoftmax(tf.add(scores, tf.mul(tf.sub(1, presentMask), -1e9)));
          const positive = tf.add(logProbabilities, tf.mul(tf.sub(1, tf.tensor(labels, [batch.length, K])), -1e9));
          return tf.neg(tf.mean(tf.logSumExp(positive, 1))) as tf.Scalar;
        }, true);
        total += (await loss!.data())[0];
        loss!.dispose();
        onStep(epoch * steps + step + 1, epochs * steps);
      }
      losses.push(total / steps);
      await onEpoch(epoch, total / steps);
    }
    return losses;
  }

  /** The weights, by name, as plain arrays. */
  async weights(): Promise<Record<string, Float32Array<ArrayBuffer>>> {
    return Object.fromEntries(await Promise.all(Object.entries(this.variables).map(async ([name, v]) => [name, (await v.data()) as Float32Array<ArrayBuffer>] as const)));
  }
}
