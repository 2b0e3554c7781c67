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
