import { UserError } from '../config.js';
import { dot } from '../embed/index.js';
import type { Chunk } from '../types.js';
import { LRUCache } from 'lru-cache';
import { LexicalIndex } from './lexicalIndex.js';
import type { VectorStore } from './vectorStore.js';

/** What a search asks with: the question's text (the lexical side) and its vector (the dense side). */
export interface SearchQuery {
  text: string;
  vector: Float32Array;
}

/** The sides a search asks (a side whose weight is 0 is not asked): dense, passage BM25, context BM25. */
export interface SearchSides {
  dense: boolean;
  bm25: boolean;
  context: boolean;
}

/**
 * A search's candidates and every side's exact score of each, aligned: the dense side's k best
 * first (best first), then the lexical side's others (best first by passage BM25). A side not asked
 * scores 0.
 */
export interface Candidates {
  chunks: number[];
  /** Cosine similarity of the passage's vector and the query's. */
  dense: number[];
  /** BM25 of the passage. */
  bm25: number[];
  /** BM25 of the passage with its neighbours in the same document. */
  context: number[];
}

export const NO_CANDIDATES: Candidates = { chunks: [], dense: [], bm25: [], context: [] };

/**
 * The store cannot be reached (a database server down or unreachable): the request cannot be
 * answered now, but may be in a moment. The HTTP API answers 503 `store_unavailable`.
 */
export class StoreUnavailableError extends UserError {
  constructor(message: string) {
    super(message, 'store_unavailable');
  }
}

/** Documents a search may return passages of; null means any. */
export type AllowedDocuments = ReadonlySet<string> | null;

/** What a store says of itself (GET /api/health, `npm run eval`). */
export interface StoreStats {
  kind: 'embedded' | 'postgres';
  passages: number;
}

/**
 * Where passages' vectors and terms are kept and searched: the embedded files of an index folder,
 * or a Postgres database (src/index/postgres). Chunk ids are the index's (`ArchiveIndex.chunks`).
 * Writing is each store's own build: a new generation of files (buildIndex), or documents added
 * and deleted in one transaction (postgres/index.ts).
 */
export interface PassageStore {
  /**
   * The k passages nearest the query vector (approximate) and the k best by passage BM25 (positive
   * scores only), among the allowed documents, with each side's exact score of every one of them.
   * The lexical side is asked when either BM25 side is.
   */
  candidates(query: SearchQuery, k: number, allowed: AllowedDocuments, sides: SearchSides): Promise<Candidates>;
  /**
   * Every passage (among the allowed) whose BM25 for the query is at least `minShare` of the best
   * passage's, in chunk order: the passages that match the query, for counting (the timeline).
   */
  matching(query: string, minShare: number, allowed: AllowedDocuments): Promise<number[]>;
  /** Inverse document frequency of a processed term over passages (the answer's word weights). */
  idf(term: string): number;
  stats(): StoreStats;
  /** Resolves when the store answers (GET /api/health); throws StoreUnavailableError when it cannot be reached. */
  check(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The embedded store: an HNSW graph (vectors.hnsw, vectors.f32) and two BM25 indexes (bm25.bin,
 * bm25-context.bin) in one generation folder of the index. A query's BM25 scores of every passage
 * are kept for the calls that follow (the timeline's matching passages read the same).
 */
export class EmbeddedStore implements PassageStore {
  private readonly recent = new LRUCache<string, Float64Array>({ max: 4 });

  constructor(
    readonly vectors: VectorStore,
    /** BM25 over passages (label = chunk id). */
    readonly passageBm25: LexicalIndex,
    /** BM25 over each passage with its neighbours in the same document (label = chunk id). */
    readonly contextBm25: LexicalIndex,
    private readonly chunks: Chunk[],
    /** The generation folder it was read from (an update reads its HNSW file). */
    readonly generation: string,
  ) {}

  private filter(allowed: AllowedDocuments): ((chunk: number) => boolean) | undefined {
    return allowed ? (chunk) => allowed.has(this.chunks[chunk].docId) : undefined;
  }

  private bm25(which: 'passage' | 'context', query: string): Float64Array {
    const key = `${which}\u0000${query}`;
    let scores = this.recent.get(key);
    if (!scores) this.recent.set(key, (scores = (which === 'passage' ? this.passageBm25 : this.contextBm25).scores(query)));
    return scores;
  }

  async candidates({ text, vector }: SearchQuery, k: number, allowed: AllowedDocuments, sides: SearchSides): Promise<Candidates> {
    const filter = this.filter(allowed);
    const dense = sides.dense ? this.vectors.search(vector, k, filter).map((d) => d.chunk) : [];
    const passage = sides.bm25 || sides.context ? this.bm25('passage', text) : null;
    const lexical = passage ? LexicalIndex.top(passage, k, filter).map(([chunk]) => chunk) : [];
    const chunks = [...new Set([...dense, ...lexical])];
    const context = sides.context ? this.bm25('context', text) : null;
    return {
      chunks,
      dense: chunks.map((c) => (sides.dense ? dot(vector, this.vectors.vector(c)) : 0)),
      bm25: chunks.map((c) => (sides.bm25 ? passage![c] : 0)),
      context: chunks.map((c) => context?.[c] ?? 0),
    };
  }

  async matching(query: string, minShare: number, allowed: AllowedDocuments): Promise<number[]> {
    const scores = this.bm25('passage', query);
    const allows = this.filter(allowed) ?? (() => true);
    let best = 0;
    for (let c = 0; c < scores.length; c++) if (scores[c] > best && allows(c)) best = scores[c];
    const matches: number[] = [];
    if (best > 0) for (let c = 0; c < scores.length; c++) if (scores[c] > 0 && scores[c] >= minShare * best && allows(c)) matches.push(c);
    return matches;
  }

  idf(term: string): number {
    return this.passageBm25.idf(term);
  }

  stats(): StoreStats {
    return { kind: 'embedded', passages: this.chunks.length };
  }

  /** The files are read as the index opens: nothing to reach. */
  async check(): Promise<void> {}

  async close(): Promise<void> {}
}
