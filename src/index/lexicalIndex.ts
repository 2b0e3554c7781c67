import MiniSearch from 'minisearch';
import { lexicalTerms, queryTerms } from '../text/tokens.js';

export interface Bm25Parameters {
  k1: number;
  b: number;
}

interface LexicalDoc {
  id: number;
  text: string;
}

/**
 * BM25 over chunk texts, by MiniSearch with our tokenizer (Lucene stop words, Porter stems).
 * MiniSearch scores BM25+ and multiplies by the number of matched query terms; d = 0 and
 * dividing that factor out give plain BM25, the scoring the published baselines use.
 */
export class LexicalIndex {
  private constructor(
    private readonly engine: MiniSearch<LexicalDoc>,
    private readonly params: Bm25Parameters,
    /** Chunks containing each term, for idf weights outside BM25 (answer sentence choice). */
    private readonly documentFrequency: Map<string, number>,
  ) {}

  private static options(params: Bm25Parameters) {
    return {
      fields: ['text'],
      tokenize: (text: string) => lexicalTerms(text),
      processTerm: (term: string) => term,
      searchOptions: { tokenize: (query: string) => queryTerms(query), bm25: { k: params.k1, b: params.b, d: 0 } },
    };
  }

  static create(texts: string[], params: Bm25Parameters): LexicalIndex {
    const engine = new MiniSearch<LexicalDoc>(LexicalIndex.options(params));
    engine.addAll(texts.map((text, id) => ({ id, text })));
    const df = new Map<string, number>();
    for (const text of texts) for (const term of new Set(lexicalTerms(text))) df.set(term, (df.get(term) ?? 0) + 1);
    return new LexicalIndex(engine, params, df);
  }

  static load(json: string, params: Bm25Parameters): LexicalIndex {
    const stored = JSON.parse(json) as { engine: unknown; documentFrequency: Array<[string, number]> };
    const engine = MiniSearch.loadJS<LexicalDoc>(stored.engine as never, LexicalIndex.options(params));
    return new LexicalIndex(engine, params, new Map(stored.documentFrequency));
  }

  serialize(): string {
    return JSON.stringify({ engine: this.engine, documentFrequency: [...this.documentFrequency] });
  }

  /** Inverse document frequency of an already-processed term (as BM25 computes it). */
  idf(term: string): number {
    const n = this.engine.documentCount;
    const df = this.documentFrequency.get(term) ?? 0;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /** BM25 score of every chunk that matches at least one query term. */
  scores(query: string, filter?: (label: number) => boolean): Map<number, number> {
    const out = new Map<number, number>();
    if (queryTerms(query).length === 0) return out;
    const results = this.engine.search(query, { filter: filter ? (r) => filter(r.id as number) : undefined, bm25: { k: this.params.k1, b: this.params.b, d: 0 } });
    for (const r of results) out.set(r.id as number, r.score / Math.max(1, r.terms.length));
    return out;
  }
}
