import { readFileSync } from 'node:fs';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { timingSafeEqual } from 'node:crypto';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { timeout } from 'hono/timeout';
import type { Context } from 'hono';
import pLimit from 'p-limit';
import type { Archive } from '../archive.js';
import { describeZodError, UserError } from '../config.js';
import { StoreUnavailableError } from '../index/store.js';
import { timelineOf } from '../retrieve/timeline.js';
import type { SourceDocument } from '../types.js';
import {
  BatchBodySchema,
  BatchResponseSchema,
  CiteQuerySchema,
  DocIdParamSchema,
  ExportQuerySchema,
  DocumentSchema,
  DocumentSummarySchema,
  ErrorSchema,
  HealthSchema,
  ReindexResponseSchema,
  SearchBodySchema,
  SearchQuerySchema,
  SearchResponseSchema,
  TimelineSchema,
} from './schemas.js';
import { citeDocument } from './cite.js';
import { recordsCsv, searchRecord } from './records.js';

const MAX_BODY_BYTES = 1024 * 1024;

const errorBody = (code: string, message: string) => ({ error: { code, message } });

/** The HTTP status of a UserError by its code; any other code is the client's to fix (400). */
const STATUS_OF_CODE: Record<string, 404 | 503> = { unknown_document: 404, store_unavailable: 503 };

/** Over-limit bodies are read (and dropped) up to this size before the 413 is sent. */
const MAX_DISCARDED_BYTES = 64 * 1024 * 1024;

/**
 * Reads and drops the rest of a request body, up to MAX_DISCARDED_BYTES; true when it was read to
 * its end. A client that writes its whole body before reading the answer (Python's urllib does)
 * gets its 413 this way: answering first and closing the connection would break its pipe mid-body.
 * A body whose reader is already taken (a chunked upload cut by the limit) is left to the server.
 */
async function discardBody(request: Request): Promise<boolean> {
  if (!request.body || request.body.locked) return false;
  const reader = request.body.getReader();
  for (let read = 0; read <= MAX_DISCARDED_BYTES; ) {
    const { done, value } = await reader.read();
    if (done) return true;
    read += value.byteLength;
  }
  await reader.cancel();
  return false;
}
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } });
const errorResponses = { 400: errorResponse('Invalid input'), 404: errorResponse('Unknown document') };
const json = <T extends z.ZodType>(schema: T, description: string) => ({ 200: { description, content: { 'application/json': { schema } } }, ...errorResponses });

const searchGet = createRoute({ method: 'get', path: '/api/search', request: { query: SearchQuerySchema }, responses: json(SearchResponseSchema, 'Ranked passages and an extractive answer') });
const searchPost = createRoute({
  method: 'post',
  path: '/api/search',
  request: { body: { required: true, content: { 'application/json': { schema: SearchBodySchema } } } },
  responses: json(SearchResponseSchema, 'Ranked passages and an extractive answer'),
});
const batchPost = createRoute({
  method: 'post',
  path: '/api/batch',
  request: { body: { required: true, content: { 'application/json': { schema: BatchBodySchema } } } },
  responses: json(BatchResponseSchema, 'One search response per query, in order'),
});
const docsList = createRoute({ method: 'get', path: '/api/docs', responses: json(DocumentSummarySchema.array(), 'Every document of the archive') });
const text = (types: string[], description: string) => ({ 200: { description, content: Object.fromEntries(types.map((t) => [t, { schema: z.string() }])) }, ...errorResponses });
const docCite = createRoute({
  method: 'get',
  path: '/api/docs/{docId}/cite',
  request: { params: DocIdParamSchema, query: CiteQuerySchema },
  responses: text(['application/x-bibtex', 'application/x-research-info-systems', 'application/vnd.citationstyles.csl+json', 'text/plain'], "A reference to the document, from the archive's metadata, in the format asked for"),
});
const searchExport = createRoute({
  method: 'get',
  path: '/api/export',
  request: { query: ExportQuerySchema },
  responses: text(['text/csv', 'application/json'], 'The search as a download: CSV rows (one per passage) or the JSON record, with the fields batch writes'),
});
const docsTimeline = createRoute({ method: 'get', path: '/api/timeline', responses: json(TimelineSchema, "The archive's documents by publication period (the page's chart above the document list)") });
const docGet = createRoute({ method: 'get', path: '/api/docs/{docId}', request: { params: DocIdParamSchema }, responses: json(DocumentSchema, 'Metadata and clean text; citation offsets point into text') });
const reindexPost = createRoute({
  method: 'post',
  path: '/api/reindex',
  security: [{ adminToken: [] }],
  responses: {
    200: { description: 'The index was updated from the corpus and swapped in', content: { 'application/json': { schema: ReindexResponseSchema } } },
    401: errorResponse('Missing or wrong admin token'),
    404: errorResponse('Reindexing is off (no admin token configured)'),
    409: errorResponse('A reindex is already running'),
  },
});
const health = createRoute({
  method: 'get',
  path: '/api/health',
  responses: {
    200: { description: 'The server is up and its store answers', content: { 'application/json': { schema: HealthSchema } } },
    503: { description: 'The store (the database) cannot be reached; the server serves again by itself once it can', content: { 'application/json': { schema: HealthSchema } } },
  },
});

const summary = (d: SourceDocument) => ({ id: d.id, source: d.source, title: d.title, date: d.date, publisher: d.publisher, url: d.url, chars: d.text.length });

// The icon is served at /favicon.ico too: a browser asks for that when a page names none.
const PUBLIC_FILES: Record<string, string> = { '/': 'index.html', '/app.js': 'app.js', '/style.css': 'style.css', '/favicon.svg': 'favicon.svg', '/favicon.ico': 'favicon.svg' };
const CONTENT_TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml' };

export type ReindexSummary = z.infer<typeof ReindexResponseSchema>;

export interface AppOptions {
  /** Updates the index from the corpus and swaps it in; null when an update is running already. POST /api/reindex calls it (with the admin token). */
  reindex?: () => Promise<ReindexSummary | null>;
}

/** Constant-time comparison, so the token cannot be guessed from response times. */
function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.match(/^Bearer\s+(.+)$/i)?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The archive's HTTP app: JSON API under /api, the search page at /. Routes only parse, call the
 * archive, and shape the answer. `source` is the archive, or a getter for the live one when a
 * reindex can swap it while requests are being answered.
 */
export function createApp(source: Archive | (() => Archive), options: AppOptions = {}): OpenAPIHono {
  const current = typeof source === 'function' ? source : () => source;
  const { server } = current().config;
  // Searches run a few at a time, first come first served: interleaving many at once starved some
  // of them for seconds under load, while a queue keeps every wait near (queue length x query time).
  const queue = pLimit(server.concurrentSearches);
  const timeLimitReached = () => new HTTPException(503, { message: `The request took longer than ${server.requestTimeoutMs} ms and was stopped; try fewer queries or a smaller k.` });
  // Each search first yields to the event loop: the model runs without returning to it, so without
  // this a drained queue would starve the sockets (new requests unread, for seconds under load).
  const search = (archive: Archive, q: string, options: Parameters<Archive['search']>[1]) =>
    queue(async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return archive.search(q, options);
    });
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return c.json(errorBody('invalid_request', describeZodError(result.error)), 400);
    },
  });

  app.use('*', secureHeaders({ contentSecurityPolicy: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'"], objectSrc: ["'none'"], frameAncestors: ["'none'"] } }));
  if (server.corsOrigins.length) app.use('/api/*', cors({ origin: server.corsOrigins.includes('*') ? '*' : server.corsOrigins, allowMethods: ['GET', 'POST'] }));
  app.use('/api/*', timeout(server.requestTimeoutMs, timeLimitReached));
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: async (c) => {
        const whole = await discardBody(c.req.raw);
        if (!whole) c.header('connection', 'close');
        return c.json(errorBody('body_too_large', `Request body must be at most ${MAX_BODY_BYTES} bytes.`), 413);
      },
    }),
  );
  app.use('/api/*', async (c, next) => {
    // Hono leaves undecodable escapes as literal text; say so instead of searching for "%FF".
    try {
      decodeURIComponent(new URL(c.req.url).search.slice(1));
    } catch {
      return c.json(errorBody('invalid_request', 'The query string has control characters or invalid UTF-8 (bad percent-encoding); encode parameters as UTF-8.'), 400);
    }
    await next();
  });
  const requireJson = async (c: Context, next: () => Promise<void>) => {
    if (c.req.method === 'POST' && !/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
      return c.json(errorBody('unsupported_media_type', 'Send the request body as JSON with Content-Type: application/json.'), 415);
    }
    await next();
  };
  app.use('/api/search', requireJson);
  app.use('/api/batch', requireJson);

  const filters = (v: { doc?: string[]; from?: string; to?: string }) => ({ docIds: v.doc, from: v.from, to: v.to });
  app.openapi(searchGet, async (c) => {
    const v = c.req.valid('query');
    return c.json(await search(current(), v.q, { k: v.k, filters: filters(v), timeline: true }), 200);
  });
  app.openapi(searchPost, async (c) => {
    const v = c.req.valid('json');
    return c.json(await search(current(), v.q, { k: v.k, filters: filters(v), timeline: true }), 200);
  });
  app.openapi(batchPost, async (c) => {
    const v = c.req.valid('json');
    // One archive for the whole batch, even if a reindex swaps in another meanwhile.
    const archive = current();
    const results = [];
    const started = Date.now();
    for (const item of v.queries) {
      // Each search yields to the event loop first (see `search`), so other requests and the time limit get in between.
      results.push({ id: item.id ?? null, ...(await search(archive, item.q, { k: v.k, filters: filters(v) })) });
      // Stop working once past the time limit; whichever notices first (this check or the timer) answers, with the same message.
      if (Date.now() - started > server.requestTimeoutMs) throw timeLimitReached();
    }
    return c.json({ index: archive.index.manifest.id, results }, 200);
  });
  app.openapi(docsList, (c) => c.json(current().documents().map(summary), 200));
  /** The document of a route's {docId}; an unknown id answers 404 (onError). */
  const documentOf = (docId: string) => {
    const doc = current().document(docId);
    if (!doc) throw new UserError(`No document with id "${docId}". GET /api/docs lists them.`, 'unknown_document');
    return doc;
  };
  app.openapi(docCite, (c) => {
    const { body, contentType, filename } = citeDocument(documentOf(c.req.valid('param').docId), c.req.valid('query').format);
    return c.body(body, 200, { 'content-type': contentType, 'content-disposition': `inline; filename="${filename}"` });
  });
  app.openapi(searchExport, async (c) => {
    const v = c.req.valid('query');
    const record = searchRecord(null, await search(current(), v.q, { k: v.k, filters: filters(v) }));
    const [body, type] = v.format === 'csv' ? [recordsCsv([record]), 'text/csv; charset=utf-8'] : [`${JSON.stringify(record, null, 2)}\n`, 'application/json; charset=utf-8'];
    return c.body(body, 200, { 'content-type': type, 'content-disposition': `attachment; filename="search.${v.format}"` });
  });
  app.openapi(docsTimeline, (c) => c.json(timelineOf(current().documents().map((d) => d.date)), 200));
  app.openapi(docGet, (c) => {
    const doc = documentOf(c.req.valid('param').docId);
    return c.json({ ...summary(doc), text: doc.text, pageStarts: doc.pageStarts ?? null }, 200);
  });
  app.openapi(health, async (c) => {
    const archive = current();
    const { manifest } = archive.index;
    const about = { index: manifest.id, documents: manifest.counts.documents, chunks: manifest.counts.chunks, model: manifest.model.id, modelChecksum: manifest.model.checksum, outOfVocabulary: manifest.outOfVocabulary, reranker: archive.config.retrieval.rerank.candidates > 0 ? archive.reranker.id : null, store: archive.index.store.stats() };
    try {
      await archive.index.store.check();
    } catch (e) {
      // A load balancer takes a server whose store is down out of rotation until it answers again.
      if (e instanceof StoreUnavailableError) return c.json({ status: 'unavailable' as const, message: e.message, ...about }, 503);
      throw e;
    }
    return c.json({ status: 'ok' as const, ...about }, 200);
  });
  app.openapi(reindexPost, async (c) => {
    const token = server.adminToken;
    if (!token || !options.reindex) return c.json(errorBody('reindex_disabled', 'Reindexing over HTTP is off. Set server.adminToken (or ARCHIVE_ADMIN_TOKEN) to turn it on.'), 404);
    if (!tokenMatches(c.req.header('authorization'), token)) {
      c.header('WWW-Authenticate', 'Bearer');
      return c.json(errorBody('unauthorized', 'Send the admin token as "Authorization: Bearer <token>".'), 401);
    }
    const summary = await options.reindex();
    if (!summary) return c.json(errorBody('reindex_running', 'A reindex is already running; try again when it has finished.'), 409);
    return c.json(summary, 200);
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'adminToken', { type: 'http', scheme: 'bearer' });
  app.doc31('/api/openapi.json', { openapi: '3.1.0', info: { title: 'Semantic archive API', version: '1.0.0', description: 'Hybrid (dense + BM25) passage search with extractive answers and citations.' } });

  for (const [path, file] of Object.entries(PUBLIC_FILES)) {
    const body = readFileSync(new URL(`./public/${file}`, import.meta.url), 'utf8');
    const type = CONTENT_TYPES[file.split('.').pop()!];
    app.get(path, (c) => c.body(body, 200, { 'content-type': type }));
  }

  app.notFound((c) => c.json(errorBody('not_found', `No route for ${c.req.method} ${new URL(c.req.url).pathname}. See /api/openapi.json.`), 404));
  app.onError((err, c: Context) => {
    if (err instanceof HTTPException) {
      const message = err.status === 400 ? 'Malformed JSON in request body.' : err.message;
      return c.json(errorBody(err.status === 400 ? 'invalid_json' : err.status === 503 ? 'timeout' : 'http_error', message), err.status);
    }
    if (err instanceof UserError) return c.json(errorBody(err.code, err.message), STATUS_OF_CODE[err.code] ?? 400);
    console.error(err);
    return c.json(errorBody('internal', 'The server failed to answer this request; the error was logged.'), 500);
  });
  return app;
}
