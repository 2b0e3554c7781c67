import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Archive } from '../src/archive.js';
import { evaluateSeedQuestions, readSeedQuestions, type SeedEvaluation } from '../src/eval/seedQuestions.js';
import { seedArchive } from './helpers.js';

const questions = readSeedQuestions(join(import.meta.dirname, 'fixtures', 'seed-questions.json'));

// Floors a little under what the default settings measured (46 questions: hit@1 0.783, hit@5 0.957, MRR@10 0.850),
// so a change that loses two or more answers fails.
const FLOORS = { hitAt1: 0.73, hitAt5: 0.91, mrrAt10: 0.8 };

let archive: Archive;
let result: SeedEvaluation;
beforeAll(async () => {
  archive = await seedArchive();
  result = await evaluateSeedQuestions(archive, questions);
});

describe('the seed question set', () => {
  it('has at least 30 questions, each with gold text found in its source', () => {
    expect(questions.length).toBeGreaterThanOrEqual(30);
    for (const q of questions) {
      const doc = archive.documents().find((d) => d.source === q.source);
      expect(doc?.text.includes(q.answer), q.id).toBe(true);
    }
  });

  it('finds the answering passage: hit@1, hit@5 and MRR above the measured floors', () => {
    expect(result.hitAt1).toBeGreaterThanOrEqual(FLOORS.hitAt1);
    expect(result.hitAt5).toBeGreaterThanOrEqual(FLOORS.hitAt5);
    expect(result.mrrAt10).toBeGreaterThanOrEqual(FLOORS.mrrAt10);
  });

  it('beats BM25 alone and dense alone on MRR', async () => {
    const weighted = (denseWeight: number) => archive.withConfig({ ...archive.config, retrieval: { ...archive.config.retrieval, denseWeight } });
    const bm25 = await evaluateSeedQuestions(weighted(0), questions);
    const dense = await evaluateSeedQuestions(weighted(1), questions);
    expect(result.mrrAt10).toBeGreaterThan(bm25.mrrAt10);
    expect(result.mrrAt10).toBeGreaterThan(dense.mrrAt10);
  });
});
