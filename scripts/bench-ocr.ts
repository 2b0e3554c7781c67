/**
 * OCR speed and accuracy on real pages: renders pages of a PDF that has a text layer (a council
 * report from ../shared/bench/council-docs, or --source FILE) to images, makes an image-only PDF of
 * them (a scan), and reads it as the archive does, with one OCR worker and with one per core.
 * Prints render time per page, pages per second, Tesseract's mean confidence, and how many of the
 * text layer's words the OCR found (word recall).
 * Usage: npm run --silent bench-ocr -- [--source FILE] [--pages N]
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { PDFDocument } from 'pdf-lib';
import { getDocumentProxy, renderPageAsImage } from 'unpdf';
import { extractFile } from '../src/ingest/formats.js';
import { createOcrReader } from '../src/ingest/ocr.js';
import { locateCouncilDocs } from '../src/eval/council.js';

const ROOT = join(import.meta.dirname, '..');
const options = new Command()
  .option('--source <file>', 'a PDF with a text layer')
  .option('--pages <n>', 'pages to read', (v) => Number.parseInt(v, 10), 12)
  .parse()
  .opts<{ source?: string; pages: number }>();
const log = (m: string) => process.stderr.write(`${m}\n`);

const councilDocs = locateCouncilDocs(ROOT);
const source = options.source ?? (councilDocs ? join(councilDocs, 'watford-sustainability-appraisals-non-technical-summary.pdf') : null);
if (!source) {
  log('No source PDF: pass --source FILE (or place the council documents at ../shared/bench/council-docs).');
  process.exit(0);
}
const original = readFileSync(source);
const pdf = await getDocumentProxy(new Uint8Array(original));
const pages = Math.min(options.pages, pdf.numPages);

// The scan: each page rendered at scale 2 (as the archive renders scanned pages), placed as an image.
const scan = await PDFDocument.create();
const renderMs: number[] = [];
for (let n = 1; n <= pages; n++) {
  const started = performance.now();
  const png = await renderPageAsImage(pdf, n, { scale: 2, canvasImport: () => import('@napi-rs/canvas') });
  renderMs.push(performance.now() - started);
  const { width, height } = (await pdf.getPage(n)).getViewport({ scale: 1 });
  const image = await scan.embedPng(png);
  scan.addPage([width, height]).drawImage(image, { x: 0, y: 0, width, height });
}
const scanned = await scan.save();

const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
const truncated = await PDFDocument.load(original);
const firstPages = await PDFDocument.create();
for (const page of await firstPages.copyPages(truncated, Array.from({ length: pages }, (_, i) => i))) firstPages.addPage(page);
const reference = words((await extractFile('text-layer.pdf', await firstPages.save())).text);

const rows = [];
for (const workers of [1, availableParallelism()]) {
  const reader = createOcrReader(undefined, workers);
  // Workers start on the first page; their start-up is timed apart from the reading.
  await reader.read(await renderPageAsImage(pdf, 1, { scale: 0.2, canvasImport: () => import('@napi-rs/canvas') }).then((b) => new Uint8Array(b)));
  const started = performance.now();
  const read = await extractFile('scan.pdf', scanned, reader);
  const seconds = (performance.now() - started) / 1000;
  await reader.close();
  const found = new Map<string, number>();
  for (const w of words(read.text)) found.set(w, (found.get(w) ?? 0) + 1);
  const hits = reference.filter((w) => {
    const n = found.get(w) ?? 0;
    if (n > 0) found.set(w, n - 1);
    return n > 0;
  }).length;
  const confidence = read.ocrPages!.reduce((s, p) => s + p.confidence, 0) / read.ocrPages!.length;
  rows.push({ workers, pages, seconds: +seconds.toFixed(2), pagesPerSecond: +(pages / seconds).toFixed(2), meanConfidence: Math.round(confidence), wordRecall: +(hits / reference.length).toFixed(3) });
}
const renderMedian = [...renderMs].sort((a, b) => a - b)[Math.floor(renderMs.length / 2)];
log(`OCR of ${pages} pages of ${source.split('/').pop()} rendered at scale 2 (median ${renderMedian.toFixed(0)} ms a page to render):`);
log('workers  seconds  pages/s  confidence  word recall (of the text layer)');
for (const r of rows) log(`${String(r.workers).padEnd(8)} ${String(r.seconds).padEnd(8)} ${String(r.pagesPerSecond).padEnd(8)} ${String(r.meanConfidence).padEnd(11)} ${r.wordRecall}`);
process.stdout.write(`${JSON.stringify({ source, pages, renderMedianMs: Math.round(renderMedian), rows })}\n`);
