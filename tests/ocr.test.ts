import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareArchive, buildSummary, rebuild, type Archive } from '../src/archive.js';
import { loadConfig } from '../src/config.js';
import { readCorpus, type CorpusReadResult } from '../src/ingest/index.js';
import { makeScanPdf, makeScanPng } from './fixtures/documents.js';
import { copyOfSeedIndex, tempDir } from './helpers.js';

const MINUTES = ['Minutes of the Solent Joint Committee', 'held on 14 March 1998 at Portsmouth Guildhall.', 'The committee agreed to ask the ferry operators', 'for a joint timetable to the Isle of Wight.'];
const LETTER = ['Dear Councillor Perry,', 'The county will meet the cost of the new', 'bus shelters in Fareham from April 1999.'];

let corpus: string;
let read: CorpusReadResult;
const progress: Array<[number, number]> = [];

beforeAll(async () => {
  corpus = join(tempDir(), 'corpus');
  mkdirSync(corpus);
  // A scanned PDF: a blank first page (the back of a cover), then the minutes.
  writeFileSync(join(corpus, 'minutes-1998.pdf'), await makeScanPdf([makeScanPng([]), makeScanPng(MINUTES)]));
  writeFileSync(join(corpus, 'letter.png'), makeScanPng(LETTER));
  writeFileSync(join(corpus, 'blank.png'), makeScanPng([]));
  writeFileSync(join(corpus, 'broken.jpg'), Buffer.from('this is not a JPEG at all'));
  // A PNG cut short in transfer: its signature is right, its pixels are not there.
  writeFileSync(join(corpus, 'truncated.png'), makeScanPng(LETTER).subarray(0, 200));
  read = await readCorpus(corpus, { maxFileBytes: 50 * 1024 * 1024, ocr: true, ocrMinConfidence: 99, onOcrProgress: (done, queued) => progress.push([done, queued]) });
}, 120_000);

describe('scanned documents read by OCR', () => {
  it('reads a scanned PDF page by page, citing the page the text is on', () => {
    const minutes = read.documents.find((d) => d.source === 'minutes-1998.pdf')!;
    // Tesseract decides where its paragraphs break; the words and their order are the page's.
    expect(minutes.text.replace(/\s+/g, ' ')).toBe(MINUTES.join(' '));
    // The blank page has no text, so page 2 starts where the text does.
    expect(minutes.pageStarts).toEqual([0, 0]);
    expect(minutes.date).toBe('1998-03-14');
  });

  it('reads an image as a one-page document', () => {
    const letter = read.documents.find((d) => d.source === 'letter.png')!;
    expect(letter.text.replace(/\s+/g, ' ')).toBe(LETTER.join(' '));
    expect(letter.pageStarts).toEqual([0]);
  });

  it('skips an image without text and a corrupt image, each with its reason', () => {
    expect(Object.fromEntries(read.skipped.map((s) => [s.source, s.reason]))).toEqual({
      'blank.png': 'OCR found no text in the image',
      'broken.jpg': 'not a readable image (its bytes are not a PNG, JPEG or TIFF image)',
      'truncated.png': 'not a readable image (the image is damaged or in a form Tesseract cannot decode)',
    });
  });

  it("records each page's confidence, lists those under the floor, and counts pages as it goes", () => {
    expect(read.ocr.pages).toBe(2);
    expect(read.ocr.meanConfidence).toBeGreaterThan(80);
    // The floor was set at 99 here: both pages are listed to be checked.
    expect(read.ocr.lowConfidence.map((p) => [p.source, p.page])).toEqual([
      ['letter.png', 1],
      ['minutes-1998.pdf', 2],
    ]);
    expect(progress.at(-1)).toEqual([5, 5]);
    expect(progress.some(([done, queued]) => done < queued)).toBe(true);
  });

  it('skips scans, saying how to read them, when OCR is off', async () => {
    const off = await readCorpus(corpus, { maxFileBytes: 50 * 1024 * 1024, ocr: false, ocrMinConfidence: 60 });
    expect(off.documents).toEqual([]);
    expect(off.skipped.find((s) => s.source === 'minutes-1998.pdf')?.reason).toBe('the PDF has no text layer (a scan; set ingest.ocr to true to read it by OCR)');
    expect(off.skipped.find((s) => s.source === 'letter.png')?.reason).toBe('an image, and OCR is off (set ingest.ocr to true to read it)');
    expect(off.ocr.pages).toBe(0);
  });
});

describe('a scanned archive searched', () => {
  let archive: Archive;
  const messages: string[] = [];
  beforeAll(async () => {
    const config = loadConfig({ corpusDir: corpus, indexDir: copyOfSeedIndex(), embedding: { retrainAbove: 1 } });
    archive = await prepareArchive(config, { log: (m) => messages.push(m) });
    messages.push(JSON.stringify(buildSummary(await rebuild(config, { log: () => {}, full: true }))));
  }, 120_000);

  it('finds the scanned minutes by search, with the page cited, and says what OCR read', async () => {
    const { results } = await archive.search('ferry timetable joint committee', { k: 3 });
    expect(results[0]).toMatchObject({ source: 'minutes-1998.pdf', page: 2 });
    expect(results[0].text).toContain('joint timetable to the Isle of Wight');
    const letter = (await archive.search('who pays for the bus shelters in Fareham', { k: 3 })).results[0];
    expect(letter).toMatchObject({ source: 'letter.png', page: 1 });
    expect(messages.some((m) => /^Read 2 scanned pages by OCR, mean confidence \d+\.$/.test(m))).toBe(true);
    expect(JSON.parse(messages.at(-1)!).ocr).toMatchObject({ pages: 2, lowConfidence: { count: 0, first: [] } });
  });
});
