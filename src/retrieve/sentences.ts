import { splitSentences } from '../chunk/index.js';
import type { Embedder } from '../embed/index.js';
import { lexicalTerms } from '../text/tokens.js';
import type { Chunk } from '../types.js';

/** A passage's sentences as the answer step scores them: offsets, text, vector and lexical terms. */
export interface PassageSentences {
  spans: Array<{ start: number; end: number; text: string }>;
  vectors: Float32Array[];
  terms: Array<Set<string>>;
}

/**
 * Sentences of passages, split, embedded and stemmed once and kept for the passages asked about
 * most recently: re-embedding every shown passage's sentences was most of a query's time. The
 * cache is bounded (least recently used passages leave first), so memory stays flat under load.
 */
export class SentenceCache {
  private readonly entries = new Map<number, PassageSentences>();

  constructor(
    private readonly embedder: Embedder,
    private readonly capacity = 3000,
  ) {}

  async of(chunks: Chunk[]): Promise<PassageSentences[]> {
    const missing = [...new Map(chunks.filter((c) => !this.entries.has(c.id)).map((c) => [c.id, c])).values()];
    if (missing.length) {
      const spans = missing.map((c) => splitSentences(c.text).map((s) => ({ start: c.start + s.start, end: c.start + s.end, text: c.text.slice(s.start, s.end) })));
      const vectors = await this.embedder.embed(spans.flat().map((s) => s.text), 'passage');
      let cursor = 0;
      missing.forEach((c, n) => {
        const count = spans[n].length;
        this.entries.set(c.id, { spans: spans[n], vectors: vectors.slice(cursor, (cursor += count)), terms: spans[n].map((s) => new Set(lexicalTerms(s.text))) });
      });
    }
    return chunks.map((c) => {
      const entry = this.entries.get(c.id)!;
      // Re-inserting marks it most recently used; the oldest entries are dropped past capacity.
      this.entries.delete(c.id);
      this.entries.set(c.id, entry);
      return entry;
    });
  }

  /** Drops the least recently used passages beyond capacity (after a query has used its own). */
  trim(): void {
    for (const id of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(id);
    }
  }
}
