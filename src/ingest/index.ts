import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { UserError, type Config } from '../config.js';
import type { SourceDocument } from '../types.js';
import { CATALOG_FILE, readCatalog } from './catalog.js';
import { extensionOf, extractFile, SUPPORTED_EXTENSIONS, UnreadableFileError } from './formats.js';
import { createOcrReader } from './ocr.js';
import { dateFromText, titleFromText } from './metadata.js';

export { cleanText } from './clean.js';
export { extensionOf, SUPPORTED_EXTENSIONS } from './formats.js';
export { dateSpan, isIsoDate } from './metadata.js';

export interface CorpusFile {
  /** Path relative to the corpus folder, forward slashes. */
  source: string;
  path: string;
  /** Why it cannot be read, when that was found while listing (an unreadable folder, a broken link). */
  problem?: string;
}

/**
 * Every file of a supported format under the corpus folder, recursively (following links), in a
 * stable order. What cannot be listed (an unreadable sub-folder, a broken link) is listed with its
 * problem, so the build reports it instead of failing.
 */
export function listCorpusFiles(corpusDir: string): CorpusFile[] {
  if (!existsSync(corpusDir) || !statSync(corpusDir).isDirectory()) {
    throw new UserError(`Corpus folder ${corpusDir} does not exist or is not a folder. Pass --corpus DIR with your documents.`);
  }
  const found: CorpusFile[] = [];
  const seen = new Set<string>();
  const sourceOf = (path: string) => relative(corpusDir, path).split(sep).join('/');
  const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  const walk = (dir: string) => {
    // A link back up the tree would otherwise be walked forever.
    const real = realpathSync(dir);
    if (seen.has(real)) return;
    seen.add(real);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if (dir === corpusDir) throw new UserError(`Corpus folder ${corpusDir} cannot be read (${code(e)}). Check its permissions.`);
      found.push({ source: `${sourceOf(dir)}/`, path: dir, problem: `folder cannot be read (${code(e)}); check its permissions` });
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      const supported = SUPPORTED_EXTENSIONS.includes(extensionOf(entry.name));
      let isDirectory = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const target = statSync(path);
          isDirectory = target.isDirectory();
          isFile = target.isFile();
        } catch (e) {
          if (supported) found.push({ source: sourceOf(path), path, problem: `broken link (${code(e)})` });
          continue;
        }
      }
      if (isDirectory) walk(path);
      else if (isFile && supported) found.push({ source: sourceOf(path), path });
    }
  };
  walk(corpusDir);
  return found.sort(bySource);
}

/** The order documents (and so their chunks) are numbered in, whichever store keeps them: by source, as code compares strings. */
export const bySource = (a: { source: string }, b: { source: string }) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0);

export const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The read options a configuration asks for. */
export const readOptions = (config: Config, onOcrProgress?: ReadOptions['onOcrProgress']): ReadOptions => ({
  maxFileBytes: config.ingest.maxFileMB * 1024 * 1024,
  ocr: config.ingest.ocr,
  ocrMinConfidence: config.ingest.ocrMinConfidence,
  onOcrProgress,
});

export interface ReadOptions {
  /** Larger files are skipped unread (a 200 MB file is rarely one document someone meant to index). */
  maxFileBytes: number;
  /** Read scanned pages and images by OCR. */
  ocr: boolean;
  /** Pages read with less mean confidence are listed in the summary. */
  ocrMinConfidence: number;
  /** Pages read by OCR so far, of those queued. */
  onOcrProgress?: (done: number, queued: number) => void;
}

const DEFAULT_READ_OPTIONS: ReadOptions = { maxFileBytes: 50 * 1024 * 1024, ocr: true, ocrMinConfidence: 60 };

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 2 : 0)} MB`;

/** A file's size and modification time (ms). */
export type FileStamp = [number, number];

/**
 * What an index already knows of the corpus files it was built from: their hashes and stamps, and
 * when it was written. A file whose size and modification time are as they were is taken to have
 * the same bytes, unread (as git and make do), unless it was modified so close to the index being
 * written that a change in the same clock tick could hide (git's "racily clean" rule).
 */
export interface KnownFiles {
  sources: Record<string, string>;
  stamps: Record<string, FileStamp>;
  writtenAt: number;
}

/** How close to an index's writing a modification makes a file's stamp untrustworthy. */
const RACY_MS = 2000;

const unchanged = (known: KnownFiles | undefined, source: string, stamp: FileStamp) => {
  const before = known?.stamps[source];
  const hash = known?.sources[source];
  return !!before && !!hash && !hash.startsWith('unreadable:') && before[0] === stamp[0] && before[1] === stamp[1] && stamp[1] < known!.writtenAt - RACY_MS ? hash : null;
};

interface FileRead {
  /** The bytes, or null when the file was not read: skipped (with a problem) or unchanged. */
  bytes: Buffer | null;
  hash: string;
  stamp: FileStamp | null;
  problem?: string;
  /** Known by its stamp to be as the index read it last time. */
  unchanged?: boolean;
}

/**
 * What a file contributes to the corpus fingerprint: the sha256 of its bytes, or, for a file that
 * is skipped unread, why (its size when over the limit, the error when unreadable).
 */
async function readForIndex({ source, path, problem: listed }: CorpusFile, options: ReadOptions, known?: KnownFiles): Promise<FileRead> {
  if (listed) return { bytes: null, hash: `unreadable:${listed}`, stamp: null, problem: listed };
  try {
    const stat = statSync(path);
    const stamp: FileStamp = [stat.size, stat.mtimeMs];
    if (stat.size > options.maxFileBytes) return { bytes: null, hash: `size:${stat.size}`, stamp, problem: `${megabytes(stat.size)} is over the ${megabytes(options.maxFileBytes)} limit (ingest.maxFileMB)` };
    const same = unchanged(known, source, stamp);
    if (same) return { bytes: null, hash: same, stamp, unchanged: true };
    const bytes = await readFile(path);
    return { bytes, hash: sha256(bytes), stamp };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    return { bytes: null, hash: `unreadable:${code}`, stamp: null, problem: `cannot be read (${code}); check its permissions` };
  }
}

/** The corpus fingerprint: each file's (and the catalog's) hash and stamp. */
export interface Fingerprint {
  sources: Record<string, string>;
  stamps: Record<string, FileStamp>;
}

/**
 * Content hash of every input the index depends on: each corpus file and the catalog. Given what
 * an index knows, files with unchanged stamps are not read (`known` undefined hashes every file).
 */
export async function fingerprintCorpus(corpusDir: string, options: ReadOptions = DEFAULT_READ_OPTIONS, known?: KnownFiles): Promise<Fingerprint> {
  const fingerprint: Fingerprint = { sources: {}, stamps: {} };
  for (const file of listCorpusFiles(corpusDir)) {
    const { hash, stamp } = await readForIndex(file, options, known);
    fingerprint.sources[file.source] = hash;
    if (stamp) fingerprint.stamps[file.source] = stamp;
  }
  const catalog = join(corpusDir, CATALOG_FILE);
  if (existsSync(catalog)) fingerprint.sources[CATALOG_FILE] = sha256(readFileSync(catalog));
  return fingerprint;
}

/** "reports/2016 Bid.txt" -> "reports-2016-bid"; the extension joins the id only to keep two ids apart. */
function documentId(source: string, taken: Set<string>): string {
  const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9_]+/g, '-').replace(/^-|-$/g, '') || 'document';
  let id = slug(source.replace(/\.[^./]+$/, ''));
  if (taken.has(id)) id = slug(source);
  for (let n = 2; taken.has(id); n++) id = `${slug(source)}-${n}`;
  taken.add(id);
  return id;
}

export interface CorpusReadResult extends Fingerprint {
  documents: SourceDocument[];
  /** Files that could not be indexed, each with the reason; the rest of the corpus is read regardless. */
  skipped: Array<{ source: string; reason: string }>;
  /** What this read took from scans and images by OCR. */
  ocr: OcrSummary;
}

/** Pages read by OCR in one read of the corpus, their mean confidence, and those under the floor. */
export interface OcrSummary {
  pages: number;
  meanConfidence: number | null;
  minConfidence: number;
  lowConfidence: Array<{ source: string; page: number; confidence: number }>;
}

/** What the index being updated read last time: file hashes and stamps, and the documents by source. */
export interface PreviousRead extends KnownFiles {
  documents: Map<string, SourceDocument>;
  /** Hash every file even where its stamp is unchanged (`--verify`). */
  verify?: boolean;
}

/**
 * Reads, extracts (by format), cleans and describes every document of the corpus folder. A file
 * that cannot be read is skipped with its reason; metadata comes from the catalog, then the text's
 * own dateline and title, then what the format says (PDF info, HTML meta tags). Given what the
 * index being updated read, files with unchanged bytes keep their documents without extraction.
 */
export async function readCorpus(corpusDir: string, options: ReadOptions = DEFAULT_READ_OPTIONS, previous?: PreviousRead): Promise<CorpusReadResult> {
  const { catalog, bytes: catalogBytes } = readCatalog(corpusDir);
  const catalogHash = catalogBytes ? sha256(catalogBytes) : undefined;
  // With the same catalog, a file with the same bytes would extract to the same document.
  const unchangedDocument = (source: string, hash: string) => (previous && previous.sources[CATALOG_FILE] === catalogHash && previous.sources[source] === hash ? previous.documents.get(source) : undefined);
  const ids = new Set<string>();
  const documents: SourceDocument[] = [];
  const skipped: CorpusReadResult['skipped'] = [];
  const sources: Record<string, string> = {};
  const stamps: Record<string, FileStamp> = {};
  // A file can go unread only while the catalog, which describes it, is unchanged too.
  const sameCatalog = previous && previous.sources[CATALOG_FILE] === catalogHash;
  const known = previous && !previous.verify && sameCatalog ? previous : undefined;
  const ocr = options.ocr ? createOcrReader(options.onOcrProgress) : null;
  const ocrPages: Array<{ source: string; page: number; confidence: number }> = [];
  try {
    for (const file of listCorpusFiles(corpusDir)) {
      let read = await readForIndex(file, options, known);
      // Unchanged by its stamp, but the previous index kept no document for it: read it after all.
      if (read.unchanged && !previous!.documents.has(file.source)) read = await readForIndex(file, options);
      const { bytes, hash, problem, stamp } = read;
      sources[file.source] = hash;
      if (stamp) stamps[file.source] = stamp;
      const before = read.unchanged ? previous!.documents.get(file.source) : unchangedDocument(file.source, hash);
      if (before) {
        documents.push({ ...before, id: documentId(file.source, ids) });
        continue;
      }
      if (!bytes) {
        skipped.push({ source: file.source, reason: problem! });
        continue;
      }
      let extracted;
      try {
        extracted = await extractFile(file.source, bytes, ocr);
      } catch (e) {
        if (!(e instanceof UnreadableFileError)) throw e;
        skipped.push({ source: file.source, reason: e.message });
        continue;
      }
      const { text } = extracted;
      const entry = catalog.files[file.source] ?? {};
      documents.push({
        id: documentId(file.source, ids),
        source: file.source,
        title: entry.title ?? extracted.title ?? titleFromText(text, file.source),
        date: entry.date !== undefined ? entry.date : (extracted.date ?? dateFromText(text) ?? extracted.metadataDate ?? null),
        publisher: entry.publisher ?? null,
        url: entry.url ?? null,
        text,
        ...(extracted.pageStarts ? { pageStarts: extracted.pageStarts } : {}),
        ...(extracted.headings?.length ? { headings: extracted.headings } : {}),
      });
      for (const p of extracted.ocrPages ?? []) ocrPages.push({ source: file.source, ...p });
    }
  } finally {
    await ocr?.close();
  }
  const unknown = Object.keys(catalog.files).filter((source) => !(source in sources));
  for (const source of unknown) skipped.push({ source: `${CATALOG_FILE}: ${source}`, reason: 'catalog entry names no file in the corpus' });
  if (catalogHash) sources[CATALOG_FILE] = catalogHash;
  const summary: OcrSummary = {
    pages: ocrPages.length,
    meanConfidence: ocrPages.length ? Math.round(ocrPages.reduce((s, p) => s + p.confidence, 0) / ocrPages.length) : null,
    minConfidence: options.ocrMinConfidence,
    lowConfidence: ocrPages.filter((p) => p.confidence < options.ocrMinConfidence),
  };
  return { documents, skipped, sources, stamps, ocr: summary };
}

/**
 * The headings an offset falls under, outermost first, joined by " › " ("2 Background › 2.1 Legislation");
 * null when none comes before it.
 */
export function sectionAt(document: SourceDocument, offset: number): string | null {
  const open: Array<{ level: number; text: string }> = [];
  for (const h of document.headings ?? []) {
    if (h.start > offset) break;
    while (open.length && open[open.length - 1].level >= h.level) open.pop();
    open.push({ level: h.level, text: document.text.slice(h.start, h.end) });
  }
  return open.length ? open.map((h) => h.text).join(' › ') : null;
}

/** The page (1-based) an offset falls on, or null for formats without pages. */
export function pageAt(document: SourceDocument, offset: number): number | null {
  const starts = document.pageStarts;
  if (!starts?.length) return null;
  let page = 1;
  while (page < starts.length && starts[page] <= offset) page++;
  return page;
}
