import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Archive } from '../src/archive.js';
import { UserError } from '../src/config.js';
import { groupBy } from '../src/group.js';
import { fusedOrderOnly, fuseScores, standardize } from '../src/retrieve/index.js';
import { timeFit, timeSignal } from '../src/retrieve/time.js';
import { timelineOf } from '../src/retrieve/timeline.js';
import { copyOfSeeds, seedArchive } from './helpers.js';

let archive: Archive;
beforeAll(async () => {
  archive = await seedArchive();
});

describe('hybrid retrieval over the seeds', () => {
  it('returns up to k passages of one document when the search is filtered to it (the per-document cap mixes documents)', async () => {
    const long = '001_004c609643dbb3e3';
    expect(archive.index.chunksByDoc.get(long)!.length).toBeGreaterThan(12);
    const one = await archive.search('devolution deal for the Solent', { k: 12, filters: { docIds: [long] } });
    expect(one.results).toHaveLength(12);
    expect(new Set(one.results.map((r) => r.docId))).toEqual(new Set([long]));
    // Two documents share k: neither is cut to maxPerDoc when that would leave the list short.
    const two = await archive.search('devolution deal for the Solent', { k: 10, filters: { docIds: [long, '000_2f8a857afa737480'] } });
    expect(two.results).toHaveLength(10);
    // Unfiltered, documents still mix: at most maxPerDoc of each while there are enough documents.
    const all = await archive.search('devolution deal for the Solent', { k: 10 });
    const perDoc = [...groupBy(all.results, (r) => r.docId).values()].map((list) => list.length);
    expect(Math.max(...perDoc)).toBeLessThanOrEqual(archive.config.retrieval.maxPerDoc);
  });

  it('cites every passage and its best sentence by offsets into the clean text', async () => {
    const { results } = await archive.search('why did the 2016 bid fail', { k: 10 });
    expect(results.length).toBe(10);
    for (const r of results) {
      const doc = archive.document(r.docId)!;
      expect(r.text).toBe(doc.text.slice(r.start, r.end));
      expect(r.sentence.text).toBe(doc.text.slice(r.sentence.start, r.sentence.end));
      expect(r.sentence.start).toBeGreaterThanOrEqual(r.start);
      expect(r.sentence.end).toBeLessThanOrEqual(r.end);
      expect(r).toMatchObject({ source: doc.source, title: doc.title, date: doc.date });
    }
    expect(results.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(results.map((r) => r.score)).toEqual([...results.map((r) => r.score)].sort((a, b) => b - a));
  });

  it('keeps at most maxPerDoc passages of one document', async () => {
    const { results } = await archive.search('devolution and combined authority', { k: 10 });
    const perDoc = new Map<string, number>();
    for (const r of results) perDoc.set(r.docId, (perDoc.get(r.docId) ?? 0) + 1);
    expect(Math.max(...perDoc.values())).toBeLessThanOrEqual(archive.config.retrieval.maxPerDoc);
  });

  it('filters by document', async () => {
    const { results } = await archive.search('mayor', { k: 5, filters: { docIds: ['002_d7df6b83d73dff84'] } });
    expect(results.length).toBeGreaterThan(0);
    expect(new Set(results.map((r) => r.docId))).toEqual(new Set(['002_d7df6b83d73dff84']));
    await expect(archive.search('mayor', { filters: { docIds: ['nope'] } })).rejects.toThrowError(UserError);
  });

  it('filters by publication date range, at any date precision', async () => {
    const only2021 = await archive.search('devolution', { k: 10, filters: { from: '2021', to: '2021-12-31' } });
    expect(new Set(only2021.results.map((r) => r.date))).toEqual(new Set(['2021-06']));
    const before2014 = await archive.search('partnership working', { k: 10, filters: { to: '2014' } });
    expect(new Set(before2014.results.map((r) => r.docId))).toEqual(new Set(['003_b19f9eb657466ce4']));
    const future = await archive.search('devolution', { filters: { from: '2099' } });
    expect(future.results).toEqual([]);
    expect(future.answer).toBeNull();
  });

  it('collapses a passage that appears twice in the corpus', async () => {
    const corpus = copyOfSeeds();
    copyFileSync(join(corpus, '003_b19f9eb657466ce4.txt'), join(corpus, 'copy-of-003.txt'));
    const withCopy = await seedArchive({ corpusDir: corpus, retrieval: { maxPerDoc: 10 } });
    const { results } = await withCopy.search('what replaced the Hampshire Senate', { k: 10 });
    const texts = results.map((r) => r.text);
    expect(new Set(texts).size).toBe(texts.length);
    // Without collapsing, both copies of each Senate passage would rank side by side.
    expect(results.filter((r) => r.text.includes('previously discharged by the Hampshire Senate')).length).toBeGreaterThan(0);
  });

  it('answers with the sentence that answers, cited, or with null when nothing does', async () => {
    const { answer } = await archive.search('what replaced the Hampshire Senate');
    expect(answer!.text).toContain('The Hampshire Partnership, which will now take on the role previously discharged by the Hampshire Senate');
    expect(archive.document(answer!.citation.docId)!.text.slice(answer!.citation.start, answer!.citation.end)).toBe(answer!.text);
    const nonsense = await archive.search('qzxqzx vbnvbn');
    expect(nonsense.answer).toBeNull();
  });
});

describe('fusion', () => {
  it('standardises each side and weighs them', () => {
    expect(standardize([1, 2, 3])).toEqual([-Math.sqrt(1.5), 0, Math.sqrt(1.5)]);
    expect(standardize([4, 4])).toEqual([0, 0]);
    const dense = [0.9, 0.1, 0.5];
    const bm25 = [0, 10, 5];
    const documents = [1, 1, 4];
    expect(fuseScores([dense, bm25, documents], [1, 0, 0])).toEqual(standardize(dense));
    expect(fuseScores([dense, bm25, documents], [0, 1, 0])).toEqual(standardize(bm25));
    const mixed = fuseScores([dense, bm25, documents], [0.5, 0.2, 0.3]);
    expect(mixed[2]).toBeCloseTo(0.5 * standardize(dense)[2] + 0.2 * standardize(bm25)[2] + 0.3 * standardize(documents)[2]);
  });
});

describe('time-aware questions', () => {
  it('answers a question naming a year from the document published that year, which the lift alone tells apart', async () => {
    // Six yearly budget notes that differ only in their figures and their catalog dates: no text names a
    // year, so only the time lift (the asked year against each document's date) can find the right one.
    const corpusDir = copyOfSeeds();
    const catalog = JSON.parse(readFileSync(join(corpusDir, 'catalog.json'), 'utf8'));
    const years = [2014, 2015, 2016, 2017, 2018, 2019];
    years.forEach((year, i) => {
      const file = `budget-note-${year}.md`;
      writeFileSync(join(corpusDir, file), `# Council budget note\n\nThe county council agreed its budget: council tax rises by ${i + 1}.${(i * 3) % 10} per cent and the savings programme is ${20 + i * 7} million pounds.\n`);
      catalog.files[file] = { title: 'Council budget note', date: `${year}-02`, publisher: 'Hampshire County Council', url: null };
    });
    writeFileSync(join(corpusDir, 'catalog.json'), JSON.stringify(catalog, null, 2));
    const lifted = await seedArchive({ corpusDir });
    const plain = lifted.withConfig({ ...lifted.config, retrieval: { ...lifted.config.retrieval, timeWeight: 0 } });
    const firstIsFrom = async (a: Archive, year: number) => (await a.search(`how much did council tax rise in the budget of ${year}`, { k: 5 })).results[0].source === `budget-note-${year}.md`;
    const right = async (a: Archive) => (await Promise.all(years.map((y) => firstIsFrom(a, y)))).filter(Boolean).length;
    expect(await right(lifted)).toBe(6);
    expect(await right(plain)).toBeLessThanOrEqual(1);
  });

  it('reads years and ranges from a question', () => {
    expect(timeSignal('why did the 2016 bid fail')).toEqual({ years: [2016], before: undefined, after: undefined });
    expect(timeSignal('what changed after 2019')).toEqual({ years: [], before: undefined, after: 2019 });
    expect(timeSignal('before the pandemic, what did they publish')).toEqual({ years: [], before: 2020, after: undefined });
    expect(timeSignal('who leads Wiltshire Council')).toBeNull();
  });

  it('scores a passage by the years it mentions and when its document was published', () => {
    const signal = timeSignal('what happened in 2015')!;
    expect(timeFit(signal, 'The 2015 Spending Review invited bids.', '2015-08')).toBe(1);
    expect(timeFit(signal, 'The 2015 Spending Review invited bids.', '2021-06')).toBe(0.5);
    expect(timeFit(signal, 'Nothing dated here.', '2016')).toBe(0.25);
    expect(timeFit(signal, 'Nothing dated here.', null)).toBe(0);
    expect(timeFit(signal, 'Nothing dated here.', '2021', 'The 2015 Spending Review invited bids.')).toBe(0.5);
  });

  it('lifts the passages of the asked time without dropping the rest', async () => {
    const question = 'did Hampshire leaders want a mayor in 2015';
    // The fused order, whose scores the lift adds to (the reader's re-ordering hands them out again).
    const fused = fusedOrderOnly(archive.config);
    const plain = await archive.withConfig({ ...fused, retrieval: { ...fused.retrieval, timeWeight: 0 } }).search(question, { k: 10 });
    const timed = await archive.withConfig(fused).search(question, { k: 10 });
    const find = (r: typeof timed) => r.results.find((h) => h.docId === '000_2f8a857afa737480' && h.text.includes('should not be a mayor'))!;
    // The 2015 article's passage gains at least half the time weight (published in the asked year).
    expect(find(timed).score - find(plain).score).toBeGreaterThanOrEqual(archive.config.retrieval.timeWeight / 2 - 1e-9);
    expect(timed.results.findIndex((h) => h === find(timed))).toBeLessThan(plain.results.findIndex((h) => h === find(plain)));
    expect(timed.results.some((h) => !h.date?.startsWith('2015'))).toBe(true);
  });
});

describe('the timeline of a search', () => {
  it('counts by year, with the empty years between, or by month within two years; undated apart', () => {
    expect(timelineOf(['2015-08', '2021-06-01', '2021', null, '2021-02'])).toEqual({
      unit: 'year',
      periods: [
        { period: '2015', count: 1 },
        ...[2016, 2017, 2018, 2019, 2020].map((y) => ({ period: String(y), count: 0 })),
        { period: '2021', count: 3 },
      ],
      undated: 1,
    });
    expect(timelineOf(['2020-11-03', '2021-02', '2020-11'])).toEqual({ unit: 'month', periods: [{ period: '2020-11', count: 2 }, { period: '2020-12', count: 0 }, { period: '2021-01', count: 0 }, { period: '2021-02', count: 1 }], undated: 0 });
    // A date known only to the year cannot go in a month: years then.
    expect(timelineOf(['2020-11', '2021']).unit).toBe('year');
    expect(timelineOf([null, null])).toEqual({ unit: 'year', periods: [], undated: 2 });
  });

  it('counts the seed passages that match, checked against a hand count', async () => {
    // By hand: "Solent" is in one passage of the 2015 article and, as passages overlap, in 10 of the
    // 2021 report's (its 7 mentions); the other two documents never name it.
    const solent = await archive.search('Solent', { k: 3, timeline: true });
    const byHand = { '2015': 1, '2021': 10 };
    expect(solent.timeline).toEqual({ unit: 'year', periods: ['2015', '2016', '2017', '2018', '2019', '2020', '2021'].map((period) => ({ period, count: byHand[period as keyof typeof byHand] ?? 0 })), undated: 0 });
    // The same count by the plain rule (a passage naming Solent), per document date.
    const naming = archive.index.chunks.filter((c) => /solent/i.test(c.text)).map((c) => archive.document(c.docId)!.date);
    expect(timelineOf(naming)).toEqual(solent.timeline);
    // All four "Hampshire Senate" matches are in the 2013 magazine piece: one month.
    expect((await archive.search('Hampshire Senate', { k: 3, timeline: true })).timeline).toEqual({ unit: 'month', periods: [{ period: '2013-10', count: 4 }], undated: 0 });
    // A document filter narrows it; a date range does not (the chart shows the range among the rest).
    expect((await archive.search('Solent', { k: 3, timeline: true, filters: { docIds: ['000_2f8a857afa737480'] } })).timeline).toEqual({ unit: 'month', periods: [{ period: '2015-08', count: 1 }], undated: 0 });
    expect((await archive.search('Solent', { k: 3, timeline: true, filters: { from: '2021' } })).timeline).toEqual(solent.timeline);
    // Asked for only: batch answers and evaluations do not pay for it.
    expect((await archive.search('Solent', { k: 3 })).timeline).toBeUndefined();
  });

  it('counts passages of undated documents apart', async () => {
    const corpusDir = copyOfSeeds();
    writeFileSync(join(corpusDir, 'undated-note.md'), '# Port note\n\nThe Solent ports asked for a freeport.');
    const withUndated = await seedArchive({ corpusDir });
    const { timeline } = await withUndated.search('Solent', { k: 3, timeline: true });
    expect(timeline!.undated).toBe(1);
    expect(timeline!.periods.reduce((n, p) => n + p.count, 0)).toBeGreaterThanOrEqual(10);
  });
});

