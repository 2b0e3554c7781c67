import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Archive } from '../archive.js';
import type { Citation } from '../types.js';
import { squadScores } from './squad.js';

const GoldSchema = z.object({
  /** Corpus file that answers. */
  source: z.string(),
  /** Text of that file's clean text that answers. */
  answer: z.string().min(1),
});

export const SeedQuestionSchema = z.object({
  id: z.string(),
  question: z.string().min(1),
  /** paraphrase, time, cross-document, unanswerable. */
  tags: z.array(z.string()),
  /** Empty when the archive cannot answer the question. */
  gold: z.array(GoldSchema),
  /** For a question asking for a fact: its short answers, any of which is right (after SQuAD's normalisation). */
  short: z.array(z.string().min(1)).optional(),
});
export type SeedQuestion = z.infer<typeof SeedQuestionSchema>;

export function readSeedQuestions(file: string): SeedQuestion[] {
  return z.object({ questions: z.array(SeedQuestionSchema) }).parse(JSON.parse(readFileSync(file, 'utf8'))).questions;
}

/** A result answers a question when it is from a gold file and holds at least half of that gold text (`text` is its document's clean text). */
export function answers(text: string, question: SeedQuestion, result: Pick<Citation, 'source' | 'start' | 'end'>): boolean {
  return question.gold.some((gold) => {
    if (result.source !== gold.source) return false;
    const start = text.indexOf(gold.answer);
    if (start < 0) throw new Error(`${question.id}: gold text not found in ${gold.source}`);
    const end = start + gold.answer.length;
    return Math.min(end, result.end) - Math.max(start, result.start) >= (end - start) / 2;
  });
}

export interface SeedEvaluation {
  /** Answerable questions; hit@k, MRR and answer accuracy are over these. */
  questions: number;
  hitAt1: number;
  hitAt5: number;
  mrrAt10: number;
  /** Share of answerable questions whose extractive answer overlaps the gold text. */
  answerAccuracy: number;
  /** Answerable questions answered with null. */
  answerableWithheld: number;
  /** Of the questions whose answering passage is in the top 10, how often its highlighted sentence is the answer. */
  sentenceAccuracy: number;
  /** Share of unanswerable questions answered with null. */
  unanswerableNull: number;
  unanswerable: number;
  /** Every question's answer probability and whether the answer was right (false for unanswerable ones): the curve of answers given against right. */
  answers: Array<{ id: string; score: number | null; right: boolean }>;
  /** hit@1 of the questions that name a year or period. */
  timeHitAt1: number;
  /** Of the questions with short answers written, how many got one of them as answer.short. */
  shortAnswers: { questions: number; right: number };
  /** Evidence sentences given beside answers (why and how questions), and how many of them hold gold text. */
  evidence: { given: number; right: number };
  misses: Array<{ id: string; question: string; rank: number | null }>;
}

export async function evaluateSeedQuestions(archive: Archive, questions: SeedQuestion[]): Promise<SeedEvaluation> {
  const answerable = questions.filter((q) => q.gold.length > 0);
  const unanswerable = questions.filter((q) => q.gold.length === 0);
  const ranks = new Map<string, number | null>();
  let answered = 0;
  let withheld = 0;
  const outcomes: SeedEvaluation['answers'] = [];
  let located = 0;
  let highlighted = 0;
  const short = { questions: 0, right: 0 };
  const evidence = { given: 0, right: 0 };
  for (const q of answerable) {
    const response = await archive.search(q.question, { k: 10 });
    const textOf = (docId: string) => archive.document(docId)!.text;
    const index = response.results.findIndex((r) => answers(textOf(r.docId), q, r));
    ranks.set(q.id, index >= 0 ? index + 1 : null);
    const found = response.results[index];
    if (found) located++;
    if (found && answers(textOf(found.docId), q, { ...found.sentence, source: found.source })) highlighted++;
    const right = response.answer !== null && answers(textOf(response.answer.citation.docId), q, response.answer.citation);
    if (right) answered++;
    for (const e of response.answer?.evidence ?? []) {
      evidence.given++;
      if (answers(textOf(e.citation.docId), q, e.citation)) evidence.right++;
    }
    if (q.short) {
      short.questions++;
      short.right += squadScores(response.answer?.short?.text ?? null, q.short).exact;
    }
    if (!response.answer) withheld++;
    outcomes.push({ id: q.id, score: response.answer?.score ?? null, right });
  }
  let nulls = 0;
  for (const q of unanswerable) {
    const { answer } = await archive.search(q.question, { k: 10 });
    if (answer === null) nulls++;
    outcomes.push({ id: q.id, score: answer?.score ?? null, right: false });
  }
  const share = (qs: SeedQuestion[], test: (rank: number | null) => boolean) => (qs.length ? qs.filter((q) => test(ranks.get(q.id)!)).length / qs.length : 0);
  const time = answerable.filter((q) => q.tags.includes('time'));
  return {
    questions: answerable.length,
    hitAt1: share(answerable, (r) => r === 1),
    hitAt5: share(answerable, (r) => r !== null && r <= 5),
    mrrAt10: answerable.reduce((sum, q) => sum + (ranks.get(q.id) ? 1 / ranks.get(q.id)! : 0), 0) / answerable.length,
    answerAccuracy: answered / answerable.length,
    answerableWithheld: withheld,
    sentenceAccuracy: located ? highlighted / located : 0,
    unanswerableNull: unanswerable.length ? nulls / unanswerable.length : 0,
    unanswerable: unanswerable.length,
    answers: outcomes,
    timeHitAt1: share(time, (r) => r === 1),
    shortAnswers: short,
    evidence,
    misses: answerable.filter((q) => ranks.get(q.id) !== 1).map((q) => ({ id: q.id, question: q.question, rank: ranks.get(q.id)! })),
  };
}
