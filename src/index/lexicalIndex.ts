import { lexicalTerms, queryTerms } from '../text/tokens.js';

export interface Bm25Parameters {
  k1: number;
  b: number;
}

interface StoredLexicalIndex {
  params: Bm25Parameters;
  lengths: number[];
  /** term -> [labels..., tf per label...], labels ascending. */
  postings: Record<string, [number[], number[]]>;
}

/**
 * BM25 (Lucene's idf, k1 and b) over a list of texts, with our tokenizer (Lucene stop words,
 * Porter stems). An inverted index of typed arrays, scored into one array per query: we used
 * MiniSearch first, but its per-match objects made BM25 60% of query time on 13,000 passages.
 */
export class LexicalIndex {
  private constructor(
    private readonly params: Bm25Parameters,
    private readonly lengths: Float32Array,
    private readonly postings: Map<string, { labels: Int32Array; tfs: Float32Array }>,
    private readonly averageLength: number,
  ) {}

  private static from(params: Bm25Parameters, lengths: ArrayLike<number>, postings: Map<string, { labels: Int32Array; tfs: Float32Array }>): LexicalIndex {
    let total = 0;
    for (let i = 0; i < lengths.length; i++) total += lengths[i];
    return new LexicalIndex(params, Float32Array.from(lengths), postings, lengths.length ? total / lengths.length : 0);
  }

  /**
   * BM25 over the texts. With `reuse`, a text whose label maps to one of `reuse.from` takes that
   * label's terms as they are (an incremental update re-reads only what changed; its text is unused).
   */
  static create(texts: string[], params: Bm25Parameters, reuse?: { from: LexicalIndex; labels: Array<number | null> }): LexicalIndex {
    const previous = reuse ? reuse.from.termsByLabel() : null;
    const lengths: number[] = [];
    const building = new Map<string, { labels: number[]; tfs: number[] }>();
    texts.forEach((text, label) => {
      const from = reuse?.labels[label] ?? null;
      let counts: Array<[string, number]>;
      if (from !== null && previous) {
        counts = previous[from];
        lengths.push(reuse!.from.lengths[from]);
      } else {
        const terms = lexicalTerms(text);
        lengths.push(terms.length);
        const tally = new Map<string, number>();
        for (const t of terms) tally.set(t, (tally.get(t) ?? 0) + 1);
        counts = [...tally];
      }
      for (const [term, tf] of counts) {
        let list = building.get(term);
        if (!list) building.set(term, (list = { labels: [], tfs: [] }));
        list.labels.push(label);
        list.tfs.push(tf);
      }
    });
    const postings = new Map([...building].map(([term, p]) => [term, { labels: Int32Array.from(p.labels), tfs: Float32Array.from(p.tfs) }]));
    return LexicalIndex.from(params, lengths, postings);
  }

  /** Each label's terms with their counts: the postings turned inside out. */
  private termsByLabel(): Array<Array<[string, number]>> {
    const out: Array<Array<[string, number]>> = Array.from({ length: this.size }, () => []);
    for (const [term, { labels, tfs }] of this.postings) for (let i = 0; i < labels.length; i++) out[labels[i]].push([term, tfs[i]]);
    return out;
  }

  static load(json: string): LexicalIndex {
    const stored = JSON.parse(json) as StoredLexicalIndex;
    const postings = new Map(Object.entries(stored.postings).map(([term, [labels, tfs]]) => [term, { labels: Int32Array.from(labels), tfs: Float32Array.from(tfs) }]));
    return LexicalIndex.from(stored.params, stored.lengths, postings);
  }

  serialize(): string {
    const postings: StoredLexicalIndex['postings'] = {};
    for (const [term, p] of this.postings) postings[term] = [Array.from(p.labels), Array.from(p.tfs)];
    return JSON.stringify({ params: this.params, lengths: Array.from(this.lengths), postings } satisfies StoredLexicalIndex);
  }

  get size(): number {
    return this.lengths.length;
  }

  /** Inverse document frequency of an already-processed term: ln(1 + (N - df + 0.5) / (df + 0.5)). */
  idf(term: string): number {
    const df = this.postings.get(term)?.labels.length ?? 0;
    return Math.log(1 + (this.size - df + 0.5) / (df + 0.5));
  }

  /** BM25 score of every text for the query (0 where no query term occurs), indexed by label. */
  scores(query: string): Float64Array {
    const out = new Float64Array(this.size);
    const { k1, b } = this.params;
    // A term repeated in the query counts again, as in Lucene's boolean queries.
    for (const term of queryTerms(query)) {
      const p = this.postings.get(term);
      if (!p) continue;
      const idf = this.idf(term);
      for (let i = 0; i < p.labels.length; i++) {
        const label = p.labels[i];
        const tf = p.tfs[i];
        out[label] += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * this.lengths[label]) / this.averageLength));
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
