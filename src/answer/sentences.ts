import { splitSentences, type Span } from '../chunk/index.js';
import type { Embedder } from '../embed/index.js';
import { lexicalTerms } from '../text/tokens.js';
import type { Chunk } from '../types.js';
import { createDenseOps, type DenseOps } from '../embed/train/denseOps.js';
import { LRUCache } from 'lru-cache';
import { tagSentence, type SentenceTags } from './entities.js';

/**
 * A passage's sentences (offsets within it), split once for the passages read lately: a question's
 * re-ordering reads its top 20 passages (retrieve/rerank.ts) and the answer step then the ones shown
 * among them, and splitting was half of the re-ordering's time (5 ms for 20 passages).
 */
const splits = new LRUCache<string, Span[]>({ max: 5000 });
export function passageSentences(text: string): Span[] {
  let spans = splits.get(text);
  if (!spans) splits.set(text, (spans = splitSentences(text)));
  return spans;
}

/** A passage's sentences as the answer step reads them: offsets, text, vector, lexical terms and tags. */
export interface PassageSentences {
  spans: Array<{ start: number; end: number; text: string }>;
  vectors: Float32Array[];
  terms: Array<Set<string>>;
  tags: SentenceTags[];
  /** Every term and every word of the passage. */
  allTerms: Set<string>;
  allWords: Set<string>;
}

/**
 * Sentences of passages, split, embedded, stemmed and tagged once and kept for the passages asked
 * about most recently: re-embedding every shown passage's sentences was most of a query's time.
 * The cache is bounded (least recently used passages leave first), so memory stays flat under load.
 */
export class SentenceCache {
  private readonly entries: LRUCache<number, PassageSentences>;

  constructor(
    private readonly embedder: Embedder,
    capacity = 3000,
  ) {
    this.entries = new LRUCache({ max: capacity });
  }

  async of(chunks: Chunk[]): Promise<PassageSentences[]> {
    // What this call returns is collected here, so an entry dropped to make room is still returned.
    const found = new Map<number, PassageSentences>();
    for (const c of chunks) {
      const entry = this.entries.get(c.id);
      if (entry) found.set(c.id, entry);
    }
    const missing = [...new Map(chunks.filter((c) => !found.has(c.id)).map((c) => [c.id, c])).values()];
    if (missing.length) {
      const spans = missing.map((c) => passageSentences(c.text).map((s) => ({ start: c.start + s.start, end: c.start + s.end, text: c.text.slice(s.start, s.end) })));
      const vectors = await this.embedder.embed(spans.flat().map((s) => s.text), 'passage');
      let cursor = 0;
      missing.forEach((c, n) => {
        const count = spans[n].length;
        const terms = spans[n].map((s) => new Set(lexicalTerms(s.text)));
        const tags = spans[n].map((s) => tagSentence(s.text));
        const entry: PassageSentences = {
          spans: spans[n],
          vectors: vectors.slice(cursor, (cursor += count)),
          terms,
          tags,
          allTerms: new Set(terms.flatMap((t) => [...t])),
          allWords: new Set(tags.flatMap((t) => t.tokens)),
        };
        this.entries.set(c.id, entry);
        found.set(c.id, entry);
      });
    }
    return chunks.map((c) => found.get(c.id)!);
  }
}

/**
 * Vectors of single words, for matching a question's words to a sentence's by meaning ("die" to
 * "died of typhus"), kept for the most recently used words (an archive repeats its vocabulary).
 */
export class WordVectors {
  private ops: Promise<DenseOps> | null = null;

  private readonly vectors: LRUCache<string, Float32Array>;

  constructor(
    private readonly embedder: Embedder,
    // 20,000 words are about 25 MB at 256 dimensions; 100,000 made a server under load grow by 180 MB.
    capacity = 20_000,
  ) {
    this.vectors = new LRUCache({ max: capacity });
  }

  /**
   * Cosine similarity of each of `words` (rows) to each of `to` (columns), row-major, in one
   * matrix product run by onnxruntime: a query compares its few words to a thousand or so, and
   * plain loops over the vectors took several milliseconds.
   */
  async similarities(words: string[], to: string[]): Promise<Float32Array> {
    const vectors = await this.of([...words, ...to]);
    const dim = this.embedder.info.dim;
    if (!words.length || !to.length) return new Float32Array(words.length * to.length);
    const left = new Float32Array(words.length * dim);
    words.forEach((w, i) => left.set(vectors.get(w)!, i * dim));
    // The right operand is dim x to.length: column j is the vector of to[j].
    const right = new Float32Array(dim * to.length);
    to.forEach((w, j) => vectors.get(w)!.forEach((x, d) => (right[d * to.length + j] = x)));
    this.ops ??= createDenseOps();
    return (await this.ops).times(left, right, words.length, dim, to.length);
  }

  async of(words: Iterable<string>): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    const missing: string[] = [];
    for (const w of new Set(words)) {
      const v = this.vectors.get(w);
      if (v) out.set(w, v);
      else missing.push(w);
    }
    if (missing.length) {
      (await this.embedder.embedWords(missing)).forEach((v, i) => {
        this.vectors.set(missing[i], v);
        out.set(missing[i], v);
      });
    }
    return out;
  }
}
