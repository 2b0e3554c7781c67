import type pg from 'pg';
import { queryTerms } from '../../text/tokens.js';
import { bm25Idf } from '../lexicalIndex.js';
import type { AllowedDocuments, ChunkScores, PassageStore, ScoredChunk, StoreStats } from '../store.js';
import { closeDatabase, reaching, searchConnection } from './database.js';

/** How the lexical side is ranked in the database: pg_textsearch's BM25 indexes, or Postgres full-text ranking. */
export type DatabaseRanking = 'pg_textsearch' | 'ts_rank';

/** The search indexes' names (ensureSearchIndexes creates them; to_bm25query names the one it scores with). */
export const INDEX_NAMES = {
  embedding: 'passages_embedding_hnsw',
  terms: { pg_textsearch: 'passages_terms_bm25', ts_rank: 'passages_terms_fts' },
  context: { pg_textsearch: 'passages_context_bm25', ts_rank: 'passages_context_fts' },
} as const;

/** pgvector's text form of a vector. */
export const vectorLiteral = (v: Float32Array) => `[${Array.from(v).join(',')}]`;

/** The graph search: $1 the query vector, $2 k, $3 (when filtered) the documents allowed; through HNSW by the ORDER BY. */
export const denseSql = (filtered: boolean) => `SELECT id, 1 - (embedding <=> $1::vector) AS score FROM passages ${filtered ? 'WHERE document_id = ANY($3)' : ''} ORDER BY embedding <=> $1::vector LIMIT $2`;

/** The query's terms as the passages' were made (our stems), for either ranking; empty when it has none. */
function lexicalQuery(query: string, ranking: DatabaseRanking): string {
  const terms = queryTerms(query);
  // Stems are letters and digits; an OR of them is what BM25 scores (ts_rank needs the operator spelled out).
  return ranking === 'pg_textsearch' ? terms.join(' ') : terms.map((t) => `'${t.replace(/'/g, '')}'`).join(' | ');
}

/** SQL for one column's lexical score of the row, given the query in parameter $n (higher is better). */
function lexicalScore(column: 'terms' | 'context_terms', ranking: DatabaseRanking, n: number): string {
  const index = INDEX_NAMES[column === 'terms' ? 'terms' : 'context'][ranking];
  // pg_textsearch's <@> is a distance (negative BM25, for ascending index order).
  return ranking === 'pg_textsearch' ? `-(${column} <@> to_bm25query($${n}, '${index}'))` : `ts_rank(to_tsvector('simple', ${column}), to_tsquery('simple', $${n}))`;
}

/**
 * Passages kept in Postgres: pgvector's HNSW index for the dense side, pg_textsearch's BM25 (or
 * ts_rank) for the lexical side, exact scores of the candidates in one query. The index loaded
 * with it names passages by chunk id; rows carry their own ids, mapped both ways here.
 */
export class PostgresStore implements PassageStore {
  private readonly chunkOfRow = new Map<number, number>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    /** Database id of each chunk's passage. */
    private readonly rowOfChunk: Int32Array,
    private readonly ranking: DatabaseRanking,
    /** Passages per term, and the number of passages: the idf of the answer's word weights. */
    private readonly lexicon: Map<string, number>,
  ) {
    rowOfChunk.forEach((row, chunk) => this.chunkOfRow.set(row, chunk));
  }

  /** Rows as chunks, dropping rows a newer build added after this index was loaded. */
  private chunks(rows: Array<{ id: number; score: number | null }>): ScoredChunk[] {
    return rows.flatMap(({ id, score }) => {
      const chunk = this.chunkOfRow.get(id);
      return chunk === undefined ? [] : [{ chunk, score: Number(score) || 0 }];
    });
  }

  async dense(query: Float32Array, k: number, allowed: AllowedDocuments): Promise<ScoredChunk[]> {
    const { rows } = await reaching(this.url, async () => {
      const client = await searchConnection(this.pool);
      return client.query(denseSql(allowed !== null), [vectorLiteral(query), k, ...(allowed ? [[...allowed]] : [])]).finally(() => client.release());
    });
    return this.chunks(rows);
  }

  async lexical(query: string, k: number, allowed: AllowedDocuments): Promise<ScoredChunk[]> {
    const q = lexicalQuery(query, this.ranking);
    if (!q) return [];
    const filter = allowed ? 'AND document_id = ANY($3)' : '';
    const score = lexicalScore('terms', this.ranking, 1);
    const sql =
      this.ranking === 'pg_textsearch'
        ? `SELECT id, score FROM (SELECT id, ${score} AS score FROM passages WHERE true ${filter} ORDER BY terms <@> to_bm25query($1, '${INDEX_NAMES.terms.pg_textsearch}') LIMIT $2) hits WHERE score > 0`
        : `SELECT id, ${score} AS score FROM passages WHERE to_tsvector('simple', terms) @@ to_tsquery('simple', $1) ${filter} ORDER BY score DESC, id LIMIT $2`;
    const { rows } = await this.query(sql, [q, k, ...(allowed ? [[...allowed]] : [])]);
    return this.chunks(rows).sort((a, b) => b.score - a.score || a.chunk - b.chunk);
  }

  async matching(query: string, minShare: number, allowed: AllowedDocuments): Promise<number[]> {
    const q = lexicalQuery(query, this.ranking);
    if (!q) return [];
    // Rows holding any query term (the full-text index finds them), scored by the store's ranking.
    const filter = allowed ? 'AND document_id = ANY($4)' : '';
    const sql = `WITH scored AS (SELECT id, ${lexicalScore('terms', this.ranking, 1)} AS score FROM passages WHERE to_tsvector('simple', terms) @@ to_tsquery('simple', $2) ${filter})
      SELECT id, score FROM scored WHERE score > 0 AND score >= $3 * (SELECT max(score) FROM scored)`;
    const { rows } = await this.query(sql, [q, lexicalQuery(query, 'ts_rank'), minShare, ...(allowed ? [[...allowed]] : [])]);
    return this.chunks(rows)
      .map((c) => c.chunk)
      .sort((a, b) => a - b);
  }

  async scores(chunks: number[], query: string, vector: Float32Array): Promise<ChunkScores> {
    const q = lexicalQuery(query, this.ranking);
    const lexical = q ? `${lexicalScore('terms', this.ranking, 3)} AS bm25, ${lexicalScore('context_terms', this.ranking, 3)} AS context` : '0 AS bm25, 0 AS context';
    const { rows } = await this.query(`SELECT id, 1 - (embedding <=> $1::vector) AS dense, ${lexical} FROM passages WHERE id = ANY($2)`, [vectorLiteral(vector), Array.from(chunks, (c) => this.rowOfChunk[c]), ...(q ? [q] : [])]);
    const byRow = new Map(rows.map((r) => [r.id as number, r]));
    // NaN (a zero vector's cosine) and -0 (a negated zero BM25) are both 0.
    const value = (x: unknown) => Number(x) || 0;
    const of = (field: 'dense' | 'bm25' | 'context') => chunks.map((c) => value(byRow.get(this.rowOfChunk[c])?.[field]));
    return { dense: of('dense'), bm25: of('bm25'), context: of('context') };
  }

  idf(term: string): number {
    return bm25Idf(this.rowOfChunk.length, this.lexicon.get(term) ?? 0);
  }

  stats(): StoreStats {
    return { kind: 'postgres', lexicalRanking: this.ranking, passages: this.rowOfChunk.length };
  }

  /** A query on the pool, a failure to reach the server reported as StoreUnavailableError. */
  private query(sql: string, params: unknown[]) {
    return reaching(this.url, () => this.pool.query(sql, params));
  }

  async check(): Promise<void> {
    await this.query('SELECT 1', []);
  }

  /** Ends the process' connections to the database (every index loaded from it stops working). */
  async close(): Promise<void> {
    await closeDatabase(this.url);
  }
}
