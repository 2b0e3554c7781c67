import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Archive } from '../archive.js';
import type { Citation } from '../types.js';

export const SeedQuestionSchema = z.object({
  id: z.string(),
  question: z.string().min(1),
  /** Corpus file that answers it. */
  source: z.string(),
  /** Text of that file's clean text that answers it. */
  answer: z.string().min(1),
});
export type SeedQuestion = z.infer<typeof SeedQuestionSchema>;

export function readSeedQuestions(file: string): SeedQuestion[] {
  return z.object({ questions: z.array(SeedQuestionSchema) }).parse(JSON.parse(readFileSync(file, 'utf8'))).questions;
}

/** A result answers a question when it is from the right file and holds at least half of the gold text. */
export function answers(archive: Archive, question: SeedQuestion, result: Pick<Citation, 'source' | 'docId' | 'start' | 'end'>): boolean {
  if (result.source !== question.source) return false;
  const text = archive.document(result.docId)!.text;
  const start = text.indexOf(question.answer);
  if (start < 0) throw new Error(`${question.id}: gold text not found in ${question.source}`);
  const end = start + question.answer.length;
  const overlap = Math.min(end, result.end) - Math.max(start, result.start);
  return overlap >= (end - start) / 2;
}

export interface SeedEvaluation {
  questions: number;
  hitAt1: number;
  hitAt5: number;
  mrrAt10: number;
  /** Share of questions whose extractive answer overlaps the gold text. */
  answerAccuracy: number;
  misses: Array<{ id: string; question: string; rank: number | null }>;
}

export async function evaluateSeedQuestions(archive: Archive, questions: SeedQuestion[]): Promise<SeedEvaluation> {
  let hit1 = 0;
  let hit5 = 0;
  let rr = 0;
  let answered = 0;
  const misses: SeedEvaluation['misses'] = [];
  for (const q of questions) {
    const response = await archive.search(q.question, { k: 10 });
    const index = response.results.findIndex((r) => answers(archive, q, r));
    const rank = index >= 0 ? index + 1 : null;
    if (rank === 1) hit1++;
    if (rank !== null && rank <= 5) hit5++;
    if (rank !== null) rr += 1 / rank;
    if (rank !== 1) misses.push({ id: q.id, question: q.question, rank });
    if (response.answer && answers(archive, q, response.answer.citation)) answered++;
  }
  const n = questions.length;
  return { questions: n, hitAt1: hit1 / n, hitAt5: hit5 / n, mrrAt10: rr / n, answerAccuracy: answered / n, misses };
}
