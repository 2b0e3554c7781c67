import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Archive } from '../src/archive.js';
import { Cite } from '@citation-js/core';
import '@citation-js/plugin-bibtex';
import '@citation-js/plugin-ris';
import { parse } from 'csv-parse/sync';
import { createApp } from '../src/serve/app.js';
import { seedArchive } from './helpers.js';

let archive: Archive;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  archive = await seedArchive();
  app = createApp(archive);
});

const post = (path: string, body: string, type = 'application/json') => app.request(path, { method: 'POST', body, headers: { 'content-type': type } });

describe('the HTTP API', () => {
  it('searches by GET and POST with the same answer', async () => {
    const get = await app.request('/api/search?q=why%20did%20the%202016%20bid%20fail&k=3');
    expect(get.status).toBe(200);
    const viaGet = await get.json();
    const viaPost = await (await post('/api/search', JSON.stringify({ q: 'why did the 2016 bid fail', k: 3 }))).json();
    expect(viaPost).toEqual(viaGet);
    expect(viaGet.results).toHaveLength(3);
    expect(viaGet.index).toBe(archive.index.manifest.id);
    expect(viaGet.results[0]).toHaveProperty('sentence.start');
  });

  it('filters by doc (repeated or comma-separated) and by date', async () => {
    const a = await (await app.request('/api/search?q=mayor&doc=002_d7df6b83d73dff84&doc=000_2f8a857afa737480')).json();
    const b = await (await app.request('/api/search?q=mayor&doc=002_d7df6b83d73dff84,000_2f8a857afa737480')).json();
    expect(a).toEqual(b);
    expect(new Set(a.results.map((r: { docId: string }) => r.docId))).toEqual(new Set(['002_d7df6b83d73dff84', '000_2f8a857afa737480']));
    const dated = await (await app.request('/api/search?q=partnership&from=2013-01&to=2013-12')).json();
    expect(new Set(dated.results.map((r: { date: string }) => r.date))).toEqual(new Set(['2013-10-03']));
  });

  it('answers a batch in order, up to 100 queries', async () => {
    const res = await post('/api/batch', JSON.stringify({ queries: [{ id: 'a', q: 'Heart of Wessex' }, { q: 'Hampshire Senate' }], k: 2 }));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.results.map((r: { id: unknown; query: string }) => [r.id, r.query])).toEqual([['a', 'Heart of Wessex'], [null, 'Hampshire Senate']]);
    expect(body.results[0].results).toHaveLength(2);
  });

  it('serves documents, the list, health and an OpenAPI description', async () => {
    const doc = await (await app.request('/api/docs/003_b19f9eb657466ce4')).json();
    expect(doc).toMatchObject({ id: '003_b19f9eb657466ce4', date: '2013-10-03', source: '003_b19f9eb657466ce4.txt' });
    expect(doc.text).toBe(archive.document('003_b19f9eb657466ce4')!.text);
    const list = await (await app.request('/api/docs')).json();
    expect(list.map((d: { id: string }) => d.id)).toHaveLength(4);
    expect(await (await app.request('/api/health')).json()).toMatchObject({ status: 'ok', documents: 4, index: archive.index.manifest.id, reranker: 'answer-reader' });
    const spec = await (await app.request('/api/openapi.json')).json();
    expect(Object.keys(spec.paths).sort()).toEqual(['/api/batch', '/api/docs', '/api/docs/{docId}', '/api/docs/{docId}/cite', '/api/export', '/api/health', '/api/reindex', '/api/search', '/api/timeline']);
    expect(spec.paths['/api/search'].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['doc', 'from', 'k', 'q', 'to']);
  });

  it("puts the query's timeline in a search, not in a batch, and the documents' at /api/timeline", async () => {
    const searched = await (await app.request('/api/search?q=Solent&k=2')).json();
    expect(searched.timeline).toEqual((await archive.search('Solent', { k: 2, timeline: true })).timeline);
    expect(searched.timeline.periods.map((p: { count: number }) => p.count).reduce((a: number, b: number) => a + b)).toBe(11);
    const posted = await (await post('/api/search', JSON.stringify({ q: 'Solent', k: 2 }))).json();
    expect(posted.timeline).toEqual(searched.timeline);
    const batch = await (await post('/api/batch', JSON.stringify({ queries: [{ q: 'Solent' }], k: 2 }))).json();
    expect(batch.results[0]).not.toHaveProperty('timeline');
    // The four seed documents, by year: 2013, 2015, 2021 and 2024 (2024-10), with the years between.
    const documents = await (await app.request('/api/timeline')).json();
    expect(documents.unit).toBe('year');
    expect(documents.undated).toBe(0);
    expect(documents.periods.filter((p: { count: number }) => p.count > 0)).toEqual(['2013', '2015', '2021', '2024'].map((period) => ({ period, count: 1 })));
    expect(documents.periods.map((p: { period: string }) => p.period)).toEqual(Array.from({ length: 12 }, (_, i) => String(2013 + i)));
  });

  it('cites every seed document in BibTeX and RIS that parse back to the same title and date, and in CSL-JSON and APA text', async () => {
    for (const doc of archive.documents()) {
      const date = doc.date!.split('-').map(Number);
      for (const format of ['bibtex', 'ris'] as const) {
        const res = await app.request(`/api/docs/${doc.id}/cite?format=${format}`);
        expect(res.status).toBe(200);
        const [back] = new Cite(await res.text()).data;
        expect(back.title, `${doc.source} ${format}`).toBe(doc.title);
        expect(back.issued, `${doc.source} ${format}`).toEqual({ 'date-parts': [date] });
        expect(back.publisher ?? null).toBe(doc.publisher);
      }
      const csl = await app.request(`/api/docs/${doc.id}/cite?format=csl`);
      expect(csl.headers.get('content-type')).toMatch(/^application\/vnd\.citationstyles\.csl\+json/);
      expect(await csl.json()).toEqual([expect.objectContaining({ id: doc.id, title: doc.title, issued: { 'date-parts': [date] } })]);
      const text = await (await app.request(`/api/docs/${doc.id}/cite`)).text();
      expect(text).toContain(`(${date[0]}`);
      // APA sets quotation marks its own way: compare the words.
      const words = (t: string) => t.replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
      expect(words(text)).toContain(words(doc.title));
    }
    expect((await app.request('/api/docs/nope/cite?format=ris')).status).toBe(404);
  });

  it('downloads a search as CSV (one row per passage) and as the JSON record batch writes', async () => {
    const csv = await app.request('/api/export?q=why%20did%20the%202016%20bid%20fail&k=3&format=csv');
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="search.csv"');
    const rows: Array<Record<string, string>> = parse(await csv.text(), { columns: true });
    const searched = await archive.search('why did the 2016 bid fail', { k: 3 });
    expect(rows.map((r) => [r.rank, r.docId, r.start, r.end, r.text, r.sentence, r.answer])).toEqual(searched.results.map((r) => [String(r.rank), r.docId, String(r.start), String(r.end), r.text, r.sentence.text, searched.answer?.text ?? '']));
    const fact = parse(await (await app.request(`/api/export?q=${encodeURIComponent('Who started the Hampshire Senate?')}&format=csv`)).text(), { columns: true }) as Array<Record<string, string>>;
    expect(new Set(fact.map((r) => r.answerShort))).toEqual(new Set(['Ken Thornber']));
    const json = await (await app.request('/api/export?q=why%20did%20the%202016%20bid%20fail&k=3&format=json')).json();
    expect(Object.keys(json)).toEqual(['id', 'query', 'answer', 'results', 'index']);
    expect(json.results.map((r: { docId: string; start: number }) => [r.docId, r.start])).toEqual(searched.results.map((r) => [r.docId, r.start]));
  });

  const bad: Array<[string, () => Response | Promise<Response>, number, RegExp]> = [
    ['unknown citation format', () => app.request('/api/docs/003_b19f9eb657466ce4/cite?format=mla'), 400, /format:/],
    ['export without a query', () => app.request('/api/export?format=csv'), 400, /q:/],
    ['unknown export format', () => app.request('/api/export?q=a&format=xml'), 400, /format:/],
    ['empty query', () => app.request('/api/search?q='), 400, /q: must not be empty/],
    ['whitespace query', () => app.request('/api/search?q=%20%20%20'), 400, /q: must not be empty/],
    ['missing query', () => app.request('/api/search'), 400, /q:/],
    ['k of 0', () => app.request('/api/search?q=a&k=0'), 400, /k:/],
    ['k of -1', () => app.request('/api/search?q=a&k=-1'), 400, /k:/],
    ['huge k', () => app.request('/api/search?q=a&k=1000000000'), 400, /k:/],
    ['k not a number', () => app.request('/api/search?q=a&k=abc'), 400, /k:/],
    ['fractional k', () => app.request('/api/search?q=a&k=2.5'), 400, /k: must be a whole number/],
    ['unknown parameter', () => app.request('/api/search?q=a&colour=red'), 400, /colour/],
    ['bad date', () => app.request('/api/search?q=a&from=June%202021'), 400, /from: must be an ISO date/],
    ['from after to', () => app.request('/api/search?q=a&from=2022&to=2021'), 400, /"from" must not be after "to"/],
    ['query too long', () => app.request(`/api/search?q=${'a'.repeat(10_000)}`), 400, /at most 2000 characters/],
    ['control characters', () => app.request('/api/search?q=a%00b'), 400, /control characters/],
    ['malformed JSON', () => post('/api/search', '{"q": "a"'), 400, /Malformed JSON/],
    ['wrong content type', () => post('/api/search', 'q=a', 'application/x-www-form-urlencoded'), 415, /Content-Type: application\/json/],
    ['body not an object', () => post('/api/search', '[1,2]'), 400, /invalid_request|expected object/],
    ['k as a string in JSON', () => post('/api/search', '{"q":"a","k":"5"}'), 400, /k:/],
    ['batch of 101', () => post('/api/batch', JSON.stringify({ queries: Array.from({ length: 101 }, () => ({ q: 'a' })) })), 400, /at most 100 queries/],
    ['empty batch', () => post('/api/batch', '{"queries":[]}'), 400, /at least one query/],
    ['oversized body', () => post('/api/search', JSON.stringify({ q: 'x'.repeat(2 * 1024 * 1024) })), 413, /at most 1048576 bytes/],
    ['unknown document', () => app.request('/api/docs/nope'), 404, /No document with id "nope"/],
    ['path-like document id', () => app.request('/api/docs/..%2F..%2Fetc%2Fpasswd'), 404, /No document with id/],
    ['unknown document filter', () => app.request('/api/search?q=a&doc=nope'), 404, /Unknown document id\(s\): nope/],
    ['unknown route', () => app.request('/api/nothing'), 404, /No route for GET \/api\/nothing/],
    ['k of 10^9 in JSON', () => post('/api/search', '{"q":"a","k":1000000000}'), 400, /k:/],
    ['k of 0 in a batch', () => post('/api/batch', '{"queries":[{"q":"a"}],"k":0}'), 400, /k:/],
    ['unknown JSON field', () => post('/api/search', '{"q":"a","colour":"red"}'), 400, /colour/],
    ['10,000-character query in JSON', () => post('/api/search', JSON.stringify({ q: 'why '.repeat(2500) })), 400, /at most 2000 characters/],
    ['control character in JSON query', () => post('/api/search', JSON.stringify({ q: 'bid\u0007fail' })), 400, /control characters/],
    ['invalid UTF-8 in the query string', () => app.request('/api/search?q=%FF%FEbid'), 400, /control characters or invalid UTF-8/],
    ['invalid UTF-8 in a JSON body', () => app.request('/api/search', { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from([0x7b, 0x22, 0x71, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) }), 400, /invalid UTF-8/],
    ['5 MB body', () => post('/api/batch', JSON.stringify({ queries: [{ q: 'x'.repeat(5 * 1024 * 1024) }] })), 413, /at most 1048576 bytes/],
    ['no content type', () => app.request('/api/search', { method: 'POST', body: '{"q":"a"}' }), 415, /Content-Type: application\/json/],
    ['URL-encoded path-like id', () => app.request('/api/docs/%2e%2e%2f%2e%2e%2fetc%2fpasswd'), 404, /No document with id/],
    ['double-encoded path-like id', () => app.request('/api/docs/%252e%252e%252fetc%252fpasswd'), 404, /No document with id/],
    ['raw path-like id', () => app.request('/api/docs/../../etc/passwd'), 404, /No route for GET/],
    ['backslash path-like id', () => app.request('/api/docs/..%5C..%5Cwindows%5Cwin.ini'), 404, /No document with id/],
    ['path-like document filter', () => app.request('/api/search?q=a&doc=../../etc/passwd'), 404, /Unknown document id/],
    ['reindex when it is off', () => app.request('/api/reindex', { method: 'POST' }), 404, /Reindexing over HTTP is off/],
  ];
  it.each(bad.map(([name, ...rest]) => [`${name}: ${rest[1]}`, ...rest] as const))('%s', async (_name, request, status, message) => {
    const res = await request();
    expect(res.status).toBe(status);
    const body = await res.json();
    expect(Object.keys(body)).toEqual(['error']);
    expect(typeof body.error.code).toBe('string');
    expect(body.error.message).toMatch(message);
  });

  it('sends security headers with the page', async () => {
    const res = await app.request('/');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toContain('<form id="search"');
  });
});

describe('the search queue', () => {
  /**
   * The archive with its search counted (how many run at once, at most) and made to wait 20 ms on a
   * timer first, as a search waits on a database store's I/O: the embedded store's search never
   * yields mid-way, so without a wait no two could overlap, queue or not.
   */
  function counted(limit: number) {
    const base = archive.withConfig({ ...archive.config, server: { ...archive.config.server, concurrentSearches: limit } });
    const seen = { running: 0, most: 0 };
    const search: Archive['search'] = async (query, options) => {
      seen.most = Math.max(seen.most, ++seen.running);
      try {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return await base.search(query, options);
      } finally {
        seen.running--;
      }
    };
    return { app: createApp({ ...base, search }), seen };
  }

  it('runs server.concurrentSearches searches at a time, and answers every request', async () => {
    for (const limit of [1, 3]) {
      const { app, seen } = counted(limit);
      // Distinct queries, so no answer comes from a cache.
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => app.request(`/api/search?q=${encodeURIComponent(`council ${i} devolution deal for the Solent`)}&k=5`)));
      expect(answers.map((r) => r.status)).toEqual(Array(12).fill(200));
      expect(seen.most).toBe(limit);
    }
  });
});

describe('the real server on a port', () => {
  let server: ServerType;
  let base: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers the 2016 question over HTTP with the Solent passage in the top 3', async () => {
    const res = await fetch(`${base}/api/search?q=${encodeURIComponent('why did the 2016 bid fail')}`);
    const body = await res.json();
    const top3 = body.results.slice(0, 3);
    const solent = top3.find((r: { text: string }) => r.text.includes('combined Solent Authority') && r.text.includes('turned down by Westminster'));
    expect(solent).toBeDefined();
    expect(solent.source).toBe('001_004c609643dbb3e3.txt');
    expect(solent.title).toMatch(/Collaboration and Devolution in the central South/);
    expect(archive.document(solent.docId)!.publisher).toBe('Southern Policy Centre');
    expect(solent.text).toContain('stalled after councils refused the government’s recommendation of having a directly elected Mayor');
  });

  it('keeps serving after bad requests', async () => {
    for (const path of ['/api/search?q=', '/api/search?k=abc', '/api/docs/%2e%2e']) expect((await fetch(base + path)).status).toBeLessThan(500);
    const raw = await fetch(`${base}/api/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from([0x7b, 0x22, 0x71, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) });
    expect(raw.status).toBe(400);
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
  });
});
