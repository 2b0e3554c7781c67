import pg from 'pg';
import { UserError, type Config } from '../../config.js';
import { StoreUnavailableError } from '../store.js';
import { SEARCH_EF } from '../vectorStore.js';

/**
 * The schema, one migration per version. Each runs once, in its own transaction, under an advisory
 * lock, and is recorded in schema_migrations: several processes starting together apply it once,
 * and a database already at the latest version is left as it is.
 *
 *   archive_meta   the live manifest ('manifest') and whether a build is under way ('build')
 *   model_files    the archive's built-in model, in parts (every machine that serves it needs it)
 *   documents      metadata and clean text; embedding_key says which model and chunking embedded it
 *   passages       a document's passages: offsets, their vector, and their lengths in terms alone
 *                  and with their neighbours (BM25's length norms)
 *   lexical_terms  the terms (our tokenizer's stems, so both stores rank the same words), with the
 *                  passages and the contexts (passage and neighbours) holding each: BM25's idf
 *   postings       which passages (field 0) and contexts (field 1) hold a term, how often, and the
 *                  text's length as Lucene stores it: the embedded store's inverted index as rows,
 *                  so BM25 is scored from them exactly as the embedded store scores it
 *
 * The vector column takes its dimension, and the HNSW index its settings, from the build
 * (ensureVectorIndex), since they follow the model rather than the schema.
 */
const MIGRATIONS: string[] = [
  `CREATE EXTENSION IF NOT EXISTS vector;
   CREATE TABLE archive_meta (key text PRIMARY KEY, value jsonb NOT NULL);
   CREATE TABLE model_files (folder text NOT NULL, path text NOT NULL, part integer NOT NULL, bytes bytea NOT NULL, PRIMARY KEY (folder, path, part));
   CREATE TABLE documents (
     id text PRIMARY KEY,
     source text NOT NULL UNIQUE,
     title text NOT NULL,
     date text,
     publisher text,
     url text,
     page_starts jsonb,
     text text NOT NULL,
     embedding_key text NOT NULL
   );
   CREATE TABLE passages (
     id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     document_id text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
     position integer NOT NULL,
     start_offset integer NOT NULL,
     end_offset integer NOT NULL,
     terms text NOT NULL,
     context_terms text NOT NULL,
     embedding vector NOT NULL
   );
   CREATE INDEX passages_document ON passages (document_id);
   CREATE TABLE lexicon (term text PRIMARY KEY, passages integer NOT NULL);`,
  // Headings found by PDF layout and HTML markup: [{start, end, level}].
  `ALTER TABLE documents ADD COLUMN headings jsonb;`,
  // BM25 from postings in tables (any server with pgvector ranks as the embedded store does), made
  // from the terms columns they replace, which pg_textsearch or ts_rank ranked.
  `CREATE TABLE lexical_terms (
     id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     term text NOT NULL UNIQUE,
     passages integer NOT NULL DEFAULT 0,
     contexts integer NOT NULL DEFAULT 0
   );
   CREATE TABLE postings (
     field smallint NOT NULL,
     term_id integer NOT NULL,
     passage integer NOT NULL,
     tf integer NOT NULL,
     length integer NOT NULL,
     PRIMARY KEY (field, term_id, passage) INCLUDE (tf, length)
   );
   CREATE INDEX postings_passage ON postings (passage);
   ALTER TABLE passages ADD COLUMN terms_length integer NOT NULL DEFAULT 0, ADD COLUMN context_length integer NOT NULL DEFAULT 0;
   -- lucene_length in src/index/lexicalIndex.ts: exact below 32, then four significant bits past 24.
   CREATE OR REPLACE FUNCTION pg_temp.lucene_length(n integer) RETURNS integer LANGUAGE sql IMMUTABLE AS
     $$ SELECT CASE WHEN n - 24 < 8 THEN n ELSE 24 + (((n - 24) >> s) << s) END FROM (SELECT length(ltrim((n - 24)::bit(32)::text, '0')) - 4 AS s) AS shift $$;
   CREATE TEMP TABLE words ON COMMIT DROP AS
     SELECT p.id AS passage, f.field, w.term, count(*)::int AS tf
     FROM passages p, LATERAL (VALUES (0::smallint, p.terms), (1::smallint, p.context_terms)) AS f(field, text), unnest(string_to_array(f.text, ' ')) AS w(term)
     WHERE w.term <> '' GROUP BY p.id, f.field, w.term;
   UPDATE passages p SET terms_length = coalesce(l.terms, 0), context_length = coalesce(l.contexts, 0)
     FROM (SELECT passage, sum(tf) FILTER (WHERE field = 0) AS terms, sum(tf) FILTER (WHERE field = 1) AS contexts FROM words GROUP BY passage) AS l WHERE p.id = l.passage;
   INSERT INTO lexical_terms (term, passages, contexts)
     SELECT term, count(*) FILTER (WHERE field = 0), count(*) FILTER (WHERE field = 1) FROM words GROUP BY term;
   INSERT INTO postings (field, term_id, passage, tf, length)
     SELECT w.field, t.id, w.passage, w.tf, pg_temp.lucene_length(CASE w.field WHEN 0 THEN p.terms_length ELSE p.context_length END)
     FROM words w JOIN lexical_terms t USING (term) JOIN passages p ON p.id = w.passage;
   ALTER TABLE passages DROP COLUMN terms, DROP COLUMN context_terms;
   DROP TABLE lexicon;
   DROP FUNCTION pg_temp.lucene_length(integer);
   UPDATE archive_meta SET value = jsonb_build_object('dim', value -> 'dim') WHERE key = 'search';`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** The key of pg_advisory_xact_lock under which processes migrate the schema one at a time. */
const MIGRATION_LOCK = 7_340_001;

/**
 * Connection pools by URL, one per process for its whole life: an index swapped after a build keeps
 * using it, and idle connections close by themselves, so a CLI command still exits when done.
 */
const pools = new Map<string, { pool: pg.Pool; ready: Promise<void> }>();

/** The process' connection pool for the configured database, its schema migrated to this version. */
export async function openDatabase(config: Config): Promise<pg.Pool> {
  const url = config.store.databaseUrl;
  if (!url) throw new Error('openDatabase needs store.databaseUrl');
  let entry = pools.get(url);
  if (!entry) {
    // A server that neither answers nor refuses must not hold a search for long.
    const pool = new pg.Pool({ connectionString: url, max: config.store.connections, idleTimeoutMillis: 5_000, connectionTimeoutMillis: 5_000, allowExitOnIdle: true });
    pool.on('error', () => {}); // an idle connection the server dropped; the next query opens another
    entry = { pool, ready: migrate(pool, url) };
    pools.set(url, entry);
    entry.ready.catch(() => pools.delete(url));
  }
  await entry.ready;
  return entry.pool;
}

/** Closes the process' connections to the database (tests and scripts that are done with it). */
export async function closeDatabase(url: string): Promise<void> {
  const entry = pools.get(url);
  pools.delete(url);
  await entry?.pool.end();
}

/** Connections whose graph-search settings are made (a session keeps them). */
const tuned = new WeakSet<pg.PoolClient>();

/**
 * A connection for graph searches: they keep as many candidates as the embedded store's, and a
 * filtered search walks on until it has k passages (pgvector 0.8's iterative scan; an older
 * server takes the setting as an unknown one and ignores it).
 */
export async function searchConnection(pool: pg.Pool): Promise<pg.PoolClient> {
  const client = await pool.connect();
  if (!tuned.has(client)) {
    // A connection the server drops while checked out emits 'error' (unheard, it would end the process); its query fails anyway.
    client.on('error', () => {});
    await client.query(`SET hnsw.ef_search = ${SEARCH_EF}`);
    await client.query('SET hnsw.iterative_scan = relaxed_order').catch(() => {});
    tuned.add(client);
  }
  return client;
}

/** Runs `work` in one transaction on one connection: committed when it returns, rolled back when it throws. */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // The server may drop the connection between two statements (a build embeds for minutes between
  // writes): the client then emits 'error', which would end the process unheard; the next statement fails.
  let lost: Error | undefined;
  const onError = (e: Error) => (lost = e);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.off('error', onError);
    client.release(lost); // a lost connection is closed, not returned to the pool
  }
}

/** Where the URL points, without its password or its parameters, for messages. */
export const describeUrl = (url: string) => url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@').replace(/\?.*$/, '');

/** Errors of reaching the server (refused, reset, timed out, shut down), as opposed to a query's own. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03']);

/**
 * Runs `work` against the database at `url`, turning a failure to reach it into StoreUnavailableError
 * naming its host and port and saying what follows (`then`): a search then answers 503, and the pool
 * reconnects by itself once the server is back.
 */
export async function reaching<T>(url: string, work: () => Promise<T>, then = 'searches work again by themselves once it is back.'): Promise<T> {
  try {
    return await work();
  } catch (e) {
    const error = e as Error & { code?: string };
    const lost = CONNECTION_CODES.has(error.code ?? '') || error.code?.startsWith('08') || /Connection terminated|timeout exceeded when trying to connect|connection error|Client was closed/i.test(error.message);
    if (!lost) throw e;
    const host = URL.canParse(url) ? new URL(url).host : describeUrl(url);
    throw new StoreUnavailableError(`The database at ${host} cannot be reached (${error.message || error.code}); ${then}`);
  }
}

/** What to do about a failed migration, when the cause is the pgvector extension. */
export function schemaAdvice(error: { message: string; code?: string }, url: string): string {
  if (!/vector/.test(error.message)) return '';
  const database = URL.canParse(url) ? decodeURIComponent(new URL(url).pathname.slice(1)) || 'the database' : 'the database';
  // 42501: the server has pgvector, but this role may not create extensions.
  if (error.code === '42501') return `. This role may not create extensions: ask a superuser to run CREATE EXTENSION vector; in database "${database}", then start again.`;
  return '. The server does not have pgvector: install it there (the pgvector/pgvector image of docker-compose.yml has it, or the postgresql-15-pgvector package), then start again.';
}

async function migrate(pool: pg.Pool, url: string): Promise<void> {
  // A server just started (or one that has just let a connection go) may refuse for a moment.
  for (let attempt = 0; ; attempt++) {
    try {
      await pool.query('SELECT 1');
      break;
    } catch (e) {
      if (attempt < 4) {
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
        continue;
      }
      throw new UserError(`Could not connect to the database at ${describeUrl(url)}: ${(e as Error).message}. Check store.databaseUrl (or DATABASE_URL) and that the server is running.`, 'database_unreachable');
    }
  }
  await transaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ version: number }>('SELECT coalesce(max(version), 0) AS version FROM schema_migrations');
    const current = rows[0].version;
    if (current > SCHEMA_VERSION) throw new UserError(`The database at ${describeUrl(url)} has schema version ${current}; this version of the archive knows up to ${SCHEMA_VERSION}. Update the archive's code.`, 'database_newer');
    for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
      try {
        await client.query(MIGRATIONS[version - 1]);
      } catch (e) {
        throw new UserError(`Could not apply schema version ${version} to the database at ${describeUrl(url)}: ${(e as Error).message}${schemaAdvice(e as Error & { code?: string }, url)}`, 'database_schema');
      }
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
    }
  });
}
