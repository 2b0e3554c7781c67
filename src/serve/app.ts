import { readFileSync } from 'node:fs';
import { OpenAPIHono, createRoute, type z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import type { Context } from 'hono';
import type { Archive } from '../archive.js';
import { describeZodError, UserError } from '../config.js';
import type { SourceDocument } from '../types.js';
import {
  BatchBodySchema,
  BatchResponseSchema,
  DocIdParamSchema,
  DocumentSchema,
  DocumentSummarySchema,
  ErrorSchema,
  HealthSchema,
  SearchBodySchema,
  SearchQuerySchema,
  SearchResponseSchema,
} from './schemas.js';

const MAX_BODY_BYTES = 1024 * 1024;

const errorBody = (code: string, message: string) => ({ error: { code, message } });
const errorResponses = {
  400: { description: 'Invalid input', content: { 'application/json': { schema: ErrorSchema } } },
  404: { description: 'Unknown document', content: { 'application/json': { schema: ErrorSchema } } },
};
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
const docGet = createRoute({ method: 'get', path: '/api/docs/{docId}', request: { params: DocIdParamSchema }, responses: json(DocumentSchema, 'Metadata and clean text; citation offsets point into text') });
const health = createRoute({ method: 'get', path: '/api/health', responses: { 200: { description: 'The server is up', content: { 'application/json': { schema: HealthSchema } } } } });

const summary = (d: SourceDocument) => ({ id: d.id, source: d.source, title: d.title, date: d.date, publisher: d.publisher, url: d.url, chars: d.text.length });

const PUBLIC_FILES: Record<string, string> = { '/': 'index.html', '/app.js': 'app.js', '/style.css': 'style.css' };
const CONTENT_TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

/** The archive's HTTP app: JSON API under /api, the search page at /. Routes only parse, call the archive, and shape the answer. */
export function createApp(archive: Archive): OpenAPIHono {
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return c.json(errorBody('invalid_request', describeZodError(result.error)), 400);
    },
  });

  app.use('*', secureHeaders({ contentSecurityPolicy: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'"], objectSrc: ["'none'"], frameAncestors: ["'none'"] } }));
  app.use('/api/*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.json(errorBody('body_too_large', `Request body must be at most ${MAX_BODY_BYTES} bytes.`), 413) }));
  app.use('/api/*', async (c, next) => {
    if (c.req.method === 'POST' && !/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
      return c.json(errorBody('unsupported_media_type', 'Send the request body as JSON with Content-Type: application/json.'), 415);
    }
    await next();
  });

  const filters = (v: { doc?: string[]; from?: string; to?: string }) => ({ docIds: v.doc, from: v.from, to: v.to });
  app.openapi(searchGet, async (c) => {
    const v = c.req.valid('query');
    return c.json(await archive.search(v.q, { k: v.k, filters: filters(v) }), 200);
  });
  app.openapi(searchPost, async (c) => {
    const v = c.req.valid('json');
    return c.json(await archive.search(v.q, { k: v.k, filters: filters(v) }), 200);
  });
  app.openapi(batchPost, async (c) => {
    const v = c.req.valid('json');
    const results = [];
    for (const item of v.queries) results.push({ id: item.id ?? null, ...(await archive.search(item.q, { k: v.k, filters: filters(v) })) });
    return c.json({ index: archive.index.manifest.id, results }, 200);
  });
  app.openapi(docsList, (c) => c.json(archive.documents().map(summary), 200));
  app.openapi(docGet, (c) => {
    const { docId } = c.req.valid('param');
    const doc = archive.document(docId);
    if (!doc) return c.json(errorBody('unknown_document', `No document with id "${docId}". GET /api/docs lists them.`), 404);
    return c.json({ ...summary(doc), text: doc.text, pageStarts: doc.pageStarts ?? null }, 200);
  });
  app.openapi(health, (c) =>
    c.json({ status: 'ok' as const, index: archive.index.manifest.id, documents: archive.index.manifest.counts.documents, chunks: archive.index.manifest.counts.chunks, model: archive.embedder.info.id, reranker: archive.reranker?.id ?? null }, 200),
  );
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
      return c.json(errorBody(err.status === 400 ? 'invalid_json' : 'http_error', message), err.status);
    }
    if (err instanceof UserError) return c.json(errorBody(err.code, err.message), err.code === 'unknown_document' ? 404 : 400);
    console.error(err);
    return c.json(errorBody('internal', 'The server failed to answer this request; the error was logged.'), 500);
  });
  return app;
}
