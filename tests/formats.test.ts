import { closeSync, mkdirSync, openSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareArchive, type Archive } from '../src/archive.js';
import { loadConfig } from '../src/config.js';
import { pageAt, readCorpus, type CorpusReadResult } from '../src/ingest/index.js';
import { makeDocx, makeNewsHtml, makePdf } from './fixtures/documents.js';
import { copyOfSeedIndex, tempDir } from './helpers.js';

const PAGE_TWO = 'The Solent bid of 2016 failed because the councils could not agree on an elected mayor.';
let corpus: string;
let read: CorpusReadResult;

beforeAll(async () => {
  corpus = join(tempDir(), 'corpus');
  mkdirSync(join(corpus, 'bad'), { recursive: true });
  writeFileSync(
    join(corpus, 'report.pdf'),
    await makePdf(
      [
        ['Devolution in the Solent', 'A report on the combined authority proposals.'],
        ['The second chapter.', PAGE_TWO],
        ['The third chapter looks at transport funding', 'for buses and ferries across the Isle of Wight.'],
      ],
      { title: 'Solent devolution report', created: new Date('2019-03-04T00:00:00Z') },
    ),
  );
  writeFileSync(join(corpus, 'news.html'), makeNewsHtml());
  writeFileSync(join(corpus, 'minutes.docx'), await makeDocx(['Minutes of the cabinet meeting', 'Members discussed the ferry subsidy for the Isle of Wight and agreed to write to the minister.']));
  writeFileSync(join(corpus, 'note.md'), '# A note\n\nPortsmouth and Southampton share a port economy.');
  // What a researcher's folder also holds: files that cannot be read.
  writeFileSync(join(corpus, 'bad', 'corrupt.pdf'), '%PDF-1.7\nthis is not really a pdf\n%%EOF');
  writeFileSync(join(corpus, 'bad', 'junk.txt'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x1a, 0x0a, 0xff, 0x00]));
  writeFileSync(join(corpus, 'bad', 'empty.txt'), '');
  writeFileSync(join(corpus, 'bad', 'latin1.txt'), Buffer.from('Caf\xe9 society in Southampton, na\xefve politics.', 'latin1'));
  writeFileSync(join(corpus, 'bad', 'corrupt.docx'), 'PK this is not a zip archive');
  writeFileSync(join(corpus, 'bad', 'empty.pdf'), await makePdf([[]]));
  // 200 MB, sparse: it costs no disk, and its size alone must get it skipped unread.
  const huge = openSync(join(corpus, 'bad', 'huge.txt'), 'w');
  closeSync(huge);
  const { truncateSync } = await import('node:fs');
  truncateSync(join(corpus, 'bad', 'huge.txt'), 200 * 1024 * 1024);
  symlinkSync(join(corpus, 'bad', 'moved-away.txt'), join(corpus, 'bad', 'broken-link.txt'));
  symlinkSync(corpus, join(corpus, 'bad', 'loop')); // a link back to the top must not be walked forever
  read = await readCorpus(corpus);
});

describe('reading real document formats', () => {
  it('indexes PDF, HTML, Word and Markdown, with metadata from each format', () => {
    const bySource = new Map(read.documents.map((d) => [d.source, d]));
    expect([...bySource.keys()].sort()).toEqual(['minutes.docx', 'news.html', 'note.md', 'report.pdf']);
    const pdf = bySource.get('report.pdf')!;
    expect(pdf).toMatchObject({ title: 'Solent devolution report', date: '2019-03-04' });
    expect(pdf.pageStarts).toHaveLength(3);
    const html = bySource.get('news.html')!;
    expect(html).toMatchObject({ title: 'Winchester councillors back county deal', date: '2023-05-09' });
    expect(bySource.get('minutes.docx')!.text).toBe('Minutes of the cabinet meeting\n\nMembers discussed the ferry subsidy for the Isle of Wight and agreed to write to the minister.');
  });

  it('keeps the article of a web page and drops its navigation, banner and footer', () => {
    const html = read.documents.find((d) => d.source === 'news.html')!;
    expect(html.text).toContain('Councillors in Winchester voted on Tuesday');
    expect(html.text).toContain('formal consultation.');
    for (const chrome of ['Home', 'Sport', 'cookies', 'Copyright', 'Privacy']) expect(html.text).not.toContain(chrome);
    expect(html.text.split('\n\n').length).toBeGreaterThanOrEqual(4);
  });

  it('knows the page of every offset in a PDF', () => {
    const pdf = read.documents.find((d) => d.source === 'report.pdf')!;
    const at = pdf.text.indexOf(PAGE_TWO);
    expect(at).toBeGreaterThan(0);
    expect(pageAt(pdf, at)).toBe(2);
    expect(pageAt(pdf, 0)).toBe(1);
    expect(pageAt(pdf, pdf.text.indexOf('for buses and ferries'))).toBe(3);
    expect(pageAt(read.documents.find((d) => d.source === 'note.md')!, 0)).toBeNull();
  });

  it('skips each unreadable file by name with a reason, and reads the rest', () => {
    const reasons = Object.fromEntries(read.skipped.map((s) => [s.source, s.reason]));
    expect(reasons).toEqual({
      'bad/broken-link.txt': 'broken link (ENOENT)',
      'bad/corrupt.docx': expect.stringMatching(/^not a readable Word document/),
      'bad/corrupt.pdf': expect.stringMatching(/^not a readable PDF/),
      'bad/empty.txt': 'no text after cleaning (empty file?)',
      'bad/huge.txt': '200 MB is over the 50 MB limit (ingest.maxFileMB)',
      'bad/junk.txt': 'binary data, not text (it contains NUL bytes)',
      'bad/latin1.txt': 'not valid UTF-8 text; re-save it as UTF-8',
      'bad/empty.pdf': 'the PDF has no text, neither a text layer nor scanned pages (an empty document?)',
    });
  });
});

describe('an archive built from mixed formats', () => {
  let archive: Archive;
  const messages: string[] = [];
  beforeAll(async () => {
    // The archive started as the seeds and now holds these files instead; it keeps the seeds' model
    // (these few documents are new words enough to retrain it, which is not what this test is about).
    archive = await prepareArchive(loadConfig({ corpusDir: corpus, indexDir: copyOfSeedIndex(), embedding: { retrainAbove: 1 } }), { log: (m) => messages.push(m) });
  });

  it('ends the build with a summary of what was indexed and skipped', () => {
    const summary = messages.at(-1)!;
    expect(summary).toMatch(/^Indexed 4 documents \(1 \.docx, 1 \.html, 1 \.md, 1 \.pdf\) as \d+ passages in [\d.]+ s; skipped 8 files \(see above\)/);
    expect(messages.filter((m) => m.startsWith('skipped bad/'))).toHaveLength(8);
  });

  it('cites the page of a PDF passage and of its answer sentence', async () => {
    const { results, answer } = await archive.search('why did the 2016 Solent bid fail', { k: 3 });
    // The short PDF is one passage starting on page 1; its answering sentence is on page 2.
    expect(results[0]).toMatchObject({ source: 'report.pdf', start: 0, page: 1 });
    expect(results[0].sentence).toMatchObject({ text: PAGE_TWO, page: 2 });
    expect(answer?.citation).toMatchObject({ source: 'report.pdf', page: 2 });
    const other = (await archive.search('ferry subsidy minutes', { k: 1 })).results[0];
    expect(other).toMatchObject({ source: 'minutes.docx', page: null });
  });
});
