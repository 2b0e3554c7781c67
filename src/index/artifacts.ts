import type { Chunk, SourceDocument } from '../types.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../ingest/index.js';
import { openArrays, writeArrays, type ArrayContent, type ArrayRanges } from './binary.js';
import { writeFileAtomic } from './storage.js';
import { LexicalIndex } from './lexicalIndex.js';
import { DocumentTexts } from './texts.js';

/**
 * The files of a generation besides its manifest and HNSW graph, and how they are written and
 * read. Everything large is a typed array (binary.ts); what a query reads only a little of (BM25
 * postings, documents' texts, candidates' vectors) stays on disk and is read when asked for.
 *
 *   documents.json  each document's metadata, in text order (no text)
 *   text.bin        the documents' clean texts, UTF-8, with each one's byte offsets
 *   chunks.bin      per passage: its document (index), start and end (character offsets), HNSW label
 *   vectors.f32     per passage: its vector (dimension in the header)
 *   bm25.bin, bm25-context.bin   BM25 postings over passages, and over passages with their neighbours
 */
export const ENCODED_ARTIFACTS = ['documents.json', 'text.bin', 'chunks.bin', 'vectors.f32', 'bm25.bin', 'bm25-context.bin'] as const;

type StoredDocument = Omit<SourceDocument, 'text'>;

/**
 * The documents' metadata. The file is our own and its checksum was checked, so its shape is
 * checked in one pass rather than through a schema (zod took 170 ms over 41,000 documents).
 */
function readDocuments(bytes: Buffer): StoredDocument[] {
  const documents = (JSON.parse(bytes.toString('utf8')) as { documents?: unknown }).documents;
  const text = (v: unknown) => typeof v === 'string';
  const valid = Array.isArray(documents) && documents.every((d) => d && text(d.id) && text(d.source) && text(d.title) && (d.date === null || text(d.date)) && (d.publisher === null || text(d.publisher)) && (d.url === null || text(d.url)));
  if (!valid) throw new Error('documents.json does not describe documents');
  return documents as StoredDocument[];
}

export interface IndexContent {
  documents: SourceDocument[];
  chunks: Chunk[];
  /** HNSW label of each chunk, and every chunk's vector (chunk-major). */
  labels: Int32Array;
  vectors: ArrayRanges<Float32Array>;
  dim: number;
  lexical: LexicalIndex;
  contextLexical: LexicalIndex;
}

/** Writes every encoded artifact into the generation folder `dir` (each atomically); their sizes and checksums. */
export function writeArtifacts(dir: string, content: IndexContent): Record<string, { bytes: number; sha256: string }> {
  const { documents, chunks } = content;
  const position = new Map(documents.map((d, i) => [d.id, i]));
  const metadata = documents.map(({ id, source, title, date, publisher, url, pageStarts, headings }) => ({ id, source, title, date, publisher, url, ...(pageStarts ? { pageStarts } : {}), ...(headings ? { headings } : {}) }));
  const documentsJson = Buffer.from(JSON.stringify({ documents: metadata }));
  writeFileAtomic(join(dir, 'documents.json'), documentsJson);
  const binary = (name: string, file: ArrayContent) => [name, writeArrays(join(dir, name), file)] as const;
  return Object.fromEntries([
    ['documents.json', { bytes: documentsJson.length, sha256: sha256(documentsJson) }],
    binary('text.bin', { kind: 'text', meta: {}, arrays: DocumentTexts.encode(documents.map((d) => d.text)) }),
    binary('chunks.bin', {
      kind: 'chunks',
      meta: {},
      arrays: {
        documents: Uint32Array.from(chunks, (c) => position.get(c.docId)!),
        starts: Uint32Array.from(chunks, (c) => c.start),
        ends: Uint32Array.from(chunks, (c) => c.end),
        labels: content.labels,
      },
    }),
    binary('vectors.f32', { kind: 'vectors', meta: { dim: content.dim }, arrays: { vectors: content.vectors.range(0, content.vectors.length) } }),
    binary('bm25.bin', content.lexical.content()),
    binary('bm25-context.bin', content.contextLexical.content()),
  ]);
}

/** Documents whose `text` is read from the shared store when asked for, and passages whose `text` is a slice of it. */
function lazyDocuments(metadata: StoredDocument[], texts: DocumentTexts): SourceDocument[] {
  return metadata.map((m, i) => Object.defineProperty({ ...m }, 'text', { get: () => texts.text(i), enumerable: true }) as SourceDocument);
}

/** A passage of a loaded index: its text is a slice of its document's, made when asked for. */
export class StoredChunk implements Chunk {
  readonly docId: string;
  constructor(
    readonly id: number,
    private readonly document: SourceDocument,
    readonly start: number,
    readonly end: number,
  ) {
    this.docId = document.id;
  }

  get text(): string {
    return this.document.text.slice(this.start, this.end);
  }
}

/** Reads the artifacts in a generation folder (throws when one is not what its name says). */
export function readArtifacts(dir: string): IndexContent {
  const metadata = readDocuments(readFileSync(join(dir, 'documents.json')));
  const text = openArrays(join(dir, 'text.bin'), 'text');
  const offsets = text.read('offsets', 'u32');
  if (offsets.length !== metadata.length + 1) throw new Error(`text.bin holds ${offsets.length - 1} texts, documents.json lists ${metadata.length} documents`);
  const documents = lazyDocuments(metadata, new DocumentTexts(text.ranges('bytes', 'u8'), offsets));
  const stored = openArrays(join(dir, 'chunks.bin'), 'chunks');
  const [of, starts, ends] = [stored.read('documents', 'u32'), stored.read('starts', 'u32'), stored.read('ends', 'u32')];
  if (of.some((d) => d >= documents.length)) throw new Error('chunks.bin names a document documents.json does not list');
  const chunks: Chunk[] = Array.from(of, (d, id) => new StoredChunk(id, documents[d], starts[id], ends[id]));
  const vectors = openArrays(join(dir, 'vectors.f32'), 'vectors');
  return {
    documents,
    chunks,
    labels: stored.read('labels', 'i32'),
    vectors: vectors.ranges('vectors', 'f32'),
    dim: vectors.meta.dim as number,
    lexical: LexicalIndex.load(openArrays(join(dir, 'bm25.bin'), 'bm25')),
    contextLexical: LexicalIndex.load(openArrays(join(dir, 'bm25-context.bin'), 'bm25')),
  };
}
