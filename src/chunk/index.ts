import type { Chunk, SourceDocument } from '../types.js';
import { splitSentences } from './sentences.js';

export { splitSentences, type Span } from './sentences.js';

export interface ChunkingOptions {
  /** A chunk closes once it holds at least this many words. */
  targetWords: number;
  /** A chunk never grows past this many words, unless one sentence alone is longer. */
  maxWords: number;
  /** Sentences repeated at the start of the next chunk, so an answer spanning a boundary stays whole. */
  overlapSentences: number;
}

const countWords = (s: string) => (s.match(/\S+/g) ?? []).length;

/**
 * Splits a document into passages of whole sentences. Offsets point into `doc.text`, so
 * `chunk.text === doc.text.slice(chunk.start, chunk.end)`. Ids are filled in by the index.
 * A heading starts a new passage once the passage so far holds 40% of the target, so a section
 * is not cut a sentence after its heading, nor a heading left at the end of the passage before.
 */
export function chunkDocument(doc: SourceDocument, options: ChunkingOptions): Omit<Chunk, 'id'>[] {
  const headings = new Set((doc.headings ?? []).map((h) => h.start));
  const sentences = splitSentences(doc.text).map((s) => ({ ...s, words: countWords(doc.text.slice(s.start, s.end)), heading: headings.has(s.start) }));
  const chunks: Omit<Chunk, 'id'>[] = [];
  let first = 0;
  while (first < sentences.length) {
    let last = first;
    let words = sentences[first].words;
    while (last + 1 < sentences.length && words < options.targetWords && words + sentences[last + 1].words <= options.maxWords && !(sentences[last + 1].heading && words >= 0.4 * options.targetWords)) {
      last++;
      words += sentences[last].words;
    }
    const start = sentences[first].start;
    const end = sentences[last].end;
    chunks.push({ docId: doc.id, start, end, text: doc.text.slice(start, end) });
    if (last + 1 >= sentences.length) break;
    // Step back for the overlap (never back over a heading), but always move forward by at least one sentence.
    first = sentences[last + 1].heading ? last + 1 : Math.max(first + 1, last + 1 - options.overlapSentences);
  }
  return chunks;
}

