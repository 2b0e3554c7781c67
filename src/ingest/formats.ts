import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import mammoth from 'mammoth';
import { extractText, getDocumentProxy, getMeta } from 'unpdf';
import { cleanText } from './clean.js';

/** The clean text of one file, with what the format itself says about it. */
export interface ExtractedText {
  text: string;
  /** Offset in `text` where each page starts (page n at index n - 1); only for paged formats. */
  pageStarts?: number[];
  title?: string;
  date?: string;
}

/** A file that cannot be indexed, with the reason a person can act on. */
export class UnreadableFileError extends Error {}

type Extractor = (bytes: Uint8Array) => Promise<ExtractedText>;

const EXTRACTORS: Record<string, Extractor> = {
  '.txt': async (bytes) => ({ text: cleanText(decodeUtf8(bytes)) }),
  '.md': async (bytes) => ({ text: cleanText(decodeUtf8(bytes)) }),
  '.pdf': extractPdf,
  '.html': extractHtml,
  '.htm': extractHtml,
  '.docx': extractDocx,
};

export const SUPPORTED_EXTENSIONS = Object.keys(EXTRACTORS);

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot >= 0 ? name.slice(dot).toLowerCase() : '';
}

/** Clean text of a file by its extension; throws UnreadableFileError saying why it cannot be read. */
export async function extractFile(name: string, bytes: Uint8Array): Promise<ExtractedText> {
  const extractor = EXTRACTORS[extensionOf(name)];
  if (!extractor) throw new UnreadableFileError(`unsupported file type (supported: ${SUPPORTED_EXTENSIONS.join(', ')})`);
  const extracted = await extractor(bytes);
  if (!extracted.text) throw new UnreadableFileError('no text after cleaning (empty file?)');
  return extracted;
}

function decodeUtf8(bytes: Uint8Array): string {
  // A NUL byte never occurs in text; its presence means a binary file with a text extension.
  if (bytes.includes(0)) throw new UnreadableFileError('binary data, not text (it contains NUL bytes)');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UnreadableFileError('not valid UTF-8 text; re-save it as UTF-8');
  }
}

/** PDF date "D:20190304120000Z" -> "2019-03-04". */
function pdfDate(value: unknown): string | undefined {
  const m = typeof value === 'string' ? value.match(/^D:(\d{4})(\d{2})(\d{2})/) : null;
  return m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}

/** Text layer of each page, cleaned page by page and joined, so every offset knows its page. */
async function extractPdf(bytes: Uint8Array): Promise<ExtractedText> {
  let pages: string[];
  let info: Record<string, unknown>;
  try {
    // pdf.js takes ownership of the buffer it is given; a copy keeps the caller's bytes (and hash) intact.
    const pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
    pages = (await extractText(pdf, { mergePages: false })).text;
    info = ((await getMeta(pdf)).info ?? {}) as Record<string, unknown>;
  } catch (e) {
    throw new UnreadableFileError(`not a readable PDF (${(e as Error).message})`);
  }
  const cleaned = pages.map(cleanText);
  if (cleaned.every((p) => !p)) throw new UnreadableFileError('the PDF has no text layer (a scan? run OCR on it first)');
  const pageStarts: number[] = [];
  let text = '';
  for (const page of cleaned) {
    if (text && page) text += '\n\n';
    pageStarts.push(text.length);
    text += page;
  }
  const title = typeof info.Title === 'string' && info.Title.trim() ? info.Title.trim() : undefined;
  return { text, pageStarts, title, date: pdfDate(info.CreationDate) };
}

const BLOCKS = 'h1, h2, h3, h4, h5, h6, p, li, blockquote, pre, td, th, figcaption, dt, dd';

/** The article of a web page (Readability drops navigation, ads, footers), one paragraph per block. */
async function extractHtml(bytes: Uint8Array): Promise<ExtractedText> {
  const html = decodeUtf8(bytes);
  const { document } = parseHTML(html);
  const meta = (selector: string) => document.querySelector(selector)?.getAttribute('content')?.trim() || undefined;
  const title = meta('meta[property="og:title"]') ?? document.querySelector('title')?.textContent?.trim() ?? undefined;
  const published =
    meta('meta[property="article:published_time"]') ?? meta('meta[name="date"]') ?? meta('meta[name="dc.date"]') ?? document.querySelector('time[datetime]')?.getAttribute('datetime') ?? undefined;
  const article = new Readability(document as unknown as Document).parse();
  const { document: body } = parseHTML(`<!doctype html><html><body>${article?.content ?? ''}</body></html>`);
  const blocks = [...body.querySelectorAll(BLOCKS)]
    // A block inside another block (a <p> in a <li>) is read with its parent.
    .filter((el) => !el.parentElement?.closest(BLOCKS))
    .map((el) => (el.textContent ?? '').replace(/\s+/g, ' ').trim())
    .filter(Boolean);
  const text = cleanText(blocks.length ? blocks.join('\n\n') : (article?.textContent ?? ''));
  const date = published?.match(/^\d{4}(-\d{2}(-\d{2})?)?/)?.[0];
  return { text, title: title || article?.title || undefined, date };
}

/** Word documents: the paragraphs' text (mammoth), without styling. */
async function extractDocx(bytes: Uint8Array): Promise<ExtractedText> {
  try {
    const { value } = await mammoth.extractRawText({ buffer: Buffer.from(bytes) });
    return { text: cleanText(value) };
  } catch (e) {
    throw new UnreadableFileError(`not a readable Word document (${(e as Error).message})`);
  }
}
