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
 */
export function chunkDocument(doc: SourceDocument, options: ChunkingOptions): Omit<Chunk, 'id'>[] {
  const sentences = splitSentences(doc.text).map((s) => ({ ...s, words: countWords(doc.text.slice(s.start, s.end)) }));
  const chunks: Omit<Chunk, 'id'>[] = [];
  let first = 0;
  while (first < sentences.length) {
    let last = first;
    let words = sentences[first].words;
    while (last + 1 < sentences.length && words < options.targetWords && words + sentences[last + 1].words <= options.maxWords) {
      last++;
      words += sentences[last].words;
    }
    const start = sentences[first].start;
    const end = sentences[last].end;
    chunks.push({ docId: doc.id, start, end, text: doc.text.slice(start, end) });
    if (last + 1 >= sentences.length) break;
    // Step back for the overlap, but always move forward by at least one sentence.
    first = Math.max(first + 1, last + 1 - options.overlapSentences);
  }
  return chunks;
}

