import { eng as englishStopWords } from 'stopword';
import type { SourceDocument } from '../types.js';

/** Stop words: no built-in vector is learned for them (the answer reader learns its own). */
export const STOP = new Set([...englishStopWords, 'a', 'an', 'the', 'of', 'to', 'in', 'on', 'is', 'it', 'or', 'as', 'at', 'be', 'by']);

/**
 * Words as the BERT pre-tokenizer of the built-in model's tokenizer.json sees them: lower-cased,
 * accents stripped, split at anything that is not a letter or digit ("council's" -> "council", "s").
 */
export function bertWords(text: string): string[] {
  return text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Words the built-in model learns vectors for: not stop words, not single characters. */
export const trainable = (w: string) => w.length > 1 && !STOP.has(w);

/** How much of a corpus' text a model's vocabulary knows, counted over content-word occurrences. */
export interface VocabularyCoverage {
  /** Content-word occurrences (trainable words) in the corpus. */
  words: number;
  /** Of those, occurrences of words the model has no vector for. */
  unknown: number;
  /** unknown / words: the out-of-vocabulary share. */
  share: number;
}

/**
 * The share of the corpus' content-word occurrences that the vocabulary does not know. An unknown
 * word adds nothing to a passage's or a question's vector, so as an archive drifts away from what
 * its model was trained on, this share grows and the dense side of search goes blind.
 */
export function vocabularyCoverage(documents: Iterable<SourceDocument>, vocabulary: ReadonlySet<string>): VocabularyCoverage {
  let words = 0;
  let unknown = 0;
  for (const doc of documents) {
    for (const w of bertWords(`${doc.title}\n${doc.text}`)) {
      if (!trainable(w)) continue;
      words++;
      if (!vocabulary.has(w)) unknown++;
    }
  }
  return { words, unknown, share: words ? unknown / words : 0 };
}
