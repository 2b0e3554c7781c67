import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AnswerReader, candidatesOf, shippedAnswerReader } from '../src/answer/reader/model.js';
import { matchFeatures, readerTokens } from '../src/answer/reader/tokens.js';
import { ReaderNetwork, useWasmBackend, type TrainingQuestion } from '../src/answer/reader/train/network.js';
import { decodeWordVectors, encodeWordVectors } from '../src/answer/reader/vectors.js';
import { answeringSentences, locateSquad, readSquad } from '../src/eval/squad.js';

const ROOT = join(import.meta.dirname, '..');
const reader = shippedAnswerReader();

describe('the answer reader', () => {
  it('computes at query time what the trained network computed (the checks stored with its weights)', async () => {
    expect(reader.model.checks.length).toBeGreaterThanOrEqual(4);
    for (const check of reader.model.checks) expect((await reader.score(check.question, [{ sentence: check.sentence, context: check.context }]))[0]).toBeCloseTo(check.score, 3);
  });

  it('scores a candidate the same alone or among others, and reads its neighbours', async () => {
    const question = 'Who did the council leaders send their letter to?';
    const candidates = [
      { sentence: 'The leaders wrote to Greg Clark, the communities secretary, on Monday.', context: ['Council leaders met in Winchester.'] },
      { sentence: 'The letter said the bid had strong support.', context: [] },
    ];
    const together = await reader.score(question, candidates);
    // Run again after other shapes, it scores the same (onnxruntime keeps no state between runs).
    await reader.score('Why did the bid fail?', [candidates[1]]);
    expect(await reader.score(question, candidates)).toEqual(together);
    expect((await reader.score(question, [candidates[1]]))[0]).toBeCloseTo(together[1], 5);
    expect((await reader.score(question, [{ ...candidates[0], context: [] }]))[0]).not.toBeCloseTo(together[0], 5);
  });

  it('matches words written alike: the same word, the same stem, a shared prefix', () => {
    const [greg, gregory, governs, government, council, councils] = readerTokens('Greg Gregory governs government council councils');
    const out = new Float32Array(3);
    matchFeatures(greg, gregory, out, 0);
    expect([...out]).toEqual([0, 0, expect.closeTo(4 / 7, 5)]);
    matchFeatures(council, councils, out, 0);
    expect([...out]).toEqual([0, 1, expect.closeTo(7 / 8, 5)]);
    matchFeatures(governs, government, out, 0);
    expect(out[0]).toBe(0);
    expect(out[2]).toBeCloseTo(6 / 10, 5);
    matchFeatures(council, council, out, 0);
    expect([...out]).toEqual([1, 1, 1]);
  });

  it('keeps each token\'s offsets and case (a name is capitalised past the first word)', () => {
    const tokens = readerTokens('Roy Perry met ERIC in 2016.');
    expect(tokens.map((t) => [t.lower, t.start, t.end, t.capitalised, t.allCaps, t.digits])).toEqual([
      ['roy', 0, 3, false, false, false],
      ['perry', 4, 9, true, false, false],
      ['met', 10, 13, false, false, false],
      ['eric', 14, 18, true, true, false],
      ['in', 19, 21, false, false, false],
      ['2016', 22, 26, false, false, true],
    ]);
  });
});

describe('the reader\'s word vectors', () => {
  it('round-trip through their file format (int8, to within 1/254), and refuse a damaged file', () => {
    const words = ['mayor', 'council', 'élu'];
    const vectors = Float32Array.from([0.6, -0.8, 1, 0, -0.70710678, 0.70710678]);
    const bytes = encodeWordVectors(words, vectors, 2, Float32Array.from([3.5, 7, 20]));
    const table = decodeWordVectors(bytes);
    expect(table.words).toEqual(words);
    expect(table.index.get('élu')).toBe(2);
    table.vectors.forEach((v, i) => expect(Math.abs(v - vectors[i])).toBeLessThanOrEqual(1 / 254));
    expect([...table.rarity].map((r) => Math.round(r * 12))).toEqual([42, 84, 240]);
    expect(() => decodeWordVectors(bytes.subarray(0, bytes.length - 1))).toThrowError(/truncated/);
    expect(() => decodeWordVectors(Buffer.from('nope'))).toThrowError(/RWV1/);
  });
});

describe('training the reader', () => {
  // A few questions written for the test: each answered by one sentence of its paragraph.
  const paragraph = ['The council was founded in 1889.', 'Its leader is Roy Perry.', 'The county has a population of 1.3 million.', 'Winchester is the county town.'];
  const asked: Array<[string, number]> = [
    ['When was the council founded?', 0],
    ['Who leads the council?', 1],
    ['How many people live in the county?', 2],
    ['Which town is the county town?', 3],
  ];
  const questions: TrainingQuestion[] = asked.map(([question, answer]) => ({ question, candidates: candidatesOf(paragraph), labels: paragraph.map((_, i) => (i === answer ? 1 : 0)) }));
  const options = { d: 8, h: 8, g: 8, candidates: 4, questionsPerBatch: 2, epochs: 30, learningRate: 0.02, dropout: 0.1, seed: 3 };

  it('is deterministic, learns the examples it is given, and its weights run in the query-time reader', async () => {
    await useWasmBackend();
    const train = async () => {
      const network = new ReaderNetwork(options, reader.vectors, ['how', 'the', 'when', 'which', 'who']);
      const losses = await network.train(questions, () => {}, () => {});
      return { network, losses, weights: await network.weights() };
    };
    const [first, second] = [await train(), await train()];
    expect(second.losses).toEqual(first.losses);
    for (const [name, w] of Object.entries(first.weights)) expect(second.weights[name]).toEqual(w);
    expect(first.losses.at(-1)!).toBeLessThan(first.losses[0] / 4);
    const runtime = new AnswerReader({ version: 1, dims: { d: 8, h: 8, g: 8 }, functionWords: ['how', 'the', 'when', 'which', 'who'], tensors: first.weights, checks: [], training: {} }, reader.vectors);
    const pairs = questions.flatMap((q) => q.candidates.map((c) => ({ question: q.question, ...c })));
    const trained = Array.from(await first.network.scorePairs(pairs).data());
    for (const [i, p] of pairs.entries()) expect((await runtime.score(p.question, [p]))[0]).toBeCloseTo(trained[i], 3);
    for (const q of questions) {
      const scores = await runtime.score(q.question, q.candidates);
      expect(scores.indexOf(Math.max(...scores))).toBe(q.labels.indexOf(1));
    }
  }, 120_000);
});

const squad = locateSquad(ROOT);
describe('the shipped reader on SQuAD (benchmark data beside the checkout)', () => {
  it.skipIf(!squad)('picks the answering sentence of held-out paragraphs more often than word overlap does', async () => {
    const paragraphs = readSquad(squad!).filter((p) => p.part === 'test');
    let [reads, overlaps, total] = [0, 0, 0];
    for (const p of paragraphs) {
      const sentences = p.sentences.map((s) => p.context.slice(s.start, s.end));
      if (sentences.length < 2) continue;
      const candidates = candidatesOf(sentences);
      for (const q of p.questions) {
        const right = new Set(answeringSentences(p, q));
        if (!right.size) continue;
        total++;
        const scores = await reader.score(q.question, candidates);
        if (right.has(scores.indexOf(Math.max(...scores)))) reads++;
        const words = new Set(readerTokens(q.question).map((t) => t.lower));
        const overlap = sentences.map((s) => new Set(readerTokens(s).map((t) => t.lower).filter((w) => words.has(w))).size);
        if (right.has(overlap.indexOf(Math.max(...overlap)))) overlaps++;
      }
    }
    process.stderr.write(`[reader] SQuAD held-out paragraphs: reader top-1 ${(reads / total).toFixed(3)}, word overlap ${(overlaps / total).toFixed(3)} over ${total} questions\n`);
    expect(total).toBeGreaterThan(1000);
    expect(reads / total).toBeGreaterThan(overlaps / total + 0.03);
  }, 120_000);
});
