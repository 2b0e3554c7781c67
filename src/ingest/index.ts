import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { UserError, type Config } from '../config.js';
import type { SourceDocument } from '../types.js';
import { CATALOG_FILE, readCatalog } from './catalog.js';
import { extensionOf, extractFile, SUPPORTED_EXTENSIONS, UnreadableFileError } from './formats.js';
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
  return found.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
}

export const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The read options a configuration asks for. */
export const readOptions = (config: Config): ReadOptions => ({ maxFileBytes: config.ingest.maxFileMB * 1024 * 1024 });

export interface ReadOptions {
  /** Larger files are skipped unread (a 200 MB file is rarely one document someone meant to index). */
  maxFileBytes: number;
}

const DEFAULT_READ_OPTIONS: ReadOptions = { maxFileBytes: 50 * 1024 * 1024 };

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 2 : 0)} MB`;

/**
 * What a file contributes to the corpus fingerprint: the sha256 of its bytes, or, for a file that
 * is skipped unread, why (its size when over the limit, the error when unreadable).
 */
async function readForIndex({ path, problem: listed }: CorpusFile, options: ReadOptions): Promise<{ bytes: Buffer | null; hash: string; problem?: string }> {
  if (listed) return { bytes: null, hash: `unreadable:${listed}`, problem: listed };
  try {
    const size = statSync(path).size;
    if (size > options.maxFileBytes) return { bytes: null, hash: `size:${size}`, problem: `${megabytes(size)} is over the ${megabytes(options.maxFileBytes)} limit (ingest.maxFileMB)` };
    const bytes = await readFile(path);
    return { bytes, hash: sha256(bytes) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    return { bytes: null, hash: `unreadable:${code}`, problem: `cannot be read (${code}); check its permissions` };
  }
}

/** Content hash of every input the index depends on: each corpus file and the catalog. */
export async function fingerprintCorpus(corpusDir: string, options: ReadOptions = DEFAULT_READ_OPTIONS): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const file of listCorpusFiles(corpusDir)) hashes[file.source] = (await readForIndex(file, options)).hash;
  const catalog = join(corpusDir, CATALOG_FILE);
  if (existsSync(catalog)) hashes[CATALOG_FILE] = sha256(readFileSync(catalog));
  return hashes;
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

export interface CorpusReadResult {
  documents: SourceDocument[];
  /** Files that could not be indexed, each with the reason; the rest of the corpus is read regardless. */
  skipped: Array<{ source: string; reason: string }>;
  /** The same hashes as fingerprintCorpus, from the bytes this read used. */
  sources: Record<string, string>;
}

/** What the index being updated read last time: file hashes, and the documents by source. */
export interface PreviousRead {
  sources: Record<string, string>;
  documents: Map<string, SourceDocument>;
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
  const unchanged = (source: string, hash: string) => previous && previous.sources[CATALOG_FILE] === catalogHash && previous.sources[source] === hash ? previous.documents.get(source) : undefined;
  const ids = new Set<string>();
  const documents: SourceDocument[] = [];
  const skipped: CorpusReadResult['skipped'] = [];
  const sources: Record<string, string> = {};
  for (const file of listCorpusFiles(corpusDir)) {
    const { bytes, hash, problem } = await readForIndex(file, options);
    sources[file.source] = hash;
    if (!bytes) {
      skipped.push({ source: file.source, reason: problem! });
      continue;
    }
    const known = unchanged(file.source, hash);
    if (known) {
      documents.push({ ...known, id: documentId(file.source, ids) });
      continue;
    }
    let extracted;
    try {
      extracted = await extractFile(file.source, bytes);
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
      date: entry.date !== undefined ? entry.date : (dateFromText(text) ?? extracted.date ?? null),
      publisher: entry.publisher ?? null,
      url: entry.url ?? null,
      text,
      ...(extracted.pageStarts ? { pageStarts: extracted.pageStarts } : {}),
    });
  }
  const unknown = Object.keys(catalog.files).filter((source) => !(source in sources));
  for (const source of unknown) skipped.push({ source: `${CATALOG_FILE}: ${source}`, reason: 'catalog entry names no file in the corpus' });
  if (catalogHash) sources[CATALOG_FILE] = catalogHash;
  return { documents, skipped, sources };
}

/** The page (1-based) an offset falls on, or null for formats without pages. */
export function pageAt(document: SourceDocument, offset: number): number | null {
  const starts = document.pageStarts;
  if (!starts?.length) return null;
  let page = 1;
  while (page < starts.length && starts[page] <= offset) page++;
  return page;
}
