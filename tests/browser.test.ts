import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/serve/app.js';
import { copyOfSeeds, seedArchive, tempDir } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HOSTILE = 'Hostile page about the Solent ferry timetable. <script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2"> The ferry timetable changes in spring.';

let server: ServerType;
let base: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const corpus = copyOfSeeds();
  writeFileSync(join(corpus, 'hostile.txt'), HOSTILE);
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
    const titles = await page.locator('#results li h3').allTextContents();
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
    expect(items).toHaveLength(5);
    expect(items.map((t) => t.split(' ')[0])).toEqual(['2024-10', '2021-06', '2015-08', '2013-10-03', 'undated']);
    expect(items[0]).toContain("Heart of Wessex");
    await page.locator('#doc-list li a').nth(2).click();
    await page.waitForSelector('#doc-text p');
    expect(await page.textContent('#doc-title')).toBe('Hampshire councils to push case for a combined authority');
    expect(await page.textContent('#doc-meta')).toMatch(/^2015-08/);
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
  });
});

