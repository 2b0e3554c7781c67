import type { Chunk, SourceDocument } from '../types.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeArrays, openArrays } from './binary.js';
import { LexicalIndex } from './lexicalIndex.js';
import { DocumentTexts } from './texts.js';

/**
 * The files of a generation besides its manifest and HNSW graph, and how they are written and
 * read. Everything large is a typed array (binary.ts); what a query reads only a little of (BM25
 * postings, documents' texts) stays on disk and is read when asked for.
 *
 *   documents.json  each document's metadata, in text order (no text)
 *   text.bin        the documents' clean texts, UTF-8, with each one's byte offsets
 *   chunks.bin      per passage: its document (index), start and end (character offsets), HNSW label
 *   bm25.bin, bm25-context.bin   BM25 postings over passages, and over passages with their neighbours
 */
export const ENCODED_ARTIFACTS = ['documents.json', 'text.bin', 'chunks.bin', 'bm25.bin', 'bm25-context.bin'] as const;

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
  /** HNSW label of each chunk (the vectors themselves are the graph's, vectors.hnsw). */
  labels: Int32Array;
  lexical: LexicalIndex;
  contextLexical: LexicalIndex;
}

/** The bytes of each encoded artifact. */
export function encodeArtifacts(content: IndexContent): Map<string, Buffer> {
  const { documents, chunks } = content;
  const position = new Map(documents.map((d, i) => [d.id, i]));
  const metadata = documents.map(({ id, source, title, date, publisher, url, pageStarts }) => ({ id, source, title, date, publisher, url, ...(pageStarts ? { pageStarts } : {}) }));
  const texts = DocumentTexts.encode(documents.map((d) => d.text));
  return new Map([
    ['documents.json', Buffer.from(JSON.stringify({ documents: metadata }))],
    ['text.bin', encodeArrays('text', {}, texts)],
    [
      'chunks.bin',
      encodeArrays('chunks', {}, {
        documents: Uint32Array.from(chunks, (c) => position.get(c.docId)!),
        starts: Uint32Array.from(chunks, (c) => c.start),
        ends: Uint32Array.from(chunks, (c) => c.end),
        labels: content.labels,
      }),
    ],
    ['bm25.bin', content.lexical.encode()],
    ['bm25-context.bin', content.contextLexical.encode()],
  ]);
}

/** Documents whose `text` is read from the shared store when asked for, and passages whose `text` is a slice of it. */
function lazyDocuments(metadata: StoredDocument[], texts: DocumentTexts): SourceDocument[] {
  return metadata.map((m, i) => Object.defineProperty({ ...m }, 'text', { get: () => texts.text(i), enumerable: true }) as SourceDocument);
}

/** A passage of a loaded index: its text is a slice of its document's, made when asked for. */
class StoredChunk implements Chunk {
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
  return {
    documents,
    chunks,
    labels: stored.read('labels', 'i32'),
    lexical: LexicalIndex.load(openArrays(join(dir, 'bm25.bin'), 'bm25')),
    contextLexical: LexicalIndex.load(openArrays(join(dir, 'bm25-context.bin'), 'bm25')),
  };
}
