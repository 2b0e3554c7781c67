import { getDocumentProxy, getMeta, getResolvedPDFJS, renderPageAsImage } from 'unpdf';
import { TERMINAL } from '../clean.js';
import { UnreadableFileError, type ExtractedText, type Heading } from '../extracted.js';
import { leadingDate, statedDate } from '../metadata.js';
import { lineJoiner } from '../lines.js';
import { findFootnotes, findFurniture } from './furniture.js';
import { dominantFont, dominantSize, groupLines, lineText, pageRuns, type Line, type PageRuns } from './geometry.js';
import { layoutRegion, type Block } from './layout.js';
import type { OcrPage, OcrReader } from '../ocr.js';

// pdf.js hands image and font data on with ArrayBuffer.prototype.transferToFixedLength, which
// Node has from 21 on; on Node 20 its operator lists lose their images and rendering stalls. A copy
// does what a transfer does here (the source buffer is not used again).
if (!('transferToFixedLength' in ArrayBuffer.prototype)) {
  Object.defineProperty(ArrayBuffer.prototype, 'transferToFixedLength', {
    value(this: ArrayBuffer, length = this.byteLength) {
      const copy = new ArrayBuffer(length);
      new Uint8Array(copy).set(new Uint8Array(this, 0, Math.min(length, this.byteLength)));
      return copy;
    },
  });
}

/** Rendering a page for OCR gives up after this long (a page pdf.js cannot draw is read without OCR). */
const RENDER_TIMEOUT_MS = 60_000;

/** A page with fewer characters than this in its text layer, and an image on it, is a scan. */
const SCAN_CHARACTERS = 20;
/** Scans are rendered at twice the PDF's 72 dpi (an A4 page at 1190 x 1684 pixels, about 144 dpi). */
const SCAN_SCALE = 2;

type PdfPage = PageRuns & { height: number; ocr?: OcrPage };

/**
 * A PDF read as a person reads it: each page's text laid out by geometry (columns, tables,
 * paragraphs, headings), running headers, footers and page numbers dropped, footnotes kept apart
 * at the end of their page, words broken across lines mended, and the title and date taken from
 * the cover before the file's metadata.
 */
export async function extractPdf(bytes: Uint8Array, ocr: OcrReader | null): Promise<ExtractedText> {
  let pages: PdfPage[];
  let info: Record<string, unknown>;
  let scans: number[];
  let pdf;
  try {
    // pdf.js takes ownership of the buffer it is given; a copy keeps the caller's bytes (and hash) intact.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
    info = ((await getMeta(pdf)).info ?? {}) as Record<string, unknown>;
    const { OPS } = await getResolvedPDFJS();
    const paintsImage = new Set([OPS.paintImageXObject, OPS.paintInlineImageXObject, OPS.paintImageMaskXObject, OPS.paintImageXObjectRepeat]);
    pages = [];
    scans = [];
    for (let n = 1; n <= pdf.numPages; n++) {
      const page = await pdf.getPage(n);
      const [, bottom, , top] = page.view;
      const { runs, bullets } = pageRuns((await page.getTextContent()).items);
      // Coordinates from the page's own bottom edge.
      for (const r of runs) r.y -= bottom;
      for (const b of bullets) b.y -= bottom;
      pages.push({ runs, bullets, height: top - bottom });
      if (runs.reduce((n, r) => n + r.text.length, 0) < SCAN_CHARACTERS && (await page.getOperatorList()).fnArray.some((op) => paintsImage.has(op))) scans.push(n);
    }
  } catch (e) {
    throw new UnreadableFileError(`not a readable PDF (${(e as Error).message})`);
  }
  if (scans.length && ocr) {
    // Rendering is the main thread's; Tesseract reads the rendered pages in its workers meanwhile.
    const read = scans.map(async (n) => {
      const image = await withTimeout(renderPageAsImage(pdf, n, { scale: SCAN_SCALE, canvasImport: () => import('@napi-rs/canvas') }), RENDER_TIMEOUT_MS);
      return [n, image ? await ocr.read(new Uint8Array(image)) : null] as const;
    });
    for (const [n, page] of await Promise.all(read)) if (page?.paragraphs.length) pages[n - 1].ocr = page;
  }
  if (pages.every((p) => p.runs.length === 0 && !p.ocr?.paragraphs.length)) {
    if (!scans.length) throw new UnreadableFileError('the PDF has no text, neither a text layer nor scanned pages (an empty document?)');
    throw new UnreadableFileError(ocr ? 'the PDF is a scan and OCR found no text on its pages' : 'the PDF has no text layer (a scan; set ingest.ocr to true to read it by OCR)');
  }
  const read = readPages(pages);
  const ocrPages = pages.flatMap((p, i) => (p.ocr ? [{ page: i + 1, confidence: Math.round(p.ocr.confidence) }] : []));
  return { ...read, title: read.title ?? metadataTitle(info.Title), metadataDate: pdfDate(info.CreationDate), ...(ocrPages.length ? { ocrPages } : {}) };
}

/** The promise's value, or null when it takes longer than `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Piece {
  kind: Block['kind'] | 'note';
  text: string;
  size: number;
}

/** The text of laid-out pages: paragraphs separated by blank lines, each page's offset, headings. */
export function readPages(pages: PdfPage[]): Omit<ExtractedText, 'metadataDate'> {
  const allRuns = pages.flatMap((p) => p.runs);
  const bodySize = dominantSize(allRuns);
  const bodyFont = dominantFont(allRuns);
  // A scanned page is read by OCR alone: its few stray characters are not laid out.
  const lines = pages.map((p) => (p.ocr ? [] : groupLines(p.runs, p.bullets)));
  const furniture = findFurniture(pages.map((p, i) => ({ lines: lines[i], height: p.height })));
  const laidOut = pages.map((page, i) => {
    const kept = lines[i].filter((l) => !furniture[i].has(l));
    // Measured against the page's own body text: a document's most common size can be its tables'.
    const footnotes = findFootnotes(kept, Math.max(bodySize, dominantSize(kept.flatMap((l) => l.members))), page.height);
    const markers = new Set(footnotes.notes.map((n) => n.marker));
    const body = kept.filter((l) => !footnotes.lines.has(l)).flatMap((l) => l.members);
    const dropSuperscript = (marker: string) => marker.split(/[,\s]+/).some((m) => markers.has(m));
    const blocks = layoutRegion(body, { bodySize, bodyFont, leading: leadingOf(kept), bullets: page.bullets, dropSuperscript });
    const notes = footnotes.notes.map((n) => ({ marker: n.marker, lines: n.lines.map((l, j) => (j === 0 ? noteText(l, n.marker) : lineText(l, () => false))) }));
    return { blocks, notes };
  });
  const scanned = pages.map((p) => p.ocr?.paragraphs ?? []);
  const { join, joinPair } = lineJoiner([...laidOut.flatMap((p) => [...p.blocks.flatMap((b) => b.cells.flat()), ...p.notes.flatMap((n) => n.lines)]), ...scanned.flat(2)]);
  const pieces = laidOut.map(({ blocks, notes }, i): Piece[] => [
    ...scanned[i].map((paragraph) => ({ kind: 'paragraph' as const, text: join(paragraph), size: bodySize })),
    ...blocks.map((b) => ({ kind: b.kind, text: b.cells.map(join).filter(Boolean).join(b.separator), size: b.size })),
    ...notes.map((n) => ({ kind: 'note' as const, text: `Note ${n.marker}: ${join(n.lines)}`, size: 0 })),
  ]);
  const levels = headingLevels(pieces.flat().filter((p) => p.kind === 'heading').map((p) => p.size), bodySize);
  let text = '';
  let last: Piece | null = null;
  const pageStarts: number[] = [];
  const headings: Heading[] = [];
  for (const page of pieces) {
    let start: number | null = null;
    for (const piece of page) {
      if (!piece.text) continue;
      if (last && continues(last, piece)) {
        const joined = joinPair(text, piece.text);
        start ??= joined.at;
        text = joined.text;
      } else {
        if (text) text += '\n\n';
        start ??= text.length;
        if (piece.kind === 'heading') headings.push({ start: text.length, end: text.length + piece.text.length, level: levels(piece.size) });
        text += piece.text;
      }
      last = piece;
    }
    pageStarts.push(start ?? text.length);
  }
  const pageLines = (n: number) => (lines[n] ?? []).filter((l) => !furniture[n].has(l));
  const textLines = (n: number) => [...pageLines(n).map((l) => lineText(l, () => true)), ...(scanned[n] ?? []).flat()];
  const date = statedDate(textLines(0)) ?? statedDate(textLines(1));
  return { text, pageStarts, headings, title: coverTitle(pageLines(0), bodySize), date: date ?? undefined };
}

/** The most common baseline distance between consecutive lines of one size, over that size (1.2 when a page has too few lines to tell). */
function leadingOf(lines: Line[]): number {
  const ratios = new Map<number, number>();
  for (let i = 1; i < lines.length; i++) {
    const [a, b] = [lines[i - 1], lines[i]];
    if (Math.abs(a.size - b.size) > 0.05 * a.size) continue;
    const ratio = Math.round(((a.y - b.y) / a.size) * 20) / 20;
    if (ratio >= 1 && ratio <= 2.5) ratios.set(ratio, (ratios.get(ratio) ?? 0) + 1);
  }
  const [best] = [...ratios.entries()].sort((p, q) => q[1] - p[1] || p[0] - q[0]);
  return best && best[1] >= 2 ? best[0] : 1.2;
}

/** A note's first line without its marker. */
function noteText(line: Line, marker: string): string {
  return lineText(line, () => true).replace(new RegExp(`^${marker.replace(/[*]/g, '\\*')}\\s+`), '');
}

/** A paragraph cut by a page or column break (its sentence unfinished, the next going on in lower case) is one paragraph. */
function continues(last: Piece, next: Piece): boolean {
  return last.kind === 'paragraph' && next.kind === 'paragraph' && !TERMINAL.test(last.text) && /^\p{Ll}/u.test(next.text);
}

/** Heading levels by size: the largest heading size is level 1; headings in body type come last. */
function headingLevels(sizes: number[], bodySize: number): (size: number) => number {
  const distinct = [...new Set(sizes.filter((s) => s >= 1.15 * bodySize).map((s) => Math.round(s)))].sort((a, b) => b - a);
  return (size) => {
    const i = distinct.indexOf(Math.round(size));
    return Math.min(4, (i >= 0 ? i : distinct.length) + 1);
  };
}

/**
 * The cover's title: its largest text with the lines around it that are also set large (at least
 * 60% of the largest size, and well above the body's), in reading order, dates left out; none
 * when nothing on the cover stands out from the body text or the title runs past 20 words.
 */
function coverTitle(lines: Line[], bodySize: number): string | undefined {
  const texts = lines.map((l) => lineText(l, () => true));
  const wordy = texts.map((t) => /\p{L}{3}/u.test(t));
  const largest = Math.max(0, ...lines.filter((_, i) => wordy[i]).map((l) => l.size));
  if (largest < 1.25 * bodySize) return undefined;
  const large = (i: number) => lines[i].size >= Math.max(0.6 * largest, 1.25 * bodySize);
  let from = lines.findIndex((line, i) => wordy[i] && line.size === largest);
  let to = from;
  while (from > 0 && large(from - 1)) from--;
  while (to + 1 < lines.length && large(to + 1)) to++;
  const title = texts
    .slice(from, to + 1)
    .filter((t) => !leadingDate(t) || t.split(' ').length > 4)
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  return title && title.split(' ').length <= 20 ? title : undefined;
}

/** The info dictionary's title, unless it is a tool's placeholder ("Microsoft Word - draft.docx", "Report"). */
function metadataTitle(value: unknown): string | undefined {
  const title = typeof value === 'string' ? value.trim() : '';
  if (title.length < 4 || /^(microsoft (word|powerpoint|excel)|untitled|report|document|slide \d+)\b/i.test(title) || /\.(docx?|pdf|indd|pptx?)$/i.test(title)) return undefined;
  return title;
}

/** PDF date "D:20190304120000Z" -> "2019-03-04". */
function pdfDate(value: unknown): string | undefined {
  const m = typeof value === 'string' ? value.match(/^D:(\d{4})(\d{2})(\d{2})/) : null;
  return m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}
