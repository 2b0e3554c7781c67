import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { describeZodError, UserError, type Config } from '../config.js';
import { pageAt, sectionAt } from '../ingest/index.js';
import type { RankedPassage } from '../retrieve/index.js';
import { stemOf, words } from '../text/tokens.js';
import type { Answer, SearchHit, SourceDocument } from '../types.js';
import { coverage, features, FEATURE_NAMES, meaningCoverage, share, type Candidate, type PassageContext } from './features.js';
import { LogisticSchema, logit, sigmoid, type Logistic } from './logistic.js';
import { ANSWER_TYPES, readQuestion, type Question } from './question.js';
import type { SentenceCache, WordVectors } from './sentences.js';
import { dot, trainable } from '../embed/index.js';
import { candidatesOf, type AnswerReader } from './reader/model.js';
import { shippedShortModel, shortAnswer } from './short.js';

export { SentenceCache, WordVectors } from './sentences.js';
export { FEATURE_GROUPS, FEATURE_NAMES } from './features.js';
export { fitConditionalLogit, fitLogistic, probability } from './logistic.js';
export { readQuestion } from './question.js';
export { shippedAnswerReader } from './reader/model.js';

/** The question-level features of the answer decision: is the best candidate an answer at all? */
export const TRIGGER_FEATURES = ['best', 'margin', 'uncovered-terms', 'missing-names', 'best-passage-score', 'best-has-type', 'passage-margin', 'question-terms', ...ANSWER_TYPES.map((t) => `question:${t}`), ...FEATURE_NAMES.map((f) => `best:${f}`)];
/** Trigger features that say what makes a question unanswerable here (an ablation row of their own). */
export const UNANSWERABLE_CUES = ['uncovered-terms', 'missing-names'];

/**
 * The learned answer scorer (scripts/train-answer.ts writes it): a ranker that scores each
 * candidate sentence, and a trigger that turns the best candidate into a calibrated probability
 * that it answers the question. Feature lists are by name, so a model trained without some
 * features (an ablation) loads too.
 */
export const AnswerModelSchema = z.object({
  version: z.literal(1),
  ranker: LogisticSchema,
  trigger: LogisticSchema,
  /** Answers less likely than this are withheld (answer: null); chosen from the training curve. */
  threshold: z.number().min(0).max(1),
  /** How the model was made and what it measured: for people, not read by the code. */
  training: z.record(z.string(), z.unknown()),
});
export type AnswerModel = z.infer<typeof AnswerModelSchema>;

const DEFAULT_MODEL = new URL('./answer-model.json', import.meta.url);

/** Loads config.answer.model (a file written by `npm run train-answer`), or the model shipped in the repository. */
export function loadAnswerModel(config: Config): AnswerModel {
  const file = config.answer.model ?? DEFAULT_MODEL;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`The answer model ${String(file)} cannot be read: ${(e as Error).message}. Write one with: npm run train-answer`, 'answer_model_invalid');
  }
  const parsed = AnswerModelSchema.safeParse(json);
  if (!parsed.success) throw new UserError(`The answer model ${String(file)} is not one this version reads: ${describeZodError(parsed.error)}`, 'answer_model_invalid');
  const unknown = [...parsed.data.ranker.features.filter((f) => !FEATURE_NAMES.includes(f)), ...parsed.data.trigger.features.filter((f) => !TRIGGER_FEATURES.includes(f))];
  if (unknown.length) throw new UserError(`The answer model ${String(file)} uses features this version does not compute: ${unknown.join(', ')}`, 'answer_model_invalid');
  return parsed.data;
}

/** Where each of a model's features stands in the full vector, found once per model. */
const positions = new WeakMap<string[], number[]>();

/** The values of `wanted` features (a model's), picked by name from a full vector named by `names`. */
export function pickFeatures(names: string[], values: number[], wanted: string[]): number[] {
  let at = positions.get(wanted);
  if (!at) positions.set(wanted, (at = wanted.map((w) => names.indexOf(w))));
  return at.map((i) => values[i]);
}

/** What reading a question needs beside the passages: their sentences, the archive's word weights, and the answer reader. */
export interface Reader {
  sentences: SentenceCache;
  words: WordVectors;
  network: AnswerReader;
  /** idf of a lexical term in the archive (rare words count for more). */
  idf: (term: string) => number;
}

/** One sentence of a ranked passage and its features. */
export interface CandidateSentence {
  passage: number;
  index: number;
  start: number;
  end: number;
  text: string;
  features: number[];
}

/** What the answer step reads of a question and its passages, before any model scores it. */
export interface Reading {
  question: Question;
  passages: RankedPassage[];
  /** Per passage, its sentences in order. */
  sentences: CandidateSentence[][];
  /** How many of the first passages the answer is chosen from. */
  considered: number;
  /** Share of the question's term weight that none of those passages has, and of its names that none mentions. */
  uncovered: number;
  missingNames: number;
}

/** Splits, tags and describes every sentence of the passages (features in FEATURE_NAMES order). */
export async function readPassages(reader: Reader, config: Config, query: string, queryVector: Float32Array, passages: RankedPassage[]): Promise<Reading> {
  const question = readQuestion(query);
  const weights = new Map(question.terms.map((t) => [t, reader.idf(t)]));
  const totalWeight = [...weights.values()].reduce((a, b) => a + b, 0);
  const questionWords = new Set(words(query));
  const bigrams = [...new Map(question.terms.slice(1).map((t, i): [string, [string, string]] => [`${question.terms[i]} ${t}`, [question.terms[i], t]])).values()];
  const cached = await reader.sentences.of(passages.map((p) => p.chunk));
  const contentWords = [...questionWords].filter(trainable).map((word) => ({ word, weight: reader.idf(stemOf(word)) }));
  const allTags = cached.flatMap((c) => c.tags);
  const rows = new Map<string, number>();
  for (const tags of allTags) for (const t of tags.content) if (!rows.has(t)) rows.set(t, rows.size);
  const similarity = await reader.words.similarities([...rows.keys()], contentWords.map((w) => w.word));
  const meaning = meaningCoverage(contentWords, allTags, rows, similarity);
  let sentenceNumber = 0;
  const union = (sets: Iterable<Iterable<string>>) => new Set([...sets].flatMap((s) => [...s]));
  const considered = Math.min(config.answer.passagesConsidered, passages.length);
  // The reader reads each sentence of the passages the answer is chosen from, with its neighbours
  // in the passage, all in one run. The passages below are not read: a passage's sentences then
  // share reader features of 0, which cancel in the choice of its highlighted sentence (a softmax
  // over its own sentences), so that choice rests on the rest.
  const read = await reader.network.score(query, cached.slice(0, considered).flatMap((c) => candidatesOf(c.spans.map((span) => span.text))));
  let readAt = 0;
  const sentences = passages.map((p, n) => {
    const { spans, vectors, terms, tags } = cached[n];
    const readerScores = n < considered ? read.slice(readAt, (readAt += spans.length)) : spans.map(() => 0);
    const sentenceFrequency = new Map<string, number>();
    for (const set of terms) for (const t of set) if (weights.has(t)) sentenceFrequency.set(t, (sentenceFrequency.get(t) ?? 0) + 1);
    const passage: PassageContext = {
      rank: n + 1,
      score: p.score,
      terms: cached[n].allTerms,
      words: cached[n].allWords,
      sentenceFrequency,
      sentences: spans.length,
      maxCoverage: Math.max(0, ...terms.map((t) => coverage(weights, totalWeight, t))),
      maxDense: Math.max(-1, ...vectors.map((v) => dot(queryVector, v))),
      maxReader: Math.max(...readerScores),
      coverage: coverage(weights, totalWeight, cached[n].allTerms),
      names: share(question.names, cached[n].allWords),
    };
    return spans.map((span, i): CandidateSentence => {
      const candidate: Candidate = {
        question,
        weights,
        totalWeight,
        questionWords,
        queryVector,
        bigrams,
        passage,
        sentence: { index: i, count: spans.length, text: span.text, tags: tags[i], terms: terms[i], vector: vectors[i], docOffset: span.start, meaningCoverage: meaning[sentenceNumber++], readerScore: readerScores[i] },
      };
      return { passage: n, index: i, start: span.start, end: span.end, text: span.text, features: features(candidate) };
    });
  });
  const top = cached.slice(0, considered);
  const coveredTerms = union(top.map((c) => c.allTerms));
  const coveredWords = union(top.map((c) => c.allWords));
  const uncovered = totalWeight > 0 ? [...weights].filter(([t]) => !coveredTerms.has(t)).reduce((sum, [, w]) => sum + w, 0) / totalWeight : 0;
  const missingNames = question.names.length ? question.names.filter((name) => !coveredWords.has(name)).length / question.names.length : 0;
  return { question, passages, sentences, considered, uncovered, missingNames };
}

/** A model's view of a reading: every sentence's log-odds, the best candidate, and the probability that it answers. */
export interface Decision {
  /** Per passage, the ranker's log-odds of each sentence. */
  logits: number[][];
  /** The sentences the answer is chosen from, best first. */
  candidates: CandidateSentence[];
  best: CandidateSentence | null;
  /** The trigger's features, in TRIGGER_FEATURES order. */
  trigger: number[];
  probability: number;
}

/** Each document's headings as "start:end" keys, made once per loaded document. */
const headingKeys = new WeakMap<SourceDocument, Set<string>>();

/** A sentence that is one of its document's headings (a section's name names the subject, it answers nothing). */
function isHeading(reading: Reading, s: CandidateSentence): boolean {
  const document = reading.passages[s.passage].document;
  if (!document.headings) return false;
  let keys = headingKeys.get(document);
  if (!keys) headingKeys.set(document, (keys = new Set(document.headings.map((h) => `${h.start}:${h.end}`))));
  return keys.has(`${s.start}:${s.end}`);
}

/** The trigger's features for `best` taken as the answer, against the runner-up `second`. */
function triggerFeatures(reading: Reading, logits: number[][], best: CandidateSentence | undefined, second: CandidateSentence | undefined): number[] {
  const scored = (s: CandidateSentence) => logits[s.passage][s.index];
  const type = reading.question.type;
  return [
    best ? scored(best) : -10,
    best ? scored(best) - (second ? scored(second) : scored(best) - 5) : 0,
    reading.uncovered,
    reading.missingNames,
    best ? reading.passages[best.passage].score : 0,
    best ? (best.features[FEATURE_NAMES.indexOf(`type:${type}`)] ?? 0) : 0,
    // How far the top passage stands above the next: a question the archive knows about usually has a clear first passage.
    reading.passages.length > 1 ? reading.passages[0].score - reading.passages[1].score : 1,
    Math.log1p(reading.question.terms.length),
    ...ANSWER_TYPES.map((t) => (t === type ? 1 : 0)),
    // The best candidate's own evidence, which the trigger may weigh otherwise than the ranker did.
    ...FEATURE_NAMES.map((_, j) => (best ? best.features[j] : 0)),
  ];
}

const triggerProbability = (trigger: Logistic, features: number[]) => sigmoid(logit(trigger, pickFeatures(TRIGGER_FEATURES, features, trigger.features)));

/** Scores a reading with a ranker, and its best candidate with a trigger. */
export function decide(reading: Reading, ranker: Logistic, trigger: Logistic): Decision {
  const logits = reading.sentences.map((list) => list.map((s) => logit(ranker, pickFeatures(FEATURE_NAMES, s.features, ranker.features))));
  const scored = (s: CandidateSentence) => logits[s.passage][s.index];
  // The answer is chosen among the top passages' sentences, never a heading alone; a sentence shared by two overlapping passages counts once.
  const candidates = [...new Map(reading.sentences.slice(0, reading.considered).flat().filter((s) => !isHeading(reading, s)).map((s) => [`${reading.passages[s.passage].document.id}:${s.start}`, s])).values()];
  candidates.sort((a, b) => scored(b) - scored(a) || a.passage - b.passage);
  const [best, second] = candidates;
  const features = triggerFeatures(reading, logits, best, second);
  const probability = best ? triggerProbability(trigger, features) : 0;
  return { logits, candidates, best: best ?? null, trigger: features, probability };
}

/** Sentences given as evidence beside an answer, at most. */
export const MAX_EVIDENCE = 3;

/**
 * For a why or how question, up to MAX_EVIDENCE more sentences the models also judge to answer:
 * each would be given as the answer were the answer not there (the trigger's probability, against
 * the candidate ranked after it, at least `threshold` and at least half the answer's: the answer
 * threshold alone let in sentences that merely share the subject). From other passages than the
 * answer's and outside its span, other documents first: a cause is often told twice, or two causes
 * in two places.
 */
export function evidenceFor(reading: Reading, decision: Decision, trigger: Logistic, threshold: number, span: { start: number; end: number }): Array<{ sentence: CandidateSentence; probability: number }> {
  const best = decision.best;
  if (!best || (reading.question.type !== 'cause' && reading.question.type !== 'manner')) return [];
  const document = (s: CandidateSentence) => reading.passages[s.passage].document.id;
  const others = decision.candidates.filter((s) => s !== best && s.passage !== best.passage && !(document(s) === document(best) && s.start < span.end && span.start < s.end));
  const judged = others.map((s, i) => ({ sentence: s, probability: triggerProbability(trigger, triggerFeatures(reading, decision.logits, s, others[i + 1])) })).filter((e) => e.probability >= Math.max(threshold, decision.probability / 2));
  const elsewhere = (e: { sentence: CandidateSentence }) => (document(e.sentence) === document(best) ? 1 : 0);
  return judged.sort((a, b) => elsewhere(a) - elsewhere(b) || b.probability - a.probability).slice(0, MAX_EVIDENCE);
}

/** A sentence that opens by pointing back ("They took Covid with them", "It was a galvanising influence") continues the one before. */
const CONTINUES = /^["“‘']?(they|it|this|these|that|those|he|she|as a result|so|thus|therefore|hence|which|because|but|and|instead|consequently|in turn)\b/i;

/**
 * For a why/how question, the best sentence with the sentence that continues it, or that it
 * continues (one opening by pointing back, in the same paragraph): a cause often takes two
 * sentences. Otherwise the best sentence alone.
 */
export function answerSpan(reading: Reading, decision: Decision): { start: number; end: number } {
  const best = decision.best!;
  const span = { start: best.start, end: best.end };
  if (reading.question.type !== 'cause' && reading.question.type !== 'manner') return span;
  const text = reading.passages[best.passage].document.text;
  const list = reading.sentences[best.passage];
  const [before, after] = [list[best.index - 1], list[best.index + 1]];
  const joined = (a: CandidateSentence, b: CandidateSentence) => !text.slice(a.start, b.end).includes('\n\n');
  if (after && CONTINUES.test(after.text) && joined(best, after)) return { start: best.start, end: after.end };
  if (before && CONTINUES.test(best.text) && joined(before, best)) return { start: before.start, end: best.end };
  return span;
}

/**
 * Reads the ranked passages for the question: each passage's highlighted sentence (the one the
 * ranker rates best, not one already highlighted above it), and the answer: the best candidate of
 * the top passages with the probability that it answers, or null when that probability is under
 * the threshold (config.answer.minScore, else the model's).
 */
export async function answerQuestion(reader: Reader, model: AnswerModel, config: Config, query: string, queryVector: Float32Array, passages: RankedPassage[], answerPassages: RankedPassage[]): Promise<{ results: SearchHit[]; answer: Answer | null }> {
  // The answer's passages are read first (they are the ones it is chosen from), then the other passages shown.
  const chosenFrom = new Set(answerPassages.map((p) => p.chunk.id));
  const read = [...answerPassages, ...passages.filter((p) => !chosenFrom.has(p.chunk.id))];
  const reading = await readPassages(reader, config, query, queryVector, read);
  const decision = decide(reading, model.ranker, model.trigger);
  const readAt = new Map(read.map((p, n) => [p.chunk.id, n]));
  const shown = new Set<string>();
  const results = passages.map(({ chunk, document: d, score, dense, bm25 }, rank): SearchHit => {
    const n = readAt.get(chunk.id)!;
    // The ranker is a softmax over candidates: a sentence's score is its share of the passage's.
    const max = Math.max(...decision.logits[n]);
    const total = decision.logits[n].reduce((sum, l) => sum + Math.exp(l - max), 0);
    const ranked = reading.sentences[n].map((s) => ({ s, share: Math.exp(decision.logits[n][s.index] - max) / total })).sort((a, b) => b.share - a.share || a.s.index - b.s.index);
    const best = ranked.find(({ s }) => !shown.has(`${d.id}:${s.start}`) && !isHeading(reading, s)) ?? ranked.find(({ s }) => !isHeading(reading, s)) ?? ranked[0];
    shown.add(`${d.id}:${best.s.start}`);
    return {
      rank: rank + 1,
      score,
      docId: d.id,
      source: d.source,
      title: d.title,
      date: d.date,
      page: pageAt(d, chunk.start),
      start: chunk.start,
      end: chunk.end,
      text: chunk.text,
      section: sectionAt(d, chunk.start),
      sentence: { start: best.s.start, end: best.s.end, page: pageAt(d, best.s.start), text: best.s.text, score: round(best.share) },
      scores: { dense, bm25 },
    };
  });
  const threshold = config.answer.minScore ?? model.threshold;
  if (!decision.best || decision.probability < threshold) return { results, answer: null };
  const d = read[decision.best.passage].document;
  const span = answerSpan(reading, decision);
  const cite = (doc: SourceDocument, at: { start: number; end: number }) => ({ docId: doc.id, source: doc.source, title: doc.title, date: doc.date, page: pageAt(doc, at.start), start: at.start, end: at.end });
  const evidence = evidenceFor(reading, decision, model.trigger, threshold, span).map(({ sentence, probability }) => ({ text: sentence.text, score: round(probability), citation: cite(read[sentence.passage].document, sentence) }));
  // A question asking for a fact gets the words of the answering sentence that are the fact.
  const best = decision.best;
  const short = shortAnswer(shippedShortModel(), reader.network.vectors, reading.question, best.text);
  return {
    results,
    answer: {
      text: d.text.slice(span.start, span.end),
      score: round(decision.probability),
      short: short && { text: short.text, start: best.start + short.start, end: best.start + short.end },
      evidence,
      citation: cite(d, span),
    },
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
