import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { splitSentences } from '../chunk/index.js';
import { locateBench, materializeCorpus } from './bench.js';

/** Where the SQuAD questions are looked for: SQUAD_FILE, else ../shared/bench/squad/dev-even-articles.json beside the checkout. */
export const locateSquad = (root: string): string | null => locateBench(root, 'SQUAD_FILE', 'squad/dev-even-articles.json');

const SquadFile = z.object({
  data: z.array(
    z.object({
      title: z.string(),
      paragraphs: z.array(z.object({ context: z.string(), qas: z.array(z.object({ id: z.string(), question: z.string(), answers: z.array(z.object({ answer_start: z.number().int(), text: z.string() })) })) })),
    }),
  ),
});

/** Which part of the data an article belongs to: trained on, used to choose settings, or held out for the figures we report. */
export type SquadPart = 'train' | 'dev' | 'test';

export interface SquadQuestion {
  id: string;
  question: string;
  /** Answer spans as the annotators gave them (offsets into the paragraph). */
  answers: Array<{ start: number; end: number; text: string }>;
}

export interface SquadParagraph {
  article: string;
  part: SquadPart;
  context: string;
  /** Sentence spans of the context, as the archive splits sentences. */
  sentences: Array<{ start: number; end: number }>;
  questions: SquadQuestion[];
}

/**
 * Reads SQuAD and splits it by article (every question of an article in one part): in sha256 order
 * of the titles, the first third is held out (test), the next sixth chooses settings (dev), the rest
 * is trained on.
 */
export function readSquad(file: string): SquadParagraph[] {
  const { data } = SquadFile.parse(JSON.parse(readFileSync(file, 'utf8')));
  const order = data.map((a) => a.title).sort((a, b) => (hash(a) < hash(b) ? -1 : 1));
  const part = (title: string): SquadPart => {
    const at = order.indexOf(title);
    return at < Math.round(order.length / 3) ? 'test' : at < Math.round(order.length / 2) ? 'dev' : 'train';
  };
  return data.flatMap((a) =>
    a.paragraphs.map((p) => ({
      article: a.title,
      part: part(a.title),
      context: p.context,
      sentences: splitSentences(p.context),
      questions: p.qas.map((q) => ({ id: q.id, question: q.question.trim(), answers: q.answers.map((x) => ({ start: x.answer_start, end: x.answer_start + x.text.length, text: x.text })) })),
    })),
  );
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex');

/** Indexes of the sentences that hold one of the answer spans whole: the answering sentences. */
export function answeringSentences(paragraph: SquadParagraph, question: SquadQuestion): number[] {
  const holding = (a: { start: number; end: number }) => paragraph.sentences.flatMap((s, i) => (s.start <= a.start && a.end <= s.end ? [i] : []));
  return [...new Set(question.answers.flatMap(holding))];
}

/** Writes the paragraphs' articles as a corpus folder: one document per article, its paragraphs in order. */
export function materializeSquadCorpus(paragraphs: SquadParagraph[], corpusDir: string): void {
  const articles = new Map<string, string[]>();
  for (const p of paragraphs) articles.set(p.article, [...(articles.get(p.article) ?? []), p.context]);
  materializeCorpus(corpusDir, new Map([...articles].map(([article, contexts]) => [`${article}.txt`, `${contexts.join('\n\n')}\n`])));
}

/** SQuAD's answer normalisation (its official script): lower case, no punctuation, no articles, single spaces. */
export const normalizeAnswer = (text: string) =>
  text
    .toLowerCase()
    .replace(/[\p{P}\p{S}]/gu, '')
    .replace(/\b(a|an|the)\b/g, ' ')
    .split(/\s+/)
    .filter(Boolean)
    .join(' ');

/** SQuAD's official scores of a predicted answer against the gold ones: exact match and token F1, each the best over the golds. */
export function squadScores(prediction: string | null, golds: string[]): { exact: number; f1: number } {
  if (prediction === null) return { exact: 0, f1: 0 };
  const predicted = normalizeAnswer(prediction).split(' ').filter(Boolean);
  let exact = 0;
  let f1 = 0;
  for (const gold of golds) {
    const truth = normalizeAnswer(gold).split(' ').filter(Boolean);
    if (predicted.join(' ') === truth.join(' ')) exact = 1;
    const counts = new Map<string, number>();
    for (const t of truth) counts.set(t, (counts.get(t) ?? 0) + 1);
    let common = 0;
    for (const t of predicted) {
      const n = counts.get(t) ?? 0;
      if (n > 0) {
        common++;
        counts.set(t, n - 1);
      }
    }
    if (common > 0) f1 = Math.max(f1, (2 * common) / (predicted.length + truth.length));
  }
  return { exact, f1 };
}
