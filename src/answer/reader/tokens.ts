import { stemOf } from '../../text/tokens.js';

/** A word of a question or sentence as the reader sees it: where it stands, how it is written, and its folded form. */
export interface ReaderToken {
  /** Offsets in the text it was read from. */
  start: number;
  end: number;
  /** Lower-cased, accents stripped (as the word vectors are keyed). */
  lower: string;
  stem: string;
  /** Written with a capital, and not the first word (a name, not a sentence's opening). */
  capitalised: boolean;
  allCaps: boolean;
  digits: boolean;
}

/** Longest question or candidate the reader reads, in tokens: the rest is cut (a sentence's answer is rarely past its 60th word). */
export const MAX_QUESTION_TOKENS = 24;
export const MAX_SENTENCE_TOKENS = 60;
/** Words of the neighbouring sentences read as context, on each side. */
export const MAX_CONTEXT_TOKENS = 40;

const fold = (w: string) => w.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();

/** Tokens of a text (letters and digits, as the word vectors split them), with their offsets. */
export function readerTokens(text: string, limit = Infinity): ReaderToken[] {
  const out: ReaderToken[] = [];
  for (const m of text.matchAll(/[\p{L}\p{N}]+/gu)) {
    if (out.length >= limit) break;
    const word = m[0];
    const lower = fold(word);
    out.push({
      start: m.index!,
      end: m.index! + word.length,
      lower,
      stem: stemOf(lower),
      capitalised: out.length > 0 && /^\p{Lu}/u.test(word),
      allCaps: word.length > 1 && /^[\p{Lu}\p{N}]+$/u.test(word) && /\p{Lu}/u.test(word),
      digits: /^\p{N}+$/u.test(word),
    });
  }
  return out;
}

/** How closely two words match, written alike: the same word, the same stem, and the share of their letters a common prefix holds. */
export const MATCH_FEATURES = 3;

export function matchFeatures(a: ReaderToken, b: ReaderToken, out: Float32Array, at: number): void {
  const exact = a.lower === b.lower;
  out[at] = exact ? 1 : 0;
  out[at + 1] = exact || a.stem === b.stem ? 1 : 0;
  let p = 0;
  const n = Math.min(a.lower.length, b.lower.length);
  while (p < n && a.lower.charCodeAt(p) === b.lower.charCodeAt(p)) p++;
  // A shared prefix of four letters or more ("govern" / "government", "Greg" / "Gregory") says the words are kin.
  out[at + 2] = p >= 4 ? p / Math.max(a.lower.length, b.lower.length) : 0;
}
