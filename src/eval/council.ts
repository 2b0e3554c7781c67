import { readFileSync } from 'node:fs';
import { getDocumentProxy } from 'unpdf';
import { z } from 'zod';
import type { SourceDocument } from '../types.js';
import { locateBench } from './bench.js';
import { mean } from './metrics.js';

/**
 * The council suite: real planning PDFs (../shared/bench/council-docs) with questions written by
 * reading them (tests/fixtures/council-questions.json), and checks of how their text was read.
 */
const CouncilGoldSchema = z.object({
  source: z.string(),
  /** Physical pages (1-based) the answer stands on. */
  pages: z.array(z.number().int().positive()).min(1),
  /** A short phrase the answer holds, compared as lower-case words. */
  answer: z.string().min(1),
});

const CouncilQuestionSchema = z.object({
  id: z.string(),
  kind: z.enum(['factoid', 'why', 'table', 'cross', 'unanswerable']),
  question: z.string().min(1),
  gold: z.array(CouncilGoldSchema),
});
export type CouncilQuestion = z.infer<typeof CouncilQuestionSchema>;

const CouncilDocumentSchema = z.object({
  source: z.string(),
  /** Words the title must hold. */
  title: z.string(),
  /** The cover's date, at the cover's precision. */
  date: z.string(),
});
export type CouncilDocument = z.infer<typeof CouncilDocumentSchema>;

export function readCouncilSuite(file: string): { documents: CouncilDocument[]; questions: CouncilQuestion[] } {
  return z.object({ documents: z.array(CouncilDocumentSchema), questions: z.array(CouncilQuestionSchema) }).parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** The council documents' folder: COUNCIL_DOCS, else ../shared/bench/council-docs beside the checkout; null when absent. */
export const locateCouncilDocs = (root: string): string | null => locateBench(root, 'COUNCIL_DOCS', 'council-docs');

/** " lower-case words joined by single spaces " (padded, so a phrase matches whole words only). */
const words = (s: string) => ` ${(s.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).join(' ')} `;
export const holdsPhrase = (text: string, phrase: string) => words(text).includes(words(phrase));

/** What `batch` writes for one question (the fields the suite reads). */
export interface BatchAnswer {
  id: string;
  answer: { text: string; citation: { source: string; page: number | null } } | null;
  results: Array<{ source: string; page: number | null; text: string }>;
}

export interface QuestionOutcome {
  id: string;
  kind: CouncilQuestion['kind'];
  /** Rank (1-based) of the first result from a gold document holding the gold phrase; null when none of the results does. */
  rank: number | null;
  answerRight: boolean;
  pageRight: boolean;
  answer: string | null;
  answerPage: number | null;
}

export function scoreCouncilAnswer(question: CouncilQuestion, line: BatchAnswer): QuestionOutcome {
  const found = line.results.findIndex((r) => question.gold.some((g) => g.source === r.source && holdsPhrase(r.text, g.answer)));
  const answer = line.answer;
  const gold = answer ? question.gold.filter((g) => g.source === answer.citation.source) : [];
  return {
    id: question.id,
    kind: question.kind,
    rank: found >= 0 ? found + 1 : null,
    // An unanswerable question is answered right by no answer.
    answerRight: question.gold.length === 0 ? answer === null : gold.some((g) => holdsPhrase(answer!.text, g.answer)),
    pageRight: gold.some((g) => answer!.citation.page !== null && g.pages.includes(answer!.citation.page)),
    answer: answer?.text ?? null,
    answerPage: answer?.citation.page ?? null,
  };
}

export interface CouncilSummary {
  answerable: number;
  top1: number;
  top5: number;
  answerRight: number;
  pageRight: number;
  unanswerable: number;
  unanswerableWithheld: number;
  byKind: Record<string, { questions: number; top1: number; top5: number; answerRight: number }>;
}

export function summarizeCouncil(outcomes: QuestionOutcome[]): CouncilSummary {
  const answerable = outcomes.filter((o) => o.kind !== 'unanswerable');
  const unanswerable = outcomes.filter((o) => o.kind === 'unanswerable');
  const share = (xs: QuestionOutcome[], f: (o: QuestionOutcome) => boolean) => mean(xs.map((o) => (f(o) ? 1 : 0)));
  const byKind: CouncilSummary['byKind'] = {};
  for (const kind of new Set(answerable.map((o) => o.kind))) {
    const of = answerable.filter((o) => o.kind === kind);
    byKind[kind] = { questions: of.length, top1: share(of, (o) => o.rank === 1), top5: share(of, (o) => o.rank !== null && o.rank <= 5), answerRight: share(of, (o) => o.answerRight) };
  }
  return {
    answerable: answerable.length,
    top1: share(answerable, (o) => o.rank === 1),
    top5: share(answerable, (o) => o.rank !== null && o.rank <= 5),
    answerRight: share(answerable, (o) => o.answerRight),
    pageRight: share(answerable, (o) => o.pageRight),
    unanswerable: unanswerable.length,
    unanswerableWithheld: unanswerable.filter((o) => o.answerRight).length,
    byKind,
  };
}

/** How one document's text was read, against what a person reading it sees. */
export interface ExtractionCheck {
  source: string;
  pages: number;
  /** Page headers and footers (lines repeating at the top or bottom of pages) still standing in the text. */
  furnitureLeft: number;
  /** Years with a footnote marker fused on ("May 201613"). */
  fusedFootnoteNumbers: number;
  paragraphsPerPage: number;
  medianParagraphWords: number;
  /** Private-use characters (bullet glyphs) and mathematical letters ("𝑆𝑖𝑡𝑒") left in the text. */
  oddCharacters: number;
  title: string;
  titleRight: boolean;
  date: string | null;
  dateRight: boolean;
}

const MONTHS = 'January|February|March|April|May|June|July|August|September|October|November|December';
const FUSED_YEAR = new RegExp(`\\b(?:${MONTHS}) (?:19|20)\\d{3,4}\\b`, 'g');
const ODD_CHARACTERS = /[\uE000-\uF8FF]|[\u{1D400}-\u{1D7FF}]/gu;

/**
 * `furniture` holds each page's top and bottom lines as the PDF lays them out (see pageEdgeLines):
 * a line whose shape (digits as #) stands at the edge of at least three pages and a quarter of
 * them is a running header or footer, and each time its text stands in the document counts.
 */
export function checkExtraction(document: SourceDocument, expected: CouncilDocument, pageEdges: string[][]): ExtractionCheck {
  const shape = (line: string) => line.replace(/\d+/g, '#').replace(/\s+/g, ' ').trim();
  const pagesWith = new Map<string, number>();
  for (const edges of pageEdges) for (const s of new Set(edges.map(shape))) if (s.replace(/[#\W]/g, '').length >= 3) pagesWith.set(s, (pagesWith.get(s) ?? 0) + 1);
  const minPages = Math.max(3, Math.ceil(pageEdges.length / 4));
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let furnitureLeft = 0;
  for (const [s, n] of pagesWith) {
    if (n < minPages) continue;
    const pattern = new RegExp(s.split('#').map((part) => escape(part).replace(/ /g, '\\s+')).join('\\d+'), 'g');
    furnitureLeft += document.text.match(pattern)?.length ?? 0;
  }
  const paragraphs = document.text.split(/\n\s*\n/).filter((p) => p.trim());
  const paragraphWords = paragraphs.map((p) => p.split(/\s+/).length).sort((a, b) => a - b);
  const pages = document.pageStarts?.length ?? 1;
  return {
    source: document.source,
    pages,
    furnitureLeft,
    fusedFootnoteNumbers: document.text.match(FUSED_YEAR)?.length ?? 0,
    paragraphsPerPage: paragraphs.length / pages,
    medianParagraphWords: paragraphWords[Math.floor(paragraphWords.length / 2)] ?? 0,
    oddCharacters: document.text.match(ODD_CHARACTERS)?.length ?? 0,
    title: document.title,
    titleRight: holdsPhrase(document.title, expected.title) && document.title.split(/\s+/).length <= 20,
    date: document.date,
    dateRight: document.date !== null && (document.date === expected.date || document.date.startsWith(`${expected.date}-`)),
  };
}

/** Each page's top two and bottom two lines of text, as laid out (items joined by their baseline). */
export async function pageEdgeLines(bytes: Uint8Array): Promise<string[][]> {
  const pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  const pages: string[][] = [];
  for (let n = 1; n <= pdf.numPages; n++) {
    const content = await (await pdf.getPage(n)).getTextContent();
    const lines = new Map<number, string[]>();
    for (const item of content.items) {
      if (!('str' in item) || !item.str.trim()) continue;
      const y = Math.round(item.transform[5] / 3);
      lines.set(y, [...(lines.get(y) ?? []), item.str]);
    }
    const ordered = [...lines.entries()].sort((a, b) => b[0] - a[0]).map(([, parts]) => parts.join(' ').replace(/\s+/g, ' ').trim());
    pages.push(ordered.length <= 4 ? ordered : [...ordered.slice(0, 2), ...ordered.slice(-2)]);
  }
  return pages;
}
