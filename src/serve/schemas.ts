import { z } from '@hono/zod-openapi';
import { isIsoDate } from '../ingest/index.js';
import { CiteFormat } from './cite.js';

export const MAX_QUERY_CHARS = 2000;
export const MAX_BATCH = 100;

/** A question as every entry point accepts it (HTTP and batch lines). */
export const QueryText = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_QUERY_CHARS, `must be at most ${MAX_QUERY_CHARS} characters`)
  .refine((q) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFD]/.test(q), 'must not contain control characters or invalid UTF-8')
  .openapi({ example: 'why did the 2016 bid fail' });
const IsoDate = z.string().refine(isIsoDate, 'must be an ISO date: YYYY, YYYY-MM or YYYY-MM-DD').openapi({ example: '2015' });
const DocIds = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))
  .openapi({ description: 'Restrict to these document ids (repeat the parameter or separate with commas).' });

const searchFields = {
  q: QueryText,
  k: z.coerce.number().int('must be a whole number').min(1).max(100).default(10).openapi({ example: 10 }),
  doc: DocIds.optional(),
  from: IsoDate.optional(),
  to: IsoDate.optional(),
};
const checkRange = (v: { from?: string; to?: string }) => !v.from || !v.to || v.from <= v.to;
const rangeMessage = { message: '"from" must not be after "to"', path: ['from'] };

export const SearchQuerySchema = z.object(searchFields).strict().refine(checkRange, rangeMessage);
export const SearchBodySchema = z
  .object({ ...searchFields, k: z.number().int('must be a whole number').min(1).max(100).default(10) })
  .strict()
  .refine(checkRange, rangeMessage)
  .openapi('SearchRequest');

export const BatchBodySchema = z
  .object({
    queries: z
      .array(z.object({ id: z.union([z.string(), z.number()]).optional(), q: QueryText }).strict())
      .min(1, 'must hold at least one query')
      .max(MAX_BATCH, `must hold at most ${MAX_BATCH} queries`),
    k: z.number().int().min(1).max(100).default(10),
    doc: DocIds.optional(),
    from: IsoDate.optional(),
    to: IsoDate.optional(),
  })
  .strict()
  .refine(checkRange, rangeMessage)
  .openapi('BatchRequest');

export const CiteQuerySchema = z.object({ format: CiteFormat.default('text').openapi({ description: 'bibtex, ris, csl (CSL-JSON) or text (an APA reference)' }) }).strict();

export const ExportQuerySchema = z
  .object({ ...searchFields, format: z.enum(['csv', 'json']).default('csv').openapi({ description: 'csv: one row per passage (as batch --format csv); json: the record batch writes' }) })
  .strict()
  .refine(checkRange, rangeMessage);

export const DocIdParamSchema = z.object({ docId: z.string().min(1).max(200).openapi({ example: '001_004c609643dbb3e3' }) });

export const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) }).openapi('Error');

const CitationSchema = z
  .object({ docId: z.string(), source: z.string(), title: z.string(), date: z.string().nullable(), page: z.number().int().nullable().openapi({ description: 'Page of start, for paged formats (PDF)' }), start: z.number().int(), end: z.number().int() })
  .openapi('Citation');

export const TimelineSchema = z
  .object({
    unit: z.enum(['year', 'month']).openapi({ description: 'Years, or months when everything counted falls within two years' }),
    periods: z.array(z.object({ period: z.string().openapi({ example: '2016' }), count: z.number().int() })).openapi({ description: 'Every period from the first to the last with any, in order (empty ones too)' }),
    undated: z.number().int().openapi({ description: 'Counted apart: items whose document has no date' }),
  })
  .openapi('Timeline');

export const SearchResponseSchema = z
  .object({
    query: z.string(),
    answer: z
      .object({
        text: z.string(),
        score: z.number(),
        short: z
          .object({ text: z.string(), start: z.number().int(), end: z.number().int() })
          .nullable()
          .openapi({ description: "For a question asking for a fact (who, when, where, how many, which or what + noun): the fact's words inside the answering sentence, offsets in the document's clean text; null otherwise" }),
        evidence: z
          .array(z.object({ text: z.string(), score: z.number(), citation: CitationSchema }))
          .openapi({ description: 'For a why or how question: up to three more sentences, from other passages (other documents first), that would each be given as the answer were it not there, with the probability; empty otherwise' }),
        citation: CitationSchema,
      })
      .nullable(),
    results: z.array(
      CitationSchema.extend({
        rank: z.number().int(),
        score: z.number(),
        text: z.string(),
        section: z.string().nullable().openapi({ description: 'Headings the passage stands under, outermost first (" › " between them); null when none' }),
        sentence: z.object({ start: z.number().int(), end: z.number().int(), page: z.number().int().nullable(), text: z.string(), score: z.number() }),
        scores: z.object({ dense: z.number(), bm25: z.number() }),
      }),
    ),
    timeline: TimelineSchema.optional().openapi({
      description: "The query's matching passages (BM25 at least half the best passage's, within the document filter; the date range does not narrow it) by their documents' publication periods. In /api/search responses, not in batches.",
    }),
    index: z.string().openapi({ description: 'Manifest id of the index that answered.' }),
  })
  .openapi('SearchResponse');

export const BatchResponseSchema = z
  .object({ index: z.string(), results: z.array(z.object({ id: z.union([z.string(), z.number()]).nullable() }).and(SearchResponseSchema)) })
  .openapi('BatchResponse');

export const DocumentSummarySchema = z
  .object({ id: z.string(), source: z.string(), title: z.string(), date: z.string().nullable(), publisher: z.string().nullable(), url: z.string().nullable(), chars: z.number().int() })
  .openapi('DocumentSummary');

export const DocumentSchema = DocumentSummarySchema.extend({
  text: z.string(),
  pageStarts: z.array(z.number().int()).nullable().openapi({ description: 'Offset in text where each page starts (PDF); null for formats without pages' }),
}).openapi('Document');

const OutOfVocabularySchema = z
  .object({
    words: z.number().int().openapi({ description: "Content-word occurrences in the corpus" }),
    unknown: z.number().int().openapi({ description: 'Of those, occurrences of words the model has no vector for' }),
    share: z.number().openapi({ description: 'unknown / words' }),
    atTraining: z.number().openapi({ description: 'The share when the model was trained' }),
    retrainAbove: z.number().openapi({ description: 'The model is retrained when share exceeds atTraining by more than this' }),
  })
  .nullable()
  .openapi('OutOfVocabulary', { description: "How much of the corpus the archive's built-in model knows; null for a configured model" });

export const HealthSchema = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    message: z.string().optional().openapi({ description: 'Why the store cannot be reached, when it cannot' }),
    index: z.string(),
    documents: z.number().int(),
    chunks: z.number().int(),
    model: z.string(),
    modelChecksum: z.string(),
    outOfVocabulary: OutOfVocabularySchema,
    reranker: z.string().nullable(),
    store: z
      .object({
        kind: z.enum(['embedded', 'postgres']),
        passages: z.number().int(),
      })
      .openapi({ description: 'Where the passages are searched' }),
  })
  .openapi('Health');

const firstOf = <T extends z.ZodType>(item: T) => z.object({ count: z.number().int(), first: z.array(item).openapi({ description: 'The first 20' }) });

export const ReindexResponseSchema = z
  .object({
    index: z.string(),
    previousIndex: z.string(),
    documents: z.number().int(),
    chunks: z.number().int(),
    embedded: z.number().int().openapi({ description: 'Passages embedded by this update; the rest kept their vectors.' }),
    fullRebuild: z.string().nullable().openapi({ description: 'Why every passage was embedded again, or null.' }),
    model: z.object({ id: z.string(), checksum: z.string(), trained: z.object({ reason: z.string(), ms: z.number().int() }).nullable().openapi({ description: "Why this update trained the archive's model, or null" }) }),
    outOfVocabulary: OutOfVocabularySchema,
    changes: z.object({
      added: firstOf(z.string()),
      changed: firstOf(z.string()),
      removed: firstOf(z.string()),
      catalog: z.enum(['added', 'changed', 'removed']).nullable().openapi({ description: 'How catalog.json (the documents\' metadata) changed, if it did; it is not counted among the files' }),
    }),
    skipped: firstOf(z.object({ source: z.string(), reason: z.string() })),
    ocr: z
      .object({ pages: z.number().int(), meanConfidence: z.number().nullable(), lowConfidence: firstOf(z.object({ source: z.string(), page: z.number().int(), confidence: z.number() })) })
      .openapi({ description: 'Scanned pages and images this update read by OCR; those under ingest.ocrMinConfidence are worth checking.' }),
    ms: z.number().int(),
  })
  .openapi('ReindexResponse');
