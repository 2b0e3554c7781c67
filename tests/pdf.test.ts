import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareArchive, type Archive } from '../src/archive.js';
import { chunkDocument } from '../src/chunk/index.js';
import { loadConfig } from '../src/config.js';
import { extractFile, type ExtractedText } from '../src/ingest/formats.js';
import { pageAt, sectionAt } from '../src/ingest/index.js';
import { statedDate } from '../src/ingest/metadata.js';
import { findFurniture } from '../src/ingest/pdf/furniture.js';
import { groupLines, lineText, pageRuns } from '../src/ingest/pdf/geometry.js';
import type { SourceDocument } from '../src/types.js';
import { makeReportPdf, REPORT_TEXT } from './fixtures/documents.js';
import { copyOfSeedIndex, tempDir } from './helpers.js';

let report: Uint8Array;
let read: ExtractedText;
const asDocument = (x: ExtractedText): SourceDocument => ({ id: 'report', source: 'report.pdf', title: x.title!, date: x.date ?? null, publisher: null, url: null, text: x.text, pageStarts: x.pageStarts, headings: x.headings });

beforeAll(async () => {
  report = await makeReportPdf();
  read = await extractFile('report.pdf', report);
});

describe('a laid-out PDF read as a person reads it', () => {
  it('reads the exact text: no running header or page numbers, footnotes apart, columns in turn, table rows whole', () => {
    expect(read.text).toBe(REPORT_TEXT);
  });

  it('takes the title and date from the cover, not a placeholder title or the creation date', () => {
    expect(read).toMatchObject({ title: 'Solent Transport Strategy', date: '2022-06-08', metadataDate: '2023-01-05' });
  });

  it('keeps every page where it starts, the footnotes on their own page', () => {
    const doc = asDocument(read);
    expect(read.pageStarts).toEqual([0, read.text.indexOf('1 Introduction'), read.text.indexOf('2 Options')]);
    expect(pageAt(doc, read.text.indexOf('Note 2:'))).toBe(2);
    expect(pageAt(doc, read.text.indexOf('Homes: 178'))).toBe(3);
  });

  it('finds headings by size, levelled by size, and a passage knows the headings it stands under', () => {
    const headings = read.headings!.map((h) => [read.text.slice(h.start, h.end), h.level]);
    expect(headings).toEqual([
      ['Solent Transport Strategy', 1],
      ['Consultation Draft', 3],
      ['1 Introduction', 2],
      ['1.1 Background', 4],
      ['2 Options', 2],
    ]);
    const doc = asDocument(read);
    expect(sectionAt(doc, read.text.indexOf('The second bid'))).toBe('Solent Transport Strategy › 1 Introduction › 1.1 Background');
    expect(sectionAt(doc, read.text.indexOf('North Quay'))).toBe('Solent Transport Strategy › 2 Options');
    expect(sectionAt({ ...doc, headings: undefined }, 500)).toBeNull();
  });

  it('starts a passage at a heading rather than ending one with it', () => {
    const doc = asDocument(read);
    const chunks = chunkDocument(doc, { targetWords: 30, maxWords: 80, overlapSentences: 1 });
    const headingStarts = read.headings!.map((h) => h.start);
    for (const chunk of chunks) {
      // No passage runs from its text into a heading that it would then end with.
      const inside = headingStarts.filter((s) => s > chunk.start && s < chunk.end);
      for (const s of inside) expect(chunk.text.slice(0, s - chunk.start).split(/\s+/).length).toBeLessThan(12);
    }
    expect(chunks.some((c) => c.text.startsWith('2 Options'))).toBe(true);
  });
});

describe('the runs of a page', () => {
  const item = (str: string, x: number, y: number, size = 10) => ({ str, transform: [size, 0, 0, size, x, y], width: str.length * size * 0.5, height: size, fontName: 'f1' });

  it('reads mathematical letters as plain ones and drops private-use bullets, marking the line as a list item', () => {
    const { runs, bullets } = pageRuns([item('\uF0B7', 50, 700), item('𝑆𝑖𝑡𝑒 𝑎𝑟𝑒𝑎 (ha)', 62, 700), item('\uF0A7 Second item', 50, 686)]);
    expect(runs.map((r) => r.text)).toEqual(['Site area (ha)', 'Second item']);
    const lines = groupLines(runs, bullets);
    expect(lines.map((l) => [lineText(l, () => false), l.bullet])).toEqual([
      ['Site area (ha)', true],
      ['Second item', true],
    ]);
  });

  it('reads overprinted text (fake bold) once, and skips rotated text', () => {
    const rotated = { ...item('DRAFT', 300, 400), transform: [0, 10, -10, 0, 300, 400] };
    const { runs } = pageRuns([item('Policy H1', 50, 700), item('Policy H1', 50.4, 700), rotated]);
    expect(runs.map((r) => r.text)).toEqual(['Policy H1']);
  });

  it('never fuses a raised footnote marker onto a number, and keeps a superscript that is not a note', () => {
    const { runs } = pageRuns([item('in May 2016', 50, 700), { ...item('13', 105, 704, 6) }, item('the area is 40 m', 200, 700), { ...item('2', 280, 704, 6) }]);
    const [line] = groupLines(runs);
    expect(lineText(line, () => false)).toBe('in May 2016 the area is 40 m2');
  });

  it('finds running headers and footers, page numbers in roman numerals too, and keeps the body', () => {
    const page = (n: number, body: string) => {
      const { runs } = pageRuns([item(`Watford Local Plan, Inspector's Report August 2022 ${n}`, 50, 800), item(body, 50, 600), item(n < 3 ? ['i', 'ii'][n - 1] : `Page ${n} of 5`, 280, 30)]);
      return { lines: groupLines(runs), height: 842 };
    };
    const pages = [1, 2, 3, 4, 5].map((n) => page(n, `Body text of page ${n}.`));
    const furniture = findFurniture(pages);
    pages.forEach((p, i) => expect(p.lines.filter((l) => !furniture[i].has(l)).map((l) => lineText(l, () => false))).toEqual([`Body text of page ${i + 1}.`]));
  });
});

describe('dates a document states of itself', () => {
  it('prefers a date named as adopted, published, dated or updated, then a line that is only a date', () => {
    expect(statedDate(['Local Plan', 'Template reviewed June 2023', 'Date: May 2025'])).toBe('2025-05');
    expect(statedDate(['Adopted 8 June 2022'])).toBe('2022-06-08');
    expect(statedDate(['Page last updated: 04 July 2022'])).toBe('2022-07-04');
    expect(statedDate(['Final Report', '28 July 2025'])).toBe('2025-07-28');
    expect(statedDate(['Revision 14/07/25', 'The plan runs to 2040.'])).toBeNull();
    expect(statedDate(['Published on 31 February 2021'])).toBeNull();
  });
});

describe('a laid-out PDF in an archive', () => {
  let archive: Archive;
  beforeAll(async () => {
    const corpus = join(tempDir(), 'corpus');
    mkdirSync(corpus);
    writeFileSync(join(corpus, 'strategy.pdf'), report);
    archive = await prepareArchive(loadConfig({ corpusDir: corpus, indexDir: copyOfSeedIndex(), embedding: { retrainAbove: 1 } }), { log: () => {} });
  });

  it('answers from a table row with its page and section, and dates the document from its cover', async () => {
    const { results } = await archive.search('how many homes at North Quay', { k: 3 });
    const row = results.find((r) => r.text.includes('Site: North Quay | Area (ha): 1.6 | Homes: 178'));
    expect(row).toMatchObject({ source: 'strategy.pdf', page: 3, section: 'Solent Transport Strategy › 2 Options', date: '2022-06-08', title: 'Solent Transport Strategy' });
    // The footnote stands as its own sentence, never inside the text that refers to it.
    const { results: notes } = await archive.search('when was the first bid published', { k: 5 });
    expect(notes.some((r) => r.text.includes('Note 1: The first bid was published on 12 May 2016.'))).toBe(true);
    expect(notes.every((r) => !/2016\s*1\b|20161/.test(r.text))).toBe(true);
  });
});
