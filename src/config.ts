import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';

/** Every setting of the archive, with its default. One schema feeds every stage. */
export const ConfigSchema = z.object({
  corpusDir: z.string().min(1).default('seeds'),
  indexDir: z.string().min(1).default('index'),
  embedding: z
    .object({
      /**
       * "archive-static" is the built-in model, which every archive trains for itself and keeps in its
       * index folder; any other name is a transformers.js model folder under modelsDir (or a hub id
       * when allowRemoteModels is on), shared by every archive that names it.
       */
      model: z.string().min(1).default('archive-static'),
      modelsDir: z.string().min(1).default('models'),
      /**
       * The built-in model is trained again (and every passage re-embedded) once the share of the
       * corpus' words it does not know exceeds its share at training by more than this (README: measured).
       */
      retrainAbove: z.number().min(0).max(1).default(0.015),
      allowRemoteModels: z.boolean().default(false),
      /** Load onnx/model_quantized.onnx instead of onnx/model.onnx. */
      quantized: z.boolean().default(false),
      /** Prefixes some models were trained with (e.g. bge, e5); unset means "known default for this model". */
      queryPrefix: z.string().optional(),
      passagePrefix: z.string().optional(),
      /** Texts per model call, grouped by length (a batch is padded to its longest text); 16 measured faster than 64 for a query's sentences. */
      batchSize: z.number().int().min(1).max(1024).default(16),
      /** Embed each passage with its document's title in front (the passage text itself is unchanged). */
      titleInPassage: z.boolean().default(true),
    })
    .prefault({}),
  ingest: z
    .object({
      /** Files larger than this are skipped with a reason instead of read. */
      maxFileMB: z.number().positive().max(10_000).default(50),
      /** Read scanned PDF pages and images (.png, .jpg, .tif) by OCR; off, they are skipped with the reason. */
      ocr: z.boolean().default(true),
      /** A page OCR read with a mean confidence (0 to 100) under this is listed in the build summary, to be checked. */
      ocrMinConfidence: z.number().min(0).max(100).default(60),
    })
    .prefault({}),
  chunking: z
    .object({
      targetWords: z.number().int().min(10).max(2000).default(100),
      maxWords: z.number().int().min(10).max(4000).default(180),
      overlapSentences: z.number().int().min(0).max(5).default(1),
    })
    .prefault({}),
  retrieval: z
    .object({
      /** Candidates taken from each side (dense and BM25) before fusion. */
      candidates: z.number().int().min(10).max(2000).default(100),
      /**
       * Weights of the standardised features in the fused score: dense similarity, BM25 of the
       * passage, and BM25 of the passage with its neighbours. Fitted on SciFact's train queries (README).
       */
      weights: z
        .object({
          dense: z.number().min(0).default(0.35),
          passageBm25: z.number().min(0).default(0.45),
          contextBm25: z.number().min(0).default(0.2),
        })
        .prefault({}),
      /** Lift, in standard deviations of the fused score, for passages that fit a time the question names. */
      timeWeight: z.number().min(0).max(5).default(0.5),
      /** Passages of one document in a result list at most, so that documents mix; raised to k / (documents searched) when that is more. */
      maxPerDoc: z.number().int().min(1).max(100).default(3),
      /** Word-shingle Jaccard above which two passages count as the same text. */
      duplicateThreshold: z.number().min(0).max(1).default(0.5),
      bm25: z
        .object({ k1: z.number().min(0).default(1.2), b: z.number().min(0).max(1).default(0.75) })
        .prefault({}),
      /**
       * The top passages re-ordered by a model that reads the question with each passage: a
       * cross-encoder when `model` names one, otherwise the answer reader (src/answer/reader), for
       * queries put as questions (README: "Passage order").
       */
      rerank: z
        .object({
          /** A cross-encoder (a transformers.js sequence-classification model): folder name under modelsDir (or a hub id when allowRemoteModels is on); unset means the answer reader. */
          model: z.string().min(1).nullish(),
          modelsDir: z.string().min(1).default('models'),
          allowRemoteModels: z.boolean().default(false),
          quantized: z.boolean().default(false),
          /** How many of the fused top passages are read and re-ordered; 0 keeps the fused order. */
          candidates: z.number().int().min(0).max(500).default(20),
          /** Share of the re-ranker in their new order (1: its order alone; 0.5: half fused score, half re-ranker); unset means 1 for a cross-encoder and 0.5 for the answer reader (chosen on the seeds). */
          weight: z.number().min(0).max(1).nullish(),
          batchSize: z.number().int().min(1).max(256).default(16),
        })
        .prefault({}),
    })
    .prefault({}),
  answer: z
    .object({
      /** The answer scorer: a file written by `npm run train-answer`; unset means the one shipped in src/answer/answer-model.json. */
      model: z.string().min(1).nullish(),
      /** Answers less likely than this (the answer's score is a probability) are withheld (answer: null); unset means the model's own threshold, chosen from its training curve. */
      minScore: z.number().min(0).max(1).nullish(),
      /** Answers are chosen among the sentences of this many top passages. */
      passagesConsidered: z.number().int().min(1).max(20).default(3),
    })
    .prefault({}),
  /**
   * Where passages' vectors and terms are kept: the embedded files of indexDir (the default), or a
   * Postgres database with pgvector when a URL is given (or DATABASE_URL is set); README: "Postgres".
   */
  store: z
    .object({
      /** postgres://user:password@host:port/database; unset keeps the embedded store. */
      databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL').nullish(),
      /** Connections each process keeps to the database. */
      connections: z.number().int().min(1).max(100).default(4),
    })
    .prefault({}),
  server: z
    .object({
      port: z.number().int().min(0).max(65535).default(8080),
      host: z.string().min(1).default('127.0.0.1'),
      /** Turns on POST /api/reindex for requests bearing this token (or set ARCHIVE_ADMIN_TOKEN); off when unset. */
      adminToken: z.string().min(16, 'must be at least 16 characters').nullish(),
      /** Origins allowed to call the API from other sites' pages; none (CORS off) by default. */
      corsOrigins: z.array(z.string().url().or(z.literal('*'))).default([]),
      /** Processes serving requests (`npm start`), each with the index open; 1 serves from the starting process itself. */
      workers: z.number().int().min(1).max(64).default(availableParallelism()),
      /** Searches answered at once; the rest wait their turn in arrival order. */
      concurrentSearches: z.number().int().min(1).max(64).default(2),
      /** A request still unanswered after this long gets a 503. */
      requestTimeoutMs: z.number().int().min(100).max(600_000).default(15_000),
      /** With `start --watch`: how long the corpus folder must be quiet after a change before the index is updated. */
      watchDebounceMs: z.number().int().min(50).max(600_000).default(1000),
    })
    .prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/**
 * Thrown for a problem a person must act on (input to fix, a store to bring back); the CLI prints
 * the message without a stack trace, and the HTTP API answers with its code (status by STATUS_OF_CODE).
 */
export class UserError extends Error {
  constructor(message: string, readonly code = 'invalid_input') {
    super(message);
  }
}

/** Formats zod issues as "path: message; ..." so people can find the offending field. */
export function describeZodError(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/**
 * Reads archive.config.json (or the file named by ARCHIVE_CONFIG) when present, then PORT, HOST,
 * ARCHIVE_ADMIN_TOKEN and DATABASE_URL from the environment, then the overrides (from CLI flags), and validates the result.
 */
export function loadConfig(overrides: ConfigInput = {}, cwd = process.cwd()): Config {
  const file = process.env.ARCHIVE_CONFIG ?? resolve(cwd, 'archive.config.json');
  let fromFile: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UserError(`Config file ${file} is not valid JSON: ${(e as Error).message}`);
    }
  } else if (process.env.ARCHIVE_CONFIG) {
    throw new UserError(`Config file ${file} (from ARCHIVE_CONFIG) does not exist.`);
  }
  const server: Record<string, unknown> = { ...(fromFile.server as object) };
  if (process.env.PORT !== undefined) server.port = Number(process.env.PORT);
  if (process.env.HOST) server.host = process.env.HOST;
  if (process.env.ARCHIVE_ADMIN_TOKEN) server.adminToken = process.env.ARCHIVE_ADMIN_TOKEN;
  const store: Record<string, unknown> = { ...(fromFile.store as object) };
  if (process.env.DATABASE_URL) store.databaseUrl = process.env.DATABASE_URL;
  const merged = deepMerge(deepMerge(fromFile, { server, store }), overrides as Record<string, unknown>);
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) throw new UserError(`Invalid configuration: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    if (value === undefined) continue;
    const prev = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && prev && typeof prev === 'object'
        ? deepMerge(prev as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}
