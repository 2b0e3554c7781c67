import { describe, expect, it } from 'vitest';
import { extractFile } from '../src/ingest/formats.js';
import { COUNCIL_PAGE_DOCUMENTS, makeCouncilPageHtml, makeNewsHtml } from './fixtures/documents.js';

describe('a council web page', () => {
  it('keeps its list of documents and its headings, drops navigation and footer, and is dated by "last updated"', async () => {
    const page = await extractFile('evidence.html', new TextEncoder().encode(makeCouncilPageHtml()));
    // Readability takes the <h1> for the page's title and the documents' block for related links; the list comes back.
    expect(page.text.split('\n\n')).toEqual([
      'The evidence base supports the Local Plan submitted for examination. Each document below was published alongside the plan and can be read by anyone with an interest in it.',
      'Appraisal documents',
      ...COUNCIL_PAGE_DOCUMENTS,
    ]);
    expect(page.date).toBe('2022-07-04');
    expect(page.headings!.map((h) => [page.text.slice(h.start, h.end), h.level])).toEqual([['Appraisal documents', 2]]);
  });

  it('still dates a news page by its meta tags and keeps no links that are not documents', async () => {
    const news = await extractFile('news.html', new TextEncoder().encode(makeNewsHtml()));
    expect(news.date).toBe('2023-05-09');
    for (const chrome of ['Home', 'Sport', 'Weather']) expect(news.text).not.toContain(chrome);
  });
});
