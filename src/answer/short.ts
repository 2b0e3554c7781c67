import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { STOP } from '../embed/vocabulary.js';
import { AUXILIARY, type AnswerType, type Question } from './question.js';
import { readerTokens, type ReaderToken } from './reader/tokens.js';
import { UNKNOWN_RARITY, type WordVectorTable } from './reader/vectors.js';

/**
 * Short answers: for a question that asks for a fact (who, when, where, how many, which or what
 * + noun), the words of the answering sentence that are the fact ("Greg Clark", "114 minutes").
 * Every run of up to MAX_SPAN_TOKENS words that neither starts nor ends with a function word is a
 * candidate; a conditional logit (trained by `npm run train-short` on SQuAD's answer spans) scores
 * them by what they are (capitalised, a number, a year, a month, a unit), by the question's type,
 * and by where they stand against the words the question shares with the sentence.
 */

export const MAX_SPAN_TOKENS = 8;

/** The question types a short answer is given for; the rest (why, how, what is, yes/no) want the sentence. */
export const SHORT_TYPES = ['number', 'quantity', 'date', 'person', 'organisation', 'place', 'other'] as const satisfies readonly AnswerType[];
type ShortType = (typeof SHORT_TYPES)[number];

const NUMBER_WORDS = new Set('one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred thousand million billion half dozen'.split(' '));
const MONTHS = new Set('january february march april may june july august september october november december'.split(' '));
const UNITS = new Set('minute minutes hour hours day days week weeks month months year years decade decades century centuries mile miles km kilometres kilometers metres meters feet foot acres hectares kg tonnes tons pounds dollars euros pence per percent cent degrees people residents times'.split(' '));
const PREPOSITIONS = new Set('in on at by from since during until before after near into'.split(' '));

const PROPERTIES = ['capitalised', 'digits', 'year', 'month', 'unit inside', 'unit after', 'number word', 'length 1', 'length 2', 'length 3', 'length 4+'] as const;
const SHARED = ['share in question', 'any in question', 'nearness to question words', 'next to a question word', 'question word before', 'question word after', 'focus after', 'focus before', 'whole capitalised run', 'sentence start', 'punctuation inside', 'punctuation after', 'punctuation before', 'after a preposition', 'like the focus', 'rarity'] as const;

/** The candidates' feature names: shared ones, then each property crossed with each question type. */
export const SHORT_FEATURES = [...SHARED, ...SHORT_TYPES.flatMap((t) => PROPERTIES.map((p) => `${t}:${p}`))];

export const ShortModelSchema = z.object({
  version: z.literal(1),
  features: z.array(z.string()),
  weights: z.array(z.number()),
  mean: z.array(z.number()),
  std: z.array(z.number()),
  training: z.record(z.string(), z.unknown()),
});
export type ShortModel = z.infer<typeof ShortModelSchema>;

/**
 * Whether the question asks for a fact a few words can give: who, when, where, how many, how
 * much, how long, and which or what followed by a noun ("which minister", "what year"); not
 * "what did they throw" or "what effect did it have", which want a description.
 */
export function asksForFact(question: Question): question is Question & { type: ShortType } {
  if (!(SHORT_TYPES as readonly string[]).includes(question.type)) return false;
  if (question.type !== 'other') return true;
  const [first, second] = question.text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return (first === 'which' || first === 'what') && !!second && !AUXILIARY.has(second);
}

export interface SpanCandidate {
  /** Token indexes, end exclusive. */
  first: number;
  end: number;
  features: number[];
}

const isYear = (t: ReaderToken) => t.digits && /^(1\d{3}|20\d{2})$/.test(t.lower);
const boundaryStop = (t: ReaderToken) => STOP.has(t.lower) && !NUMBER_WORDS.has(t.lower) && !MONTHS.has(t.lower);

/**
 * The candidate spans of a sentence for a question, with their features. `vectors` gives word
 * meaning (the reader's table) for likeness to the question's focus noun.
 */
export function spanCandidates(question: Question, sentence: string, vectors: WordVectorTable): { tokens: ReaderToken[]; candidates: SpanCandidate[] } {
  const tokens = readerTokens(sentence);
  const asked = new Set(readerTokens(question.text).map((t) => t.stem));
  const inQuestion = tokens.map((t) => asked.has(t.stem) && !STOP.has(t.lower));
  const matched = tokens.flatMap((_, i) => (inQuestion[i] ? [i] : []));
  const focus = question.focus;
  const vectorOf = (word: string) => {
    const row = vectors.index.get(word);
    return row === undefined ? null : vectors.vectors.subarray(row * vectors.dim, (row + 1) * vectors.dim);
  };
  const focusVector = focus ? (vectorOf(question.text.toLowerCase().match(new RegExp(`\\b${focus}\\w*`))?.[0] ?? focus) ?? vectorOf(focus)) : null;
  const type = asksForFact(question) ? question.type : 'other';
  // Per token once (a span reads its tokens' values): likeness to the focus noun, and rarity.
  const like = tokens.map((t) => {
    const v = focusVector && vectorOf(t.lower);
    if (!v || !focusVector) return 0;
    let dot = 0;
    for (let d = 0; d < v.length; d++) dot += v[d] * focusVector[d];
    return Math.max(0, dot);
  });
  const rarities = tokens.map((t) => (vectors.rarity[vectors.index.get(t.lower) ?? -1] ?? UNKNOWN_RARITY) / UNKNOWN_RARITY);
  const candidates: SpanCandidate[] = [];
  for (let first = 0; first < tokens.length; first++) {
    if (boundaryStop(tokens[first])) continue;
    for (let end = first + 1; end <= Math.min(tokens.length, first + MAX_SPAN_TOKENS); end++) {
      const last = tokens[end - 1];
      if (boundaryStop(last)) continue;
      const span = tokens.slice(first, end);
      const length = span.length;
      const shared = span.filter((_, k) => inQuestion[first + k]).length;
      let nearest = Infinity;
      for (const m of matched) if (m < first || m >= end) nearest = Math.min(nearest, m < first ? first - m : m - end + 1);
      const before = tokens[first - 1];
      const after = tokens[end];
      const text = sentence.slice(span[0].start, last.end);
      let likeness = 0;
      let rarity = 0;
      for (let k = first; k < end; k++) {
        likeness = Math.max(likeness, like[k]);
        rarity += rarities[k] / length;
      }
      const properties = [
        span.every((t) => t.capitalised || t.allCaps || STOP.has(t.lower)) && span.some((t) => t.capitalised || t.allCaps) ? 1 : 0,
        span.some((t) => t.digits) ? 1 : 0,
        span.some(isYear) ? 1 : 0,
        span.some((t) => MONTHS.has(t.lower)) ? 1 : 0,
        span.some((t) => UNITS.has(t.lower)) ? 1 : 0,
        after && UNITS.has(after.lower) ? 1 : 0,
        span.some((t) => NUMBER_WORDS.has(t.lower)) ? 1 : 0,
        length === 1 ? 1 : 0,
        length === 2 ? 1 : 0,
        length === 3 ? 1 : 0,
        length >= 4 ? 1 : 0,
      ];
      const features = [
        shared / length,
        shared > 0 ? 1 : 0,
        nearest === Infinity ? 0 : 1 / nearest,
        nearest === 1 ? 1 : 0,
        before && inQuestion[first - 1] ? 1 : 0,
        after && inQuestion[end] ? 1 : 0,
        after && focus && after.stem === focus ? 1 : 0,
        before && focus && before.stem === focus ? 1 : 0,
        properties[0] && !(before && (before.capitalised || before.allCaps)) && !(after && (after.capitalised || after.allCaps)) ? 1 : 0,
        first === 0 ? 1 : 0,
        /[,;:()]/.test(text) ? 1 : 0,
        /^\s*([,;:.)!?]|$)/.test(sentence.slice(last.end)) ? 1 : 0,
        /([,;:(]|^)\s*$/.test(sentence.slice(0, span[0].start)) ? 1 : 0,
        before && PREPOSITIONS.has(before.lower) ? 1 : 0,
        likeness,
        rarity,
        ...SHORT_TYPES.flatMap((t) => (t === type ? properties : properties.map(() => 0))),
      ];
      candidates.push({ first, end, features });
    }
  }
  return { tokens, candidates };
}

const DEFAULT_MODEL = new URL('./short-model.json', import.meta.url);

export function loadShortModel(file: string | URL = DEFAULT_MODEL): ShortModel {
  const model = ShortModelSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  if (model.features.join('\n') !== SHORT_FEATURES.join('\n')) throw new Error(`${file}: its features are not this code's; train it again with: npm run train-short`);
  return model;
}

let shipped: ShortModel | null = null;
/** The short-answer model shipped in the repository, loaded once per process. */
export const shippedShortModel = () => (shipped ??= loadShortModel());

/** A candidate's score under the model (higher: likelier the short answer). */
export function spanScore(model: Pick<ShortModel, 'weights' | 'mean' | 'std'>, features: number[]): number {
  let s = 0;
  for (let j = 0; j < features.length; j++) s += model.weights[j] * ((features[j] - model.mean[j]) / model.std[j]);
  return s;
}

/**
 * The short answer inside a sentence (offsets relative to the sentence), or null when the question
 * does not ask for a fact or the sentence has no candidate.
 */
export function shortAnswer(model: ShortModel, vectors: WordVectorTable, question: Question, sentence: string): { start: number; end: number; text: string } | null {
  if (!asksForFact(question)) return null;
  const { tokens, candidates } = spanCandidates(question, sentence, vectors);
  const best = bestSpan(model, candidates);
  if (!best) return null;
  const [start, end] = [tokens[best.first].start, tokens[best.end - 1].end];
  return { start, end, text: sentence.slice(start, end) };
}

/** The candidate the model scores highest (the first of equals), or null when there is none. */
export function bestSpan(model: Pick<ShortModel, 'weights' | 'mean' | 'std'>, candidates: SpanCandidate[]): SpanCandidate | null {
  let best: SpanCandidate | null = null;
  let bestScore = -Infinity;
  for (const c of candidates) {
    const s = spanScore(model, c.features);
    if (s > bestScore) [best, bestScore] = [c, s];
  }
  return best;
}
