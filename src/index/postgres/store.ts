import type pg from 'pg';
import { queryTerms } from '../../text/tokens.js';
import { bm25Idf, type Bm25Parameters } from '../lexicalIndex.js';
import { NO_CANDIDATES, type AllowedDocuments, type Candidates, type PassageStore, type SearchQuery, type SearchSides, type StoreStats } from '../store.js';
import { closeDatabase, reaching, searchConnection } from './database.js';

/** The HNSW index's name (ensureVectorIndex creates it; a loaded index checks it is there). */
export const VECTOR_INDEX = 'passages_embedding_hnsw';

/** pgvector's text form of a vector. */
export const vectorLiteral = (v: Float32Array) => `[${Array.from(v).join(',')}]`;

/** The graph search: $1 the query vector, $2 k, $3 (when filtered) the documents allowed; through HNSW by the ORDER BY. */
export const denseSql = (filtered: boolean) => `SELECT id, 1 - (embedding <=> $1::vector) AS score FROM passages ${filtered ? 'WHERE document_id = ANY($3)' : ''} ORDER BY embedding <=> $1::vector LIMIT $2`;

/** postings.field: a term in the passage itself, or in the passage with its neighbours. */
export const FIELD = { passage: 0, context: 1 } as const;

/**
 * The database's lexicon, held by the process as the embedded store holds its terms: each term's
 * row id and how many passages and contexts hold it (BM25's idf), and each field's average length.
 */
export interface Lexicon {
  slots: Map<string, number>;
  ids: Int32Array;
  passages: Int32Array;
  contexts: Int32Array;
  averageLength: { passage: number; context: number };
}

/**
 * Passages kept in Postgres: pgvector's HNSW index for the dense side; BM25 scored in SQL from the
 * postings tables with the embedded store's formula (Lucene's idf, k1, b and one-byte lengths), so
 * both stores give the same scores. A search is one statement: both sides' candidates and every
 * side's score of them. The index loaded with it names passages by chunk id; rows carry their own
 * ids, mapped both ways here.
 */
export class PostgresStore implements PassageStore {
  private readonly chunkOfRow = new Map<number, number>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    /** Database id of each chunk's passage. */
    private readonly rowOfChunk: Int32Array,
    private readonly lexicon: Lexicon,
    private readonly bm25: Bm25Parameters,
  ) {
    rowOfChunk.forEach((row, chunk) => this.chunkOfRow.set(row, chunk));
  }

  /** The query's terms the archive holds (a repeated term counts again, as in the embedded store), with each field's idf. */
  private terms(text: string): { ids: number[]; passageIdf: number[]; contextIdf: number[] } {
    const { slots, ids, passages, contexts } = this.lexicon;
    const n = this.rowOfChunk.length;
    const found = queryTerms(text).flatMap((term) => slots.get(term) ?? []);
    return { ids: found.map((s) => ids[s]), passageIdf: found.map((s) => bm25Idf(n, passages[s])), contextIdf: found.map((s) => bm25Idf(n, contexts[s])) };
  }

  /**
   * SQL pieces shared by the searches: the query's terms as a table `q` ($1 to $3), and a field's
   * BM25 of one posting `p` joined to `q`, written as the embedded store computes it (same order of
   * operations, so the same doubles).
   */
  private bm25Sql(text: string, params: unknown[]): { q: string; score: (field: keyof typeof FIELD) => string } | null {
    const terms = this.terms(text);
    if (!terms.ids.length) return null;
    params.push(terms.ids, terms.passageIdf, terms.contextIdf, this.bm25.k1, this.bm25.b, this.lexicon.averageLength.passage, this.lexicon.averageLength.context);
    return {
      q: `q (term_id, idf, context_idf, k1, b, average, context_average) AS (SELECT t.*, $4::float8, $5::float8, $6::float8, $7::float8 FROM unnest($1::int[], $2::float8[], $3::float8[]) AS t)`,
      score: (field) => {
        const [idf, average] = field === 'passage' ? ['q.idf', 'q.average'] : ['q.context_idf', 'q.context_average'];
        return `(${idf} * p.tf * (q.k1 + 1)) / (p.tf + q.k1 * (1 - q.b + (q.b * p.length) / ${average}))`;
      },
    };
  }

  async candidates({ text, vector }: SearchQuery, k: number, allowed: AllowedDocuments, sides: SearchSides): Promise<Candidates> {
    const params: unknown[] = [];
    const bm25 = sides.bm25 || sides.context ? this.bm25Sql(text, params) : null;
    if (!sides.dense && !bm25) return NO_CANDIDATES;
    const param = (value: unknown) => `$${params.push(value)}`;
    const kParam = param(k);
    const docs = allowed ? param([...allowed]) : null;
    const vectorParam = sides.dense ? param(vectorLiteral(vector)) : null;
    const ctes: string[] = [];
    const found: string[] = [];
    if (vectorParam) {
      ctes.push(`dense AS (SELECT id FROM passages ${docs ? `WHERE document_id = ANY(${docs})` : ''} ORDER BY embedding <=> ${vectorParam}::vector LIMIT ${kParam})`);
      found.push('SELECT id, 0 AS side FROM dense');
    }
    if (bm25) {
      ctes.unshift(bm25.q);
      const filter = docs ? `JOIN passages a ON a.id = p.passage AND a.document_id = ANY(${docs})` : '';
      ctes.push(
        `lexical AS (SELECT p.passage AS id FROM postings p JOIN q USING (term_id) ${filter} WHERE p.field = ${FIELD.passage} GROUP BY p.passage ORDER BY sum(${bm25.score('passage')}) DESC, p.passage LIMIT ${kParam})`,
      );
      found.push('SELECT id, 1 AS side FROM lexical');
      const fields = [...(sides.bm25 ? [FIELD.passage] : []), ...(sides.context ? [FIELD.context] : [])];
      ctes.push(`pool AS (SELECT id, bool_or(side = 0) AS by_dense FROM (${found.join(' UNION ALL ')}) f GROUP BY id)`);
      ctes.push(
        `scored AS (SELECT p.passage, sum(${bm25.score('passage')}) FILTER (WHERE p.field = ${FIELD.passage}) AS bm25, sum(${bm25.score('context')}) FILTER (WHERE p.field = ${FIELD.context}) AS context
          FROM postings p JOIN q USING (term_id) WHERE p.field IN (${fields.join(', ')}) AND p.passage IN (SELECT id FROM pool) GROUP BY p.passage)`,
      );
    } else {
      ctes.push(`pool AS (SELECT id, true AS by_dense FROM dense)`);
    }
    const dense = vectorParam ? `1 - (a.embedding <=> ${vectorParam}::vector)` : '0';
    const lexical = bm25 ? 's.bm25, s.context' : '0 AS bm25, 0 AS context';
    const sql = `WITH ${ctes.join(',\n')}
      SELECT pool.id, pool.by_dense, ${dense} AS dense, ${lexical} FROM pool JOIN passages a ON a.id = pool.id ${bm25 ? 'LEFT JOIN scored s ON s.passage = pool.id' : ''}`;
    const { rows } = await reaching(this.url, async () => {
      const client = await searchConnection(this.pool);
      return client.query<{ id: number; by_dense: boolean; dense: number | null; bm25: number | null; context: number | null }>(sql, params).finally(() => client.release());
    });
    // NaN (a zero vector's cosine) and null (no query term in the passage) are both 0.
    const known = rows.flatMap((r) => {
      const chunk = this.chunkOfRow.get(r.id); // rows a newer build added after this index was loaded are dropped
      return chunk === undefined ? [] : [{ chunk, byDense: r.by_dense, dense: Number(r.dense) || 0, bm25: Number(r.bm25) || 0, context: Number(r.context) || 0 }];
    });
    // As the embedded store lists them: the dense side's best first, then the lexical side's others, best first.
    known.sort((x, y) => Number(y.byDense) - Number(x.byDense) || (x.byDense ? y.dense - x.dense : y.bm25 - x.bm25) || x.chunk - y.chunk);
    // A field not asked is not summed (`scored` keeps to the fields asked): it is null, so 0.
    return { chunks: known.map((c) => c.chunk), dense: known.map((c) => c.dense), bm25: known.map((c) => c.bm25), context: known.map((c) => c.context) };
  }

  async matching(query: string, minShare: number, allowed: AllowedDocuments): Promise<number[]> {
    const params: unknown[] = [];
    const bm25 = this.bm25Sql(query, params);
    if (!bm25) return [];
    const share = `$${params.push(minShare)}`;
    const filter = allowed ? `JOIN passages a ON a.id = p.passage AND a.document_id = ANY($${params.push([...allowed])})` : '';
    const sql = `WITH ${bm25.q}, scored AS (SELECT p.passage AS id, sum(${bm25.score('passage')}) AS score FROM postings p JOIN q USING (term_id) ${filter} WHERE p.field = ${FIELD.passage} GROUP BY p.passage)
      SELECT id FROM scored WHERE score > 0 AND score >= ${share}::float8 * (SELECT max(score) FROM scored)`;
    const { rows } = await this.query<{ id: number }>(sql, params);
    return rows.flatMap((r) => this.chunkOfRow.get(r.id) ?? []).sort((a, b) => a - b);
  }

  idf(term: string): number {
    const slot = this.lexicon.slots.get(term);
    return bm25Idf(this.rowOfChunk.length, slot === undefined ? 0 : this.lexicon.passages[slot]);
  }

  stats(): StoreStats {
    return { kind: 'postgres', passages: this.rowOfChunk.length };
  }

  /** A query on the pool, a failure to reach the server reported as StoreUnavailableError. */
  private query<R extends pg.QueryResultRow>(sql: string, params: unknown[]) {
    return reaching(this.url, () => this.pool.query<R>(sql, params));
  }

  async check(): Promise<void> {
    await this.query('SELECT 1', []);
  }

  /** Ends the process' connections to the database (every index loaded from it stops working). */
  async close(): Promise<void> {
    await closeDatabase(this.url);
  }
}
