import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { UserError } from '../config.js';
import type { SourceDocument } from '../types.js';
import { CATALOG_FILE, readCatalog } from './catalog.js';
import { cleanText } from './clean.js';
import { dateFromText, titleFromText } from './metadata.js';

export { cleanText } from './clean.js';
export { dateSpan, isIsoDate } from './metadata.js';

const TEXT_EXTENSIONS = ['.txt', '.md'];

export interface CorpusFile {
  /** Path relative to the corpus folder, forward slashes. */
  source: string;
  path: string;
}

/** Every .txt and .md file under the corpus folder, recursively, in a stable order. */
export function listCorpusFiles(corpusDir: string): CorpusFile[] {
  if (!existsSync(corpusDir) || !statSync(corpusDir).isDirectory()) {
    throw new UserError(`Corpus folder ${corpusDir} does not exist or is not a folder. Pass --corpus DIR with your documents.`);
  }
  const found: CorpusFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && TEXT_EXTENSIONS.some((ext) => entry.name.toLowerCase().endsWith(ext))) {
        found.push({ source: relative(corpusDir, path).split(sep).join('/'), path });
      }
    }
  };
  walk(corpusDir);
  return found.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
}

export const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Content hash of every input the index depends on: each corpus file and the catalog. */
export function fingerprintCorpus(corpusDir: string): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const file of listCorpusFiles(corpusDir)) hashes[file.source] = sha256(readFileSync(file.path));
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
  skipped: Array<{ source: string; reason: string }>;
  /** The same hashes as fingerprintCorpus, from the bytes this read used. */
  sources: Record<string, string>;
}

/** Reads, cleans and describes every document of the corpus folder. Empty files are skipped with a reason. */
export function readCorpus(corpusDir: string): CorpusReadResult {
  const { catalog, bytes: catalogBytes } = readCatalog(corpusDir);
  const ids = new Set<string>();
  const documents: SourceDocument[] = [];
  const skipped: CorpusReadResult['skipped'] = [];
  const sources: Record<string, string> = {};
  for (const file of listCorpusFiles(corpusDir)) {
    const bytes = readFileSync(file.path);
    sources[file.source] = sha256(bytes);
    const raw = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    const text = cleanText(raw);
    if (!text) {
      skipped.push({ source: file.source, reason: 'no text after cleaning (empty file?)' });
      continue;
    }
    const entry = catalog.files[file.source] ?? {};
    documents.push({
      id: documentId(file.source, ids),
      source: file.source,
      title: entry.title ?? titleFromText(text, file.source),
      date: entry.date !== undefined ? entry.date : dateFromText(text),
      publisher: entry.publisher ?? null,
      url: entry.url ?? null,
      text,
    });
  }
  const unknown = Object.keys(catalog.files).filter((source) => !documents.some((d) => d.source === source));
  for (const source of unknown) skipped.push({ source: `${CATALOG_FILE}: ${source}`, reason: 'catalog entry names no file in the corpus' });
  if (catalogBytes) sources[CATALOG_FILE] = sha256(catalogBytes);
  return { documents, skipped, sources };
}
