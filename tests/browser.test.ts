import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { AxeBuilder } from '@axe-core/playwright';
import { parse } from 'csv-parse/sync';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/serve/app.js';
import { makePdf } from './fixtures/documents.js';
import { copyOfSeeds, seedArchive, tempDir } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HOSTILE = 'Hostile page about the Solent ferry timetable. <script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2"> The ferry timetable changes in spring.';

/** Words wrapped into lines that fit a PDF page. */
const wrap = (text: string) => text.split(' ').reduce<string[]>((lines, word) => (lines.length && (lines.at(-1)! + ' ' + word).length <= 85 ? [...lines.slice(0, -1), `${lines.at(-1)} ${word}`] : [...lines, word]), []);

/** A three-page PDF report, each page a passage or two, so the document view has pages to mark. */
const BUS_REVIEW = [
  ['New Forest bus services review', 'Published 4 March 2012', ...wrap('The county council reviewed the rural bus routes of the New Forest over the winter. Officers counted passengers on every route for six weeks, asked parish councils which journeys their residents need, and compared the cost of each route with the fares it brings in. The review covers the routes the council pays for, not the commercial services that operators run without support. It was asked for after two operators gave notice that they would stop running evening journeys, and after complaints from villages that lost their only service when a contract ended. This page sets out how the review was done and which routes it looked at in detail.')],
  wrap('The review found that the Lymington to Brockenhurst route carries the most passengers of the supported routes, most of them travelling to the railway station and the college. Its morning journeys are often full, while its evening journeys carry few people since the timetable was changed. The route to the villages north of Ringwood carries the fewest passengers, and its cost for each journey is the highest of all the supported routes. Passengers told the review that they want buses that meet the trains, and that they would use the service more if it ran to a simple timetable with the same minutes past each hour.'),
  wrap('The review recommends a community bus for the villages without a daily service, run by volunteers with a small grant from the council, and a timetable for the Lymington to Brockenhurst route that meets every train at Brockenhurst. It also recommends that the council asks operators to accept one ticket on all routes in the forest, so that a passenger can change buses without paying twice. The recommendations will go to the cabinet in the summer, and the changes would start with the new contracts in the following spring if the cabinet agrees to them.'),
];

let server: ServerType;
let base: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const corpus = copyOfSeeds();
  writeFileSync(join(corpus, 'hostile.txt'), HOSTILE);
  writeFileSync(join(corpus, 'bus-review.pdf'), await makePdf(BUS_REVIEW));
  const app = createApp(await seedArchive({ corpusDir: corpus }));
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe('the search page in a real browser', () => {
  it('answers a typed question, keeps it in the URL, and opens a citation in place', async () => {
    await page.goto(base);
    await page.fill('#q', 'why did the 2016 bid fail');
    await page.press('#q', 'Enter');
    await page.waitForSelector('#results li');
    expect(new URL(page.url()).searchParams.get('q')).toBe('why did the 2016 bid fail');
    expect(await page.isVisible('#answer')).toBe(true);
    expect(await page.textContent('#answer-label')).toMatch(/^(Likely|Uncertain) answer$/);
    expect(await page.isVisible('#no-answer')).toBe(false);
    expect(await page.textContent('#answer-cite')).toMatch(/\.txt/);
    const results = page.locator('#results li');
    expect(await results.count()).toBe(10);
    const top3 = await results.evaluateAll((items) => items.slice(0, 3).map((li) => li.textContent ?? ''));
    expect(top3.some((t) => t.includes('turned down by Westminster'))).toBe(true);
    // Each passage highlights its best sentence.
    expect(await page.locator('#results li mark').count()).toBe(10);
    await page.screenshot({ path: join(tempDir(), 'results.png') });

    const solent = results.filter({ hasText: 'turned down by Westminster' }).first();
    const passage = (await solent.locator('p').nth(1).textContent())!;
    await solent.locator('a.open').click();
    await page.waitForSelector('#cited');
    const cited = page.locator('#cited');
    expect(await cited.textContent()).toBe(passage);
    const box = (await cited.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y).toBeLessThan(700);
    expect(await page.textContent('#doc-title')).toMatch(/Collaboration and Devolution/);
  });

  it('restores a shared search from its URL and filters by document', async () => {
    await page.goto(`${base}/?q=${encodeURIComponent('elected mayor')}&doc=002_d7df6b83d73dff84`);
    await page.waitForSelector('#results li');
    expect(await page.inputValue('#q')).toBe('elected mayor');
    expect(await page.inputValue('#doc')).toBe('002_d7df6b83d73dff84');
    const titles = await page.locator('#results li h2').allTextContents();
    expect(titles.length).toBeGreaterThan(0);
    expect(new Set(titles)).toEqual(new Set(["Wiltshire Council to discuss 'Heart of Wessex' devolution partnership with Dorset and Somerset"]));
  });

  it('shows markup from documents as text and runs none of it', async () => {
    await page.goto(`${base}/?q=${encodeURIComponent('Solent ferry timetable')}`);
    await page.waitForSelector('#results li');
    const first = page.locator('#results li').first();
    expect(await first.textContent()).toContain('<script>window.__pwned = 1</script>');
    await first.locator('a.open').click();
    await page.waitForSelector('#cited');
    expect(await page.textContent('#doc-text')).toContain('<img src=x onerror="window.__pwned = 2">');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('#doc-text img, #results img, #doc-text script').count()).toBe(0);
  });

  it('searches within a publication-date range, kept in the URL', async () => {
    await page.goto(base);
    await page.fill('#q', 'devolution deal for Hampshire');
    await page.fill('#from', '2015');
    await page.fill('#to', '2021-06');
    await page.press('#q', 'Enter');
    await page.waitForSelector('#results li');
    const url = new URL(page.url());
    expect([url.searchParams.get('from'), url.searchParams.get('to')]).toEqual(['2015', '2021-06']);
    const dates = await page.locator('#results li .meta').evaluateAll((ps) => ps.map((p) => (p.textContent ?? '').split(' · ')[0]));
    expect(dates.length).toBeGreaterThan(0);
    for (const date of dates) expect(date >= '2015' && date <= '2021-06').toBe(true);
    expect(new Set(dates)).toEqual(new Set(['2015-08', '2021-06']));
    // The same search, shared by its URL, restores the range.
    await page.goto(`${base}/?q=elected%20mayor&from=2024`);
    await page.waitForSelector('#results li');
    expect(await page.inputValue('#from')).toBe('2024');
    expect(new Set(await page.locator('#results li .meta').evaluateAll((ps) => ps.map((p) => (p.textContent ?? '').split(' · ')[0])))).toEqual(new Set(['2024-10']));
  });

  it('lists the archive\'s documents with their dates, newest first, each opening the document', async () => {
    await page.goto(base);
    await page.waitForSelector('#doc-list li');
    const items = await page.locator('#doc-list li').allTextContents();
    expect(items).toHaveLength(6);
    expect(items.map((t) => t.split(' ')[0])).toEqual(['2024-10', '2021-06', '2015-08', '2013-10-03', '2012-03-04', 'undated']);
    expect(items[0]).toContain("Heart of Wessex");
    await page.locator('#doc-list li a').nth(2).click();
    await page.waitForSelector('#doc-text p');
    expect(await page.textContent('#doc-title')).toBe('Hampshire councils to push case for a combined authority');
    expect(await page.textContent('#doc-meta')).toMatch(/^2015-08/);
  });

  it('marks where each page of a PDF begins, and a cited page is the page marked before the citation', async () => {
    const docs: Array<{ id: string; source: string }> = await (await fetch(`${base}/api/docs`)).json();
    const { id } = docs.find((d) => d.source === 'bus-review.pdf')!;
    const doc = await (await fetch(`${base}/api/docs/${id}`)).json();
    expect(doc.pageStarts).toHaveLength(3);
    await page.goto(`${base}/?q=${encodeURIComponent('can a passenger change buses without paying twice')}&doc=${id}`);
    await page.waitForSelector('#results li');
    const hit = page.locator('#results li').filter({ hasText: 'change buses without paying twice' }).first();
    const cited = (await hit.locator('.meta').textContent())!.match(/bus-review\.pdf · (p\. \d+) ·/)![1];
    expect(cited).not.toBe('p. 1');
    await hit.locator('a.open').click();
    await page.waitForSelector('#cited');
    const markers = await page.locator('#doc-text .page').allTextContents();
    expect(markers).toEqual(['p. 1', 'p. 2', 'p. 3']);
    // Each marker sits right before its page's first words.
    const following = await page.locator('#doc-text .page').evaluateAll((spans) => spans.map((s) => (s.nextSibling?.textContent ?? '').slice(0, 12)));
    expect(following).toEqual(doc.pageStarts.map((start: number) => doc.text.slice(start, start + 12)));
    // The citation's page is the last marker before it.
    const pageOfCitation = await page.evaluate(() => {
      const cited = document.getElementById('cited')!;
      const before = [...document.querySelectorAll('#doc-text .page')].filter((m) => m.compareDocumentPosition(cited) & Node.DOCUMENT_POSITION_FOLLOWING);
      return before.at(-1)?.textContent;
    });
    expect(pageOfCitation).toBe(cited);
    // The text reads as the document's: the markers are not part of what a reader selects and copies.
    expect(await page.evaluate(() => getComputedStyle(document.querySelector('#doc-text .page')!).userSelect)).toBe('none');
  });

  it('draws the matches by year above the results, and a bar searches again within its year', async () => {
    await page.goto(`${base}/?q=Solent`);
    await page.waitForSelector('#timeline:not([hidden]) .bar');
    // The seeds name the Solent in 2015 (1 passage) and 2021 (10); hostile.txt, undated, once.
    const labels = await page.locator('#timeline .bar').evaluateAll((bars) => bars.map((b) => b.getAttribute('aria-label')));
    expect(labels).toEqual(['2015: 1 matching passage', ...['2016: 0', '2017: 0', '2018: 0', '2019: 0', '2020: 0', '2021: 10'].map((l) => `${l} matching passages`)]);
    expect(await page.textContent('#timeline-caption')).toMatch(/^12 matching passages by year of publication · undated: 1\./);
    // Bars are drawn to scale: the 2021 bar is ten times the 2015 one.
    const heights = await page.locator('#timeline .fill').evaluateAll((fills) => fills.map((f) => f.getBoundingClientRect().height));
    expect(heights[6] / heights[0]).toBeCloseTo(10, 0);
    await page.locator('#timeline .bar').nth(6).click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('from') === '2021');
    await page.waitForSelector('#results li');
    const url = new URL(page.url());
    expect([url.searchParams.get('q'), url.searchParams.get('from'), url.searchParams.get('to')]).toEqual(['Solent', '2021', '2021']);
    expect(new Set(await page.locator('#results li .meta').evaluateAll((ps) => ps.map((p) => (p.textContent ?? '').split(' · ')[0])))).toEqual(new Set(['2021-06']));
    // The timeline still shows every year, the chosen one marked.
    await page.waitForSelector('#timeline .bar.selected');
    await page.screenshot({ path: join(tempDir(), 'timeline.png') });
    expect(await page.locator('#timeline .bar').count()).toBe(7);
    expect(await page.locator('#timeline .bar.selected').getAttribute('aria-label')).toBe('2021: 10 matching passages');
  });

  it('draws the documents by year above the document list, and a bar lists only its year', async () => {
    await page.goto(base);
    await page.waitForSelector('#timeline:not([hidden]) .bar');
    expect(await page.textContent('#timeline-caption')).toMatch(/^6 documents by year of publication · undated: 1\./);
    const bars = page.locator('#timeline .bar');
    expect(await bars.count()).toBe(13); // 2012 to 2024
    await page.locator('#timeline .bar[aria-label="2015: 1 document"]').click();
    await page.waitForSelector('#browse-count button');
    expect(await page.locator('#doc-list li').allTextContents()).toEqual([expect.stringMatching(/^2015-08 Hampshire councils to push case/)]);
    expect(await page.textContent('#browse-count')).toMatch(/^1 document published in 2015\./);
    await page.click('#browse-count button');
    expect(await page.locator('#doc-list li').count()).toBe(6);
  });

  it('cites a result in the format chosen, copies it, and downloads the results as CSV', async () => {
    const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'], acceptDownloads: true });
    const tab = await context.newPage();
    try {
      await tab.goto(`${base}/?q=${encodeURIComponent('why did the 2016 bid fail')}`);
      await tab.waitForSelector('#results li');
      const first = tab.locator('#results li').first();
      const docId = new URL((await first.locator('a.open').getAttribute('href'))!, base).searchParams.get('view')!;
      await first.locator('.cite-box summary').click();
      await first.locator('.reference').filter({ hasText: /\(\d{4}/ }).waitFor();
      expect(await first.locator('.reference').textContent()).toBe(await (await fetch(`${base}/api/docs/${docId}/cite?format=text`)).text());
      await first.locator('.cite-box select').selectOption('bibtex');
      await first.locator('.reference').filter({ hasText: /^@/ }).waitFor();
      await first.locator('.cite-box button').click();
      await first.locator('.cite-box [role=status]').filter({ hasText: 'Copied.' }).waitFor();
      expect(await tab.evaluate(() => navigator.clipboard.readText())).toBe(await (await fetch(`${base}/api/docs/${docId}/cite?format=bibtex`)).text());
      // The answer has its own Cite.
      expect(await tab.locator('#answer-cite .cite-box summary').textContent()).toBe('Cite');

      const [download] = await Promise.all([tab.waitForEvent('download'), tab.click('text=Download CSV')]);
      expect(download.suggestedFilename()).toBe('search.csv');
      const rows: Array<Record<string, string>> = parse(readFileSync(await download.path()), { columns: true });
      expect(rows).toHaveLength(10);
      expect(rows[0].docId).toBe(docId);
      expect(rows.every((r) => r.query === 'why did the 2016 bid fail')).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('has no serious or critical accessibility violation (axe) in any view, and no failed request', async () => {
    const views: Array<[string, string, (p: Page) => Promise<unknown>]> = [
      ['document list', '/', (p) => p.waitForSelector('#doc-list li')],
      ['results with an answer (a Cite open)', `/?q=${encodeURIComponent('why did the 2016 bid fail')}`, async (p) => {
        await p.waitForSelector('#answer:not([hidden])');
        await p.locator('#results li .cite-box summary').first().click();
        await p.locator('#results li .reference').first().filter({ hasText: /\S/ }).waitFor();
      }],
      ['a question with no answer', `/?q=${encodeURIComponent('What is the population of Wiltshire?')}`, (p) => p.waitForSelector('#no-answer:not([hidden])')],
      ['document view', '/?view=001_004c609643dbb3e3&start=100&end=400', (p) => p.waitForSelector('#cited')],
    ];
    // axe needs pages of a context the test made.
    const [wide, narrow] = [await browser.newContext({ viewport: { width: 1000, height: 700 } }), await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true })];
    const table: string[] = [];
    try {
      for (const [tab, width] of [[await wide.newPage(), 1000], [await narrow.newPage(), 390]] as const) {
        for (const [name, path, ready] of views) {
          const failed: string[] = [];
          const onResponse = (r: { status(): number; url(): string }) => r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`);
          tab.on('response', onResponse);
          await tab.goto(base + path);
          await ready(tab);
          tab.off('response', onResponse);
          expect(failed, `${name} at ${width} px`).toEqual([]);
          const { violations } = await new AxeBuilder({ page: tab }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
          const byImpact = (impact: string) => violations.filter((v) => v.impact === impact);
          table.push(`| ${name} | ${width} px | ${['critical', 'serious', 'moderate', 'minor'].map((i) => byImpact(i).length).join(' | ')} | ${violations.map((v) => v.id).join(', ') || '-'} |`);
          expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`), `${name} at ${width} px`).toEqual([]);
        }
      }
    } finally {
      await Promise.all([wide.close(), narrow.close()]);
      console.log(['| view | width | critical | serious | moderate | minor | rules |', '| --- | --- | --- | --- | --- | --- | --- |', ...table].join('\n'));
    }
  });

  it('works by keyboard: "/" focuses the box, Escape clears it, Tab reaches every result link with a visible focus', async () => {
    await page.goto(`${base}/?q=${encodeURIComponent('why did the 2016 bid fail')}`);
    await page.waitForSelector('#results li');
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('q');
    expect(await page.inputValue('#q')).toBe('why did the 2016 bid fail'); // "/" is not typed into it
    await page.keyboard.press('Escape');
    expect(await page.inputValue('#q')).toBe('');
    // Tab from the box onwards: every result's "Open in document" link and every "Cite" are reached, each with a visible outline.
    const reached: Array<{ what: string; outline: string }> = [];
    for (let i = 0; i < 120 && reached.filter((r) => r.what === 'cite').length < 11; i++) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => {
        const e = document.activeElement as HTMLElement;
        const style = getComputedStyle(e);
        return { what: e.matches('#results a.open') ? 'a.open' : e.matches('.cite-box summary') ? 'cite' : e.tagName.toLowerCase(), outline: `${style.outlineStyle} ${style.outlineWidth}` };
      }));
    }
    expect(reached.filter((r) => r.what === 'a.open')).toHaveLength(10);
    expect(reached.filter((r) => r.what === 'cite')).toHaveLength(11); // the answer's and each result's
    for (const r of reached.filter((x) => x.what === 'a.open' || x.what === 'cite')) expect(r.outline).toBe('solid 3px');
  });

  it('fits a phone screen (390 px): nothing runs off to the side, on the results and the document list', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    try {
      for (const path of [`/?q=${encodeURIComponent('why did the 2016 bid fail')}`, '/']) {
        await phone.goto(base + path);
        await phone.waitForSelector(path === '/' ? '#doc-list li' : '#results li');
        expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
        for (const selector of ['#q', '#doc', '#from', '#to', 'button[type=submit]']) {
          const box = (await phone.locator(selector).boundingBox())!;
          expect(box.x, selector).toBeGreaterThanOrEqual(0);
          expect(box.x + box.width, selector).toBeLessThanOrEqual(390);
        }
      }
      await phone.screenshot({ path: join(tempDir(), 'phone.png') });
    } finally {
      await phone.close();
    }
  });

  it('says plainly when the archive has no answer, and still lists the passages', async () => {
    await page.goto(`${base}/?q=${encodeURIComponent('What is the population of Wiltshire?')}`);
    await page.waitForSelector('#results li');
    expect(await page.isVisible('#answer')).toBe(false);
    expect(await page.textContent('#no-answer')).toMatch(/does not seem to hold an answer/);
    expect(await page.isVisible('#no-answer')).toBe(true);
    expect(await page.locator('#results li').count()).toBe(10);
    // A question it can answer shows the answer with its confidence in words, and no such note.
    await page.fill('#q', 'who started the Hampshire Senate');
    await page.press('#q', 'Enter');
    await page.waitForSelector('#answer:not([hidden])');
    expect(await page.isVisible('#no-answer')).toBe(false);
    expect(await page.textContent('#answer-text')).toMatch(/Ken Thornber/);
    // The fact first, in bold, the sentence under it; a why question has no such line.
    expect(await page.textContent('#answer-short')).toBe('Ken Thornber');
    expect(await page.evaluate(() => getComputedStyle(document.getElementById('answer-short')!).fontWeight)).toBe('700');
    expect(await page.evaluate(() => document.getElementById('answer-short')!.compareDocumentPosition(document.getElementById('answer-text')!) & Node.DOCUMENT_POSITION_FOLLOWING)).toBeTruthy();
    await page.fill('#q', 'why did the 2016 bid fail');
    await page.press('#q', 'Enter');
    await page.waitForFunction(() => !document.getElementById('answer')!.hidden && document.getElementById('answer-text')!.textContent !== '' && !/Thornber/.test(document.getElementById('answer-text')!.textContent!));
    expect(await page.isVisible('#answer-short')).toBe(false);
    // A why question lists more sentences judged to answer, each openable in its document.
    expect(await page.isVisible('#answer-evidence')).toBe(true);
    const evidence = await page.locator('#evidence-list li').allTextContents();
    expect(evidence.some((t) => t.includes('In 2016, proposals for a separate, combined Solent Authority'))).toBe(true);
    expect(await page.locator('#evidence-list li a.open').count()).toBe(evidence.length);
  });
});

