import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/config.js';
import { readCorpus } from '../src/ingest/index.js';
import { dateFromText, dateSpan, isIsoDate, titleFromText } from '../src/ingest/metadata.js';
import { SEEDS, tempDir } from './helpers.js';

const seeds = await readCorpus(SEEDS);

describe('the seed corpus', () => {
  const { documents, skipped } = seeds;

  it('reads all four seeds with catalog metadata and ids from their paths', () => {
    expect(skipped).toEqual([]);
    expect(documents.map((d) => d.id)).toEqual(['000_2f8a857afa737480', '001_004c609643dbb3e3', '002_d7df6b83d73dff84', '003_b19f9eb657466ce4']);
    const report = documents[1];
    expect(report.publisher).toBe('Southern Policy Centre');
    expect(report.date).toBe('2021-06');
    expect(documents[3].date).toBe('2013-10-03');
  });

  it('finds the dates the seeds state themselves', () => {
    expect(dateFromText(documents[3].text)).toBe('2013-10-03'); // "Thursday, 03 October 2013"
    expect(dateFromText(documents[1].text)).toBe('2021-06'); // signed "June 2021"
    expect(dateFromText(documents[0].text)).toBeNull();
  });
});

describe('a corpus without a catalog', () => {
  it('reads .txt and .md recursively, titles and dates from the text, and skips empty files', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'reports', '2016'), { recursive: true });
    writeFileSync(join(dir, 'reports', '2016', 'Solent Bid.md'), 'Solent bid rejected\n\nMonday, 14 November 2016\n\nThe bid was turned down.');
    writeFileSync(join(dir, 'note.txt'), 'A note without a date. It says little.');
    writeFileSync(join(dir, 'empty.txt'), '   \n');
    writeFileSync(join(dir, 'image.gif'), 'not text');
    const { documents, skipped } = await readCorpus(dir);
    expect(documents.map((d) => [d.id, d.source, d.title, d.date])).toEqual([
      ['note', 'note.txt', 'A note without a date. It says little.', null],
      ['reports-2016-solent-bid', 'reports/2016/Solent Bid.md', 'Solent bid rejected', '2016-11-14'],
    ]);
    expect(skipped).toEqual([{ source: 'empty.txt', reason: 'no text after cleaning (empty file?)' }]);
  });

  it('keeps ids distinct when two files differ only by extension', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.txt'), 'Text one.');
    writeFileSync(join(dir, 'a.md'), 'Text two.');
    expect((await readCorpus(dir)).documents.map((d) => d.id).sort()).toEqual(['a', 'a-txt']);
  });
});

describe('catalog validation', () => {
  const withCatalog = (catalog: string) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'doc.txt'), 'Some text.');
    writeFileSync(join(dir, 'catalog.json'), catalog);
    return dir;
  };

  it('rejects a malformed catalog with a message naming the file and field', async () => {
    await expect(readCorpus(withCatalog('{ "files": { "doc.txt": { "date": "June 2021" } } }'))).rejects.toThrowError(/catalog\.json is invalid: files\.doc\.txt\.date: must be an ISO date/);
    await expect(readCorpus(withCatalog('{ not json'))).rejects.toThrowError(UserError);
    await expect(readCorpus(withCatalog('{ "files": { "doc.txt": { "author": "x" } } }'))).rejects.toThrowError(/Unrecognized key/);
  });

  it('reports catalog entries that name no file', async () => {
    const { skipped } = await readCorpus(withCatalog('{ "files": { "gone.txt": { "title": "Gone" } } }'));
    expect(skipped).toEqual([{ source: 'catalog.json: gone.txt', reason: 'catalog entry names no file in the corpus' }]);
  });

  it('names a missing corpus folder', async () => {
    await expect(readCorpus(join(tempDir(), 'nope'))).rejects.toThrowError(/does not exist/);
  });
});

describe('dates and titles', () => {
  it('parses datelines in several forms and refuses impossible dates', () => {
    expect(dateFromText('Title\n\nOctober 3, 2013\n\nBody.')).toBe('2013-10-03');
    expect(dateFromText('Title\n\n2013-10-03\n\nBody.')).toBe('2013-10-03');
    expect(dateFromText('Title\n\n31 February 2013\n\nBody.')).toBeNull();
    expect(isIsoDate('2021')).toBe(true);
    expect(isIsoDate('2021-13')).toBe(false);
    expect(dateSpan('2020-02')).toEqual(['2020-02-01', '2020-02-29']);
  });

  it('falls back to the opening words when the first line is a sentence', () => {
    expect(titleFromText('HAMPSHIRE councils are to push their case to become a massive combined authority to government.', 'f')).toBe('HAMPSHIRE councils are to push their case to become a massive combined…');
  });
});
