import type { Embedder } from '../embed/index.js';
import type { OcrSummary } from '../ingest/index.js';
import type { Chunk, SourceDocument } from '../types.js';
import type { FileChanges, Manifest } from './manifest.js';
import type { ArchiveModel } from './model.js';
import type { PassageStore } from './store.js';

/**
 * What a build takes and gives, and what a loaded index is, whichever store keeps it: index.ts
 * dispatches to the embedded files or to Postgres, and both import these from here.
 */

/** A loaded index: documents, their chunks (id = position in `chunks`), and the store that searches them. */
export interface ArchiveIndex {
  manifest: Manifest;
  documents: Map<string, SourceDocument>;
  chunks: Chunk[];
  /** Where the passages' vectors and terms are searched: the embedded files, or Postgres. */
  store: PassageStore;
  documentsBySource: Map<string, SourceDocument>;
  /** Each document's chunks, in order. */
  chunksByDoc: Map<string, Chunk[]>;
}

export interface BuildProgress {
  /** Passages embedded, or pages read by OCR (of those queued so far). */
  (stage: 'embed' | 'ocr', done: number, total: number): void;
}

export interface BuildReport {
  manifest: Manifest;
  /** The index just built, loaded as openIndex would load it (no need to read it back). */
  index: ArchiveIndex;
  skipped: Array<{ source: string; reason: string }>;
  /** Pages this build read by OCR, and those read with low confidence. */
  ocr: OcrSummary;
  /** Documents indexed per file extension (".pdf": 3), for the build's summary. */
  formats: Record<string, number>;
  /** Files added, changed and removed since the index this build replaced. */
  changes: FileChanges;
  /** Why every passage was embedded again; null when the previous index was updated. */
  fullRebuild: string | null;
  /** Passages embedded by this build (the rest kept their vectors). */
  embedded: number;
  /** Why this build trained the archive's model (and how long it took); null when it kept it. */
  trained: ArchiveModel['trained'];
  /** The model this build embedded with (queries must be embedded with it too). */
  embedder: Embedder;
  ms: number;
}

export interface BuildOptions {
  onProgress?: BuildProgress;
  log?: (message: string) => void;
  /** The live index when the caller has it loaded (a running server); otherwise it is read from indexDir. */
  previous?: ArchiveIndex;
  /** Re-embed everything even when the live index could be updated. */
  full?: boolean;
  /** Train the archive's built-in model again (and so embed everything with it). */
  retrain?: boolean;
  /** The archive's model when the caller has it loaded already; it is used if the build keeps the model. */
  loaded?: Embedder;
  /** Embed with this model instead of choosing the archive's own (tools and tests that build many indexes with one model). */
  embedder?: Embedder;
  /** Read and hash every corpus file, even those whose size and modification time are unchanged. */
  verify?: boolean;
}
