import { UserError } from '../config.js';
import { dot } from '../embed/index.js';
import type { Chunk } from '../types.js';
import { LruMap } from '../lru.js';
import { LexicalIndex } from './lexicalIndex.js';
import type { VectorStore } from './vectorStore.js';

/** A passage found by one side of the search: its chunk id and that side's score (higher is better). */
export interface ScoredChunk {
  chunk: number;
  score: number;
}

/** Each side's score of a set of chunks for one query, in the order the chunks were given. */
export interface ChunkScores {
  /** Cosine similarity of the passage's vector and the query's. */
  dense: number[];
  /** BM25 of the passage. */
  bm25: number[];
  /** BM25 of the passage with its neighbours in the same document. */
  context: number[];
}

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
  /** How the lexical side is ranked: our BM25 in memory, pg_textsearch's BM25, or Postgres full-text ranking (ts_rank). */
  lexicalRanking: 'bm25' | 'pg_textsearch' | 'ts_rank';
  passages: number;
}

/**
 * Where passages' vectors and terms are kept and searched: the embedded files of an index folder,
 * or a Postgres database (src/index/postgres). Chunk ids are the index's (`ArchiveIndex.chunks`).
 * Writing is each store's own build: a new generation of files (buildIndex), or documents added
 * and deleted in transactions (postgres/index.ts).
 */
export interface PassageStore {
  /** The k passages nearest the query vector (approximate), best first. */
  dense(query: Float32Array, k: number, allowed: AllowedDocuments): Promise<ScoredChunk[]>;
  /** The k best passages by BM25 for the query (positive scores only), best first. */
  lexical(query: string, k: number, allowed: AllowedDocuments): Promise<ScoredChunk[]>;
  /**
   * Every passage (among the allowed) whose BM25 for the query is at least `minShare` of the best
   * passage's, in chunk order: the passages that match the query, for counting (the timeline).
   */
  matching(query: string, minShare: number, allowed: AllowedDocuments): Promise<number[]>;
  /** Every side's exact score of these chunks (the union of both sides' candidates). */
  scores(chunks: number[], query: string, vector: Float32Array): Promise<ChunkScores>;
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
 * are kept for the query that follows (the lexical side and the candidates' scores read the same).
 */
export class EmbeddedStore implements PassageStore {
  private readonly recent = new LruMap<string, Float64Array>(4);

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

  async dense(query: Float32Array, k: number, allowed: AllowedDocuments): Promise<ScoredChunk[]> {
    return this.vectors.search(query, k, this.filter(allowed));
  }

  async lexical(query: string, k: number, allowed: AllowedDocuments): Promise<ScoredChunk[]> {
    return LexicalIndex.top(this.bm25('passage', query), k, this.filter(allowed)).map(([chunk, score]) => ({ chunk, score }));
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

  async scores(chunks: number[], query: string, vector: Float32Array): Promise<ChunkScores> {
    const [bm25, context] = [this.bm25('passage', query), this.bm25('context', query)];
    return { dense: chunks.map((c) => dot(vector, this.vectors.vector(c))), bm25: chunks.map((c) => bm25[c]), context: chunks.map((c) => context[c]) };
  }

  idf(term: string): number {
    return this.passageBm25.idf(term);
  }

  stats(): StoreStats {
    return { kind: 'embedded', lexicalRanking: 'bm25', passages: this.chunks.length };
  }

  /** The files are read as the index opens: nothing to reach. */
  async check(): Promise<void> {}

  async close(): Promise<void> {}
}
