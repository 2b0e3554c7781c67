import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Archive } from '../src/archive.js';
import { evaluateSeedQuestions, readSeedQuestions, type SeedEvaluation } from '../src/eval/seedQuestions.js';
import { seedArchive } from './helpers.js';

const questions = readSeedQuestions(join(import.meta.dirname, 'fixtures', 'seed-questions.json'));

// Floors a little under what the default settings measured on the 77 answerable questions (hit@1 0.701,
// hit@5 0.935, MRR@10 0.794; answer right 0.584, 18 withheld; highlighted sentence right 0.736; the 9
// time questions hit@1 0.667; 10 of 13 unanswerable answered with null), so a change that loses a few
// answers fails. The seeds' time questions rank the same with retrieval.timeWeight 0 (their years are
// in the passages' words), so their floor guards retrieval, not the time lift: retrieve.test.ts tests
// the lift on yearly notes that only their dates tell apart. The answer model was trained on these questions too (in cross-validation it measured
// answer right 0.545, 22 withheld, 12 of 13 unanswerable withheld: README), so these are regression
// floors, not held-out figures.
// Short answers: 13 of the 20 questions with short answers written got one of them (the short-answer
// model never saw the seeds: it is trained on SQuAD).
const FLOORS = { shortRight: 12, hitAt1: 0.67, hitAt5: 0.9, mrrAt10: 0.77, answerAccuracy: 0.55, sentenceAccuracy: 0.7, timeHitAt1: 0.55, unanswerableNull: 0.69, answerableWithheld: 21 };

let archive: Archive;
let result: SeedEvaluation;
beforeAll(async () => {
  archive = await seedArchive();
  result = await evaluateSeedQuestions(archive, questions);
});

describe('the seed question set', () => {
  it('has at least 60 questions, each gold text found in its source', () => {
    expect(questions.length).toBeGreaterThanOrEqual(90);
    expect(questions.filter((q) => q.gold.length === 0).length).toBeGreaterThanOrEqual(8);
    for (const q of questions) {
      for (const gold of q.gold) {
        const doc = archive.documents().find((d) => d.source === gold.source);
        expect(doc?.text.includes(gold.answer), q.id).toBe(true);
      }
      // A short answer is written as its gold text has it (a fact the text states).
      for (const short of q.short ?? []) expect(q.gold.some((g) => g.answer.toLowerCase().includes(short.toLowerCase().replace(/^the /, ''))) || archive.documents().some((d) => d.text.includes(short)), `${q.id}: ${short}`).toBe(true);
    }
  });

  it('finds the answering passage: hit@1, hit@5 and MRR above the measured floors', () => {
    expect(result.hitAt1).toBeGreaterThanOrEqual(FLOORS.hitAt1);
    expect(result.hitAt5).toBeGreaterThanOrEqual(FLOORS.hitAt5);
    expect(result.mrrAt10).toBeGreaterThanOrEqual(FLOORS.mrrAt10);
    expect(result.timeHitAt1).toBeGreaterThanOrEqual(FLOORS.timeHitAt1);
  });

  it('answers with the right sentence, and highlights it in the answering passage, above the floors', () => {
    expect(result.answerAccuracy).toBeGreaterThanOrEqual(FLOORS.answerAccuracy);
    expect(result.sentenceAccuracy).toBeGreaterThanOrEqual(FLOORS.sentenceAccuracy);
  });

  it('gives the short answer (answer.short) of most questions asking for a fact that have one written', () => {
    expect(result.shortAnswers.questions).toBeGreaterThanOrEqual(20);
    expect(result.shortAnswers.right).toBeGreaterThanOrEqual(FLOORS.shortRight);
  });

  it('withholds the answer for most questions the archive cannot answer, and for few it can', () => {
    expect(result.unanswerable).toBeGreaterThanOrEqual(13);
    expect(result.unanswerableNull).toBeGreaterThanOrEqual(FLOORS.unanswerableNull);
    expect(result.answerableWithheld).toBeLessThanOrEqual(FLOORS.answerableWithheld);
  });

  it('beats BM25 alone and dense alone on MRR', async () => {
    const weighted = (dense: number, passageBm25: number, contextBm25: number) =>
      archive.withConfig({ ...archive.config, retrieval: { ...archive.config.retrieval, weights: { dense, passageBm25, contextBm25 } } });
    const w = archive.config.retrieval.weights;
    const bm25 = await evaluateSeedQuestions(weighted(0, w.passageBm25, w.contextBm25), questions);
    const dense = await evaluateSeedQuestions(weighted(1, 0, 0), questions);
    expect(result.mrrAt10).toBeGreaterThan(bm25.mrrAt10);
    expect(result.mrrAt10).toBeGreaterThan(dense.mrrAt10);
  });
});
