import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Citation, SourceDocument } from '../types.js';
import { locateBench, materializeCorpus } from './bench.js';

/** Where WikiQA's training split is looked for: WIKIQA_FILE, else ../shared/bench/wikiqa/train.jsonl beside the checkout. */
export const locateWikiqa = (root: string): string | null => locateBench(root, 'WIKIQA_FILE', 'wikiqa/train.jsonl');

const Line = z.object({ id: z.string(), question: z.string(), sentences: z.array(z.string()), labels: z.array(z.union([z.literal(0), z.literal(1)])) });

export interface WikiqaQuestion {
  id: string;
  question: string;
  /** The corpus file of the summary it was asked of. */
  source: string;
  /** Indexes of the summary's sentences labelled as answering it (empty: it has no answer there). */
  answers: number[];
  /** Whether it belongs to the held-out part (a quarter of the summaries, with all their questions), never trained on. */
  heldOut: boolean;
}

export interface Wikiqa {
  questions: WikiqaQuestion[];
  /** Each summary's sentences as written to its file, by file name. */
  summaries: Map<string, string[]>;
}

/** WikiQA's tokenised sentences as prose: no spaces before punctuation, no CSV quoting ("In physics , ..." -> "In physics, ..."). */
export function detokenize(sentence: string): string {
  let s = sentence.trim();
  if (s.length > 1 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1);
  return s.replace(/""/g, '"').replace(/\s+([,.;:!?%)\]])/g, '$1').replace(/([([])\s+/g, '$1').replace(/\s+(['’]s)\b/g, '$1').replace(/\s+/g, ' ').trim();
}

/**
 * Reads WikiQA's training split: one summary per distinct sentence list (questions asked of the
 * same summary share one), named by a hash of its sentences; a quarter of the summaries (by that
 * hash), with all their questions, is held out.
 */
export function readWikiqa(file: string): Wikiqa {
  const summaries = new Map<string, string[]>();
  const questions = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const q = Line.parse(JSON.parse(l));
      const hash = createHash('sha256').update(JSON.stringify(q.sentences)).digest('hex');
      const source = `wikiqa-${hash.slice(0, 12)}.txt`;
      if (!summaries.has(source)) summaries.set(source, q.sentences.map(detokenize));
      return { id: q.id, question: q.question.trim(), source, answers: q.labels.flatMap((label, i) => (label ? [i] : [])), heldOut: parseInt(hash.slice(0, 8), 16) % 4 === 0 };
    });
  return { questions, summaries };
}

/** Writes the summaries as a corpus folder, one sentence per paragraph; skips the work when the folder already matches. */
export function materializeWikiqaCorpus(wikiqa: Wikiqa, corpusDir: string): void {
  materializeCorpus(corpusDir, new Map([...wikiqa.summaries].map(([source, sentences]) => [source, `${sentences.join('\n\n')}\n`])));
}

/** Where each of a summary's sentences stands in its document's clean text (null when cleaning changed it past finding). */
export function sentenceSpans(document: SourceDocument, sentences: string[]): Array<{ start: number; end: number } | null> {
  let from = 0;
  return sentences.map((s) => {
    const at = document.text.indexOf(s, from);
    if (at < 0) return null;
    from = at + s.length;
    return { start: at, end: at + s.length };
  });
}

/** An answer is right when it comes from the question's summary and mostly covers one of its labelled sentences. */
export function isRightAnswer(question: WikiqaQuestion, spans: Array<{ start: number; end: number } | null>, answer: Pick<Citation, 'source' | 'start' | 'end'>): boolean {
  if (answer.source !== question.source) return false;
  return question.answers.some((i) => {
    const gold = spans[i];
    if (!gold) return false;
    const overlap = Math.min(gold.end, answer.end) - Math.max(gold.start, answer.start);
    return overlap >= 0.5 * Math.min(gold.end - gold.start, answer.end - answer.start);
  });
}

export interface TriggerMetrics {
  questions: number;
  /** Questions with a labelled answer. */
  answerable: number;
  /** Questions the archive answered (answer not null), and of those, rightly. */
  answered: number;
  right: number;
  precision: number;
  recall: number;
  f1: number;
}

/** Answer-triggering precision, recall and F1 (Yang et al. 2015): right answers over answers given, and over answerable questions. */
export function triggerMetrics(outcomes: Array<{ answerable: boolean; answered: boolean; right: boolean }>): TriggerMetrics {
  const answerable = outcomes.filter((o) => o.answerable).length;
  const answered = outcomes.filter((o) => o.answered).length;
  const right = outcomes.filter((o) => o.answered && o.right).length;
  const precision = answered ? right / answered : 0;
  const recall = answerable ? right / answerable : 0;
  return { questions: outcomes.length, answerable, answered, right, precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0 };
}
