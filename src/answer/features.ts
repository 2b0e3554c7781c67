import { dot } from '../embed/index.js';
import type { Mention, SentenceTags } from './entities.js';
import { ANSWER_TYPES, type AnswerType, type Question } from './question.js';

/** What the scorer knows of one candidate sentence: the question, the sentence, and its passage. */
export interface Candidate {
  question: Question;
  /** idf of each of the question's terms, and their sum. */
  weights: Map<string, number>;
  totalWeight: number;
  /** The question's words as written (lower-cased), to tell a new mention from one the question already makes. */
  questionWords: Set<string>;
  queryVector: Float32Array;
  /** The question's adjacent term pairs ("elect mayor"), matched as adjacent pairs in a sentence. */
  bigrams: Array<[string, string]>;
  passage: PassageContext;
  /** readerScore: the answer reader's score of the sentence as an answer (reader/model.ts). */
  sentence: { index: number; count: number; text: string; tags: SentenceTags; terms: Set<string>; vector: Float32Array; docOffset: number; meaningCoverage: number; readerScore: number };
}

/** What a sentence is measured against in its passage: its rank and score, and its other sentences. */
export interface PassageContext {
  rank: number;
  score: number;
  terms: Set<string>;
  words: Set<string>;
  /** How many of the passage's sentences hold each term; the best coverage and dense similarity among them. */
  sentenceFrequency: Map<string, number>;
  sentences: number;
  maxCoverage: number;
  maxDense: number;
  /** The reader's best score among the passage's sentences. */
  maxReader: number;
  /** The question's coverage by the whole passage, and the share of its names the passage mentions. */
  coverage: number;
  names: number;
}

/** Mention kinds that answer each question type (a number also answers "how much", a person "which minister"). */
const ANSWERED_BY: Partial<Record<AnswerType, Array<keyof SentenceTags['mentions']>>> = {
  number: ['number', 'quantity'],
  quantity: ['quantity', 'number'],
  date: ['date'],
  person: ['person'],
  organisation: ['organisation'],
  place: ['place'],
  cause: ['cause'],
  manner: ['manner'],
  definition: ['definition'],
};

/** Question types some mention kind answers: one feature each. */
const TYPED = ANSWER_TYPES.filter((t) => ANSWERED_BY[t]);

/** Mentions of the kinds the question asks for that the question itself does not already make. */
function newMentions(c: Candidate): { any: boolean; fresh: Mention[] } {
  const kinds = ANSWERED_BY[c.question.type] ?? [];
  const all = kinds.flatMap((k) => c.sentence.tags.mentions[k]);
  // Cue words (because, by, is a) are never "in the question" in the way a name or a number is.
  const cue = c.question.type === 'cause' || c.question.type === 'manner' || c.question.type === 'definition';
  const fresh = cue ? all : all.filter((m) => m.words.some((w) => !c.questionWords.has(w)));
  return { any: all.length > 0, fresh };
}

/** Share of the question's term weight (idf) that a set of terms holds. */
export function coverage(weights: Map<string, number>, totalWeight: number, terms: Set<string>): number {
  if (totalWeight <= 0) return 0;
  let covered = 0;
  for (const [term, w] of weights) if (terms.has(term)) covered += w;
  return covered / totalWeight;
}

/**
 * Coverage by the terms that set this sentence apart in its passage: a question term every sentence
 * holds (the passage's topic, "glacier") says little about which sentence answers; one only this
 * sentence holds ("formed") says much.
 */
function localCoverage(c: Candidate): number {
  if (c.totalWeight <= 0 || c.passage.sentences <= 1) return 0;
  let covered = 0;
  for (const [term, w] of c.weights) if (c.sentence.terms.has(term)) covered += w * (1 - ((c.passage.sentenceFrequency.get(term) ?? 1) - 1) / (c.passage.sentences - 1));
  return covered / c.totalWeight;
}

/**
 * Coverage by meaning, for each of a question's candidate sentences: each of the question's content
 * words counts by its weight times its best cosine similarity to a word of the sentence (1 for the
 * word itself), so "how did she die" meets "died of typhus" and "how big" meets "population".
 * `similarity` holds, for each distinct sentence word (row, numbered by `rows`), its similarity to
 * each content word (column).
 */
export function meaningCoverage(contentWords: Array<{ word: string; weight: number }>, sentences: SentenceTags[], rows: Map<string, number>, similarity: Float32Array): number[] {
  const total = contentWords.reduce((s, w) => s + w.weight, 0);
  const columns = contentWords.length;
  return sentences.map((tags) => {
    if (total <= 0) return 0;
    let covered = 0;
    contentWords.forEach(({ word, weight }, q) => {
      let best = tags.words.has(word) ? 1 : 0;
      for (const t of tags.content) {
        if (best >= 1) break;
        const row = rows.get(t);
        if (row !== undefined && similarity[row * columns + q] > best) best = similarity[row * columns + q];
      }
      covered += weight * best;
    });
    return covered / total;
  });
}

/** Share of the question's adjacent term pairs that stand adjacent in the sentence. */
function bigramShare(c: Candidate): number {
  if (!c.bigrams.length) return 0;
  const { stems } = c.sentence.tags;
  let found = 0;
  for (const [a, b] of c.bigrams) {
    for (let i = 0; i + 1 < stems.length; i++) {
      if (stems[i] === a && stems[i + 1] === b) {
        found++;
        break;
      }
    }
  }
  return found / c.bigrams.length;
}

export const share = (names: string[], words: Set<string>) => (names.length ? names.filter((n) => words.has(n)).length / names.length : 1);

/** Token distance from a question term matched in the sentence to the nearest new answer mention, as 1 / (1 + distance); 0 without both. */
function proximity(c: Candidate, fresh: Mention[]): number {
  const matched = c.sentence.tags.stems.flatMap((stem, i) => (c.weights.has(stem) ? [i] : []));
  if (!matched.length || !fresh.length) return 0;
  let best = Infinity;
  for (const m of fresh) for (const i of matched) best = Math.min(best, i < m.start ? m.start - i : i >= m.end ? i - m.end + 1 : Infinity);
  return Number.isFinite(best) ? 1 / (1 + best) : 0;
}

export interface FeatureGroup {
  name: string;
  /** Names of its features, in the order `features` returns them. */
  features: string[];
}

/** The feature groups, in the order of the feature vector (the ablation rows of README and eval). */
export const FEATURE_GROUPS: FeatureGroup[] = [
  { name: 'answer type', features: [...TYPED.map((t) => `type:${t}`), 'type:only-in-question', 'definition-first'] },
  { name: 'term coverage', features: ['coverage', 'passage-coverage', 'relative-coverage', 'local-coverage', 'bigrams', 'names', 'passage-names'] },
  { name: 'focus', features: ['focus', 'focus-missing'] },
  { name: 'proximity', features: ['proximity'] },
  { name: 'dense similarity', features: ['dense', 'relative-dense', 'soft-coverage'] },
  { name: 'passage retrieval', features: ['passage-score', 'passage-rank'] },
  { name: 'position', features: ['position-in-passage', 'document-start'] },
  { name: 'length and form', features: ['log-words', 'short', 'long', 'question-mark', 'no-full-stop'] },
  { name: 'time', features: ['past-sentence', 'tense-mismatch'] },
  { name: 'reader', features: ['reader', 'reader-relative'] },
];

export const FEATURE_NAMES = FEATURE_GROUPS.flatMap((g) => g.features);

/** The feature vector of one candidate sentence, in FEATURE_NAMES order. */
export function features(c: Candidate): number[] {
  const { any, fresh } = newMentions(c);
  const type = c.question.type;
  const words = c.sentence.tags.tokens.length;
  const sentenceWords = c.sentence.tags.words;
  const text = c.sentence.text.trim();
  const covered = coverage(c.weights, c.totalWeight, c.sentence.terms);
  const dense = dot(c.queryVector, c.sentence.vector);
  const first = c.sentence.docOffset < 1 ? 1 : 0;
  const { past } = c.sentence.tags;
  return [
    ...TYPED.map((t) => (t === type && fresh.length > 0 ? 1 : 0)),
    any && fresh.length === 0 ? 1 : 0,
    // "What is X": a document's first sentence usually says.
    type === 'definition' ? first : 0,
    covered,
    c.passage.coverage,
    covered - c.passage.maxCoverage,
    localCoverage(c),
    bigramShare(c),
    share(c.question.names, sentenceWords),
    c.passage.names,
    c.question.focus && c.sentence.terms.has(c.question.focus) ? 1 : 0,
    c.question.focus && !c.sentence.terms.has(c.question.focus) ? 1 : 0,
    proximity(c, fresh),
    dense,
    dense - c.passage.maxDense,
    c.sentence.meaningCoverage,
    c.passage.score,
    1 / c.passage.rank,
    c.sentence.count > 1 ? c.sentence.index / (c.sentence.count - 1) : 0,
    first,
    Math.log1p(words),
    words < 5 ? 1 : 0,
    words > 40 ? 1 : 0,
    text.endsWith('?') ? 1 : 0,
    /[.!?"”’)]$/.test(text) ? 0 : 1,
    past ? 1 : 0,
    // "How long does it take now" is not answered by what it "used to be", nor the other way round.
    (c.question.tense === 'present' && past) || (c.question.tense === 'past' && !past) ? 1 : 0,
    c.sentence.readerScore,
    c.sentence.readerScore - c.passage.maxReader,
  ];
}
