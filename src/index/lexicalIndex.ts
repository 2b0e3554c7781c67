import { lexicalTerms, queryTerms } from '../text/tokens.js';
import { inMemory, type ArrayContent, type ArrayFile, type ArrayRanges } from './binary.js';

export interface Bm25Parameters {
  k1: number;
  b: number;
}

/**
 * A text's length as Lucene's BM25 reads it: stored in one byte (SmallFloat.intToByte4, exact up to
 * 40, then four significant bits, rounded down) and decoded. Anserini's published runs, and
 * pg_textsearch, score with these lengths; the average length is exact.
 */
export function luceneLength(length: number): number {
  const FREE = 24; // lengths below this are stored as they are
  if (length < FREE) return length;
  const rest = length - FREE;
  const bits = 32 - Math.clz32(rest);
  if (bits < 4) return length;
  const shift = bits - 4;
  return FREE + ((rest >>> shift) << shift);
}

/** A text's terms (our tokenizer's) with how often each occurs, and its length in terms: what BM25 reads of a text, in either store. */
export function termCounts(text: string): { counts: Map<string, number>; length: number } {
  const terms = lexicalTerms(text);
  const counts = new Map<string, number>();
  for (const t of terms) counts.set(t, (counts.get(t) ?? 0) + 1);
  return { counts, length: terms.length };
}

/** Lucene's BM25 idf of a term found in `df` of `n` texts: ln(1 + (n - df + 0.5) / (df + 0.5)). Both stores weigh words with it. */
export const bm25Idf = (n: number, df: number) => Math.log(1 + (n - df + 0.5) / (df + 0.5));

/**
 * BM25 (Lucene's idf, k1, b and length encoding) over a list of texts, with our tokenizer (Lucene stop words,
 * Porter stems). An inverted index of typed arrays, scored into one array per query: we used
 * MiniSearch first, but its per-match objects made BM25 60% of query time on 13,000 passages.
 * The postings of term t are labels[starts[t] .. starts[t + 1]) with their term frequencies, which
 * is also how they lie on disk (binary.ts): a loaded index holds the terms, their offsets and the
 * text lengths, and reads a query term's postings from the file when it is asked for.
 */
export class LexicalIndex {
  private constructor(
    private readonly params: Bm25Parameters,
    private readonly lengths: Float32Array,
    private readonly terms: Map<string, number>,
    private readonly starts: Uint32Array,
    private readonly labels: ArrayRanges<Int32Array>,
    private readonly tfs: ArrayRanges<Float32Array>,
  ) {
    let total = 0;
    for (let i = 0; i < lengths.length; i++) total += lengths[i];
    const average = lengths.length ? total / lengths.length : 0;
    const { k1, b } = params;
    this.lengthNorms = Float64Array.from(lengths, (length) => k1 * (1 - b + (b * luceneLength(length)) / average));
  }

  /** Each text's k1 * (1 - b + b * length / average length): the denominator's part that does not depend on the term. */
  private readonly lengthNorms: Float64Array;

  /**
   * BM25 over the texts. With `reuse`, a text whose label maps to one of `reuse.from` takes that
   * label's terms as they are (an incremental update re-reads only what changed; its text is unused).
   */
  static create(texts: string[], params: Bm25Parameters, reuse?: { from: LexicalIndex; labels: Array<number | null> }): LexicalIndex {
    const previous = reuse ? reuse.from.termsByLabel() : null;
    const lengths = new Float32Array(texts.length);
    const building = new Map<string, { labels: number[]; tfs: number[] }>();
    texts.forEach((text, label) => {
      const from = reuse?.labels[label] ?? null;
      let counts: Array<[string, number]>;
      if (from !== null && previous) {
        counts = previous[from];
        lengths[label] = reuse!.from.lengths[from];
      } else {
        const tally = termCounts(text);
        lengths[label] = tally.length;
        counts = [...tally.counts];
      }
      for (const [term, tf] of counts) {
        let list = building.get(term);
        if (!list) building.set(term, (list = { labels: [], tfs: [] }));
        list.labels.push(label);
        list.tfs.push(tf);
      }
    });
    const starts = new Uint32Array(building.size + 1);
    let total = 0;
    [...building.values()].forEach((p, t) => (starts[t + 1] = total += p.labels.length));
    const labels = new Int32Array(total);
    const tfs = new Float32Array(total);
    [...building.values()].forEach((p, t) => {
      labels.set(p.labels, starts[t]);
      tfs.set(p.tfs, starts[t]);
    });
    return new LexicalIndex(params, lengths, new Map([...building.keys()].map((term, t) => [term, t])), starts, inMemory(labels), inMemory(tfs));
  }

  /** Each label's terms with their counts: the postings turned inside out. */
  private termsByLabel(): Array<Array<[string, number]>> {
    const out: Array<Array<[string, number]>> = Array.from({ length: this.size }, () => []);
    const [labels, tfs] = [this.labels.range(0, this.labels.length), this.tfs.range(0, this.tfs.length)];
    for (const [term, t] of this.terms) for (let i = this.starts[t]; i < this.starts[t + 1]; i++) out[labels[i]].push([term, tfs[i]]);
    return out;
  }

  /** Opens an index written from content() (throws when the file is not one); postings stay on disk. */
  static load(file: ArrayFile): LexicalIndex {
    const params = file.meta.params as Bm25Parameters;
    // Terms are stems (letters and digits), so a newline separates them safely.
    const text = new TextDecoder().decode(file.read('terms', 'u8'));
    const terms = new Map(text.length ? text.split('\n').map((term, t) => [term, t] as const) : []);
    const [starts, labels, tfs] = [file.read('starts', 'u32'), file.ranges('labels', 'i32'), file.ranges('tfs', 'f32')];
    if (starts.length !== terms.size + 1 || starts[terms.size] !== labels.length || labels.length !== tfs.length) throw new Error('bm25 file does not hold the postings its terms point to');
    return new LexicalIndex(params, file.read('lengths', 'f32'), terms, starts, labels, tfs);
  }

  /** What its file holds (binary.ts writes it). */
  content(): ArrayContent {
    const terms = new TextEncoder().encode([...this.terms.keys()].join('\n'));
    const all = <T extends Int32Array | Float32Array>(a: ArrayRanges<T>) => a.range(0, a.length);
    return { kind: 'bm25', meta: { params: this.params }, arrays: { lengths: this.lengths, terms, starts: this.starts, labels: all(this.labels), tfs: all(this.tfs) } };
  }

  get size(): number {
    return this.lengths.length;
  }

  /** Inverse document frequency of an already-processed term (bm25Idf). */
  idf(term: string): number {
    const t = this.terms.get(term);
    return bm25Idf(this.size, t === undefined ? 0 : this.starts[t + 1] - this.starts[t]);
  }

  /** BM25 score of every text for the query (0 where no query term occurs), indexed by label. */
  scores(query: string): Float64Array {
    const out = new Float64Array(this.size);
    const { k1 } = this.params;
    // A term repeated in the query counts again, as in Lucene's boolean queries.
    for (const term of queryTerms(query)) {
      const t = this.terms.get(term);
      if (t === undefined) continue;
      const idf = this.idf(term);
      const [labels, tfs] = [this.labels.range(this.starts[t], this.starts[t + 1]), this.tfs.range(this.starts[t], this.starts[t + 1])];
      for (let i = 0; i < labels.length; i++) {
        const label = labels[i];
        const tf = tfs[i];
        out[label] += (idf * tf * (k1 + 1)) / (tf + this.lengthNorms[label]);
      }
    }
    return out;
  }

  /** The k best-scoring labels with a positive score (and passing the filter), best first. */
  static top(scores: Float64Array, k: number, filter?: (label: number) => boolean): Array<[number, number]> {
    // A bounded min-heap of the k best so far (root: the worst kept), instead of sorting every hit:
    // a common query term matches thousands of passages.
    const heap: number[] = [];
    const worse = (a: number, b: number) => scores[a] < scores[b] || (scores[a] === scores[b] && a > b);
    const sift = (i: number) => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && worse(heap[l], heap[m])) m = l;
        if (r < heap.length && worse(heap[r], heap[m])) m = r;
        if (m === i) return;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    };
    for (let label = 0; label < scores.length && k > 0; label++) {
      if (!(scores[label] > 0) || (filter && !filter(label))) continue;
      if (heap.length < k) {
        heap.push(label);
        for (let i = heap.length - 1; i > 0 && worse(heap[i], heap[(i - 1) >> 1]); i = (i - 1) >> 1) [heap[i], heap[(i - 1) >> 1]] = [heap[(i - 1) >> 1], heap[i]];
      } else if (worse(heap[0], label)) {
        heap[0] = label;
        sift(0);
      }
    }
    return heap.sort((a, b) => scores[b] - scores[a] || a - b).map((label) => [label, scores[label]]);
  }
}
