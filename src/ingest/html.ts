import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { cleanText } from './clean.js';
import type { ExtractedText, Heading } from './extracted.js';
import { keyedDate } from './metadata.js';

const BLOCKS = 'h1, h2, h3, h4, h5, h6, p, li, blockquote, pre, td, th, figcaption, dt, dd';
const HEADING = /^H([1-6])$/;
/** Where a page keeps what is not its content. */
const CHROME = 'nav, header, footer, aside, form, [role="navigation"], [role="banner"], [role="contentinfo"], [aria-hidden="true"]';
const DOCUMENT_LINK = /\.(pdf|docx?|xlsx?|odt|ods|csv|pptx?|rtf|zip)([?#]|$)/i;

/** An element's text with its whitespace collapsed, as a reader sees it. */
const textOf = (el: Element) => (el.textContent ?? '').replace(/\s+/g, ' ').trim();

interface Paragraph {
  text: string;
  /** Heading level, for h1 to h6. */
  level?: number;
}

/**
 * The article of a web page (Readability drops navigation, ads, footers), one paragraph per block,
 * its headings from the markup; lists of documents (a downloads list, which Readability takes for
 * links to drop) kept; the date from meta tags, then a <time>, then "last updated" in the page.
 */
export async function extractHtml(html: string): Promise<ExtractedText> {
  const { document } = parseHTML(html);
  const meta = (selector: string) => document.querySelector(selector)?.getAttribute('content')?.trim() || undefined;
  const title = meta('meta[property="og:title"]') ?? document.querySelector('title')?.textContent?.trim() ?? undefined;
  const published =
    meta('meta[property="article:published_time"]') ?? meta('meta[name="date"]') ?? meta('meta[name="dc.date"]') ?? document.querySelector('time[datetime]')?.getAttribute('datetime') ?? undefined;
  // Without a date in the markup, one the page states in short pieces of it, footer included
  // ("Page last updated: 04 July 2022"), read before Readability changes the document.
  const markupDate = published?.match(/^\d{4}(-\d{2}(-\d{2})?)?/)?.[0];
  const stated = markupDate ? null : keyedDate([...document.querySelectorAll('p, div, span, li, dd, td, small, time')].map(textOf).filter((l) => l && l.length <= 200));
  const downloads = documentLists(document as unknown as ParentNode);
  // Readability changes the document it reads: everything above is taken first.
  const article = new Readability(document as unknown as Document).parse();
  const { document: body } = parseHTML(`<!doctype html><html><body>${article?.content ?? ''}</body></html>`);
  const paragraphs: Paragraph[] = [...body.querySelectorAll(BLOCKS)]
    // A block inside another block (a <p> in a <li>) is read with its parent.
    .filter((el) => !el.parentElement?.closest(BLOCKS))
    .map((el) => ({ text: textOf(el), level: Number(el.tagName.match(HEADING)?.[1]) || undefined }))
    .filter((p) => p.text);
  const kept = new Set(paragraphs.map((p) => p.text));
  for (const list of downloads) {
    const missing = list.items.filter((item) => !kept.has(item));
    if (!missing.length) continue;
    if (list.heading && !kept.has(list.heading)) paragraphs.push({ text: list.heading, level: list.level });
    paragraphs.push(...missing.map((text) => ({ text })));
  }
  const text = cleanText(paragraphs.length ? paragraphs.map((p) => p.text).join('\n\n') : (article?.textContent ?? ''));
  const date = markupDate ?? stated ?? undefined;
  return { text, title: title || article?.title || undefined, date, headings: locateHeadings(text, paragraphs) };
}

/**
 * Lists (and tables) outside the page's chrome whose entries mostly link to documents (PDF, Word,
 * spreadsheets), with the heading before each: a council's "documents" section.
 */
function documentLists(root: ParentNode): Array<{ heading?: string; level?: number; items: string[] }> {
  const lists: Array<{ heading?: string; level?: number; items: string[] }> = [];
  for (const list of root.querySelectorAll('ul, ol, table')) {
    if (list.closest(CHROME) || list.parentElement?.closest('ul, ol, table')) continue;
    const entries = [...list.querySelectorAll(list.tagName === 'TABLE' ? 'tr' : 'li')];
    const linked = entries.filter((e) => [...e.querySelectorAll('a[href]')].some((a) => DOCUMENT_LINK.test(a.getAttribute('href') ?? '')));
    if (entries.length < 2 || linked.length < 0.5 * entries.length) continue;
    let heading: Element | null = null;
    for (let at: Element | null = list; at && !heading; at = at.parentElement) {
      for (let sibling = at.previousElementSibling; sibling && !heading; sibling = sibling.previousElementSibling) {
        heading = HEADING.test(sibling.tagName) ? sibling : sibling.querySelector('h1, h2, h3, h4, h5, h6');
      }
    }
    lists.push({ heading: heading ? textOf(heading) : undefined, level: heading ? Number(heading.tagName.slice(1)) : undefined, items: entries.map(textOf).filter(Boolean) });
  }
  return lists;
}

/** Each heading paragraph's span in the cleaned text, found in order. */
function locateHeadings(text: string, paragraphs: Paragraph[]): Heading[] {
  const headings: Heading[] = [];
  let from = 0;
  for (const p of paragraphs) {
    const at = text.indexOf(p.text, from);
    if (at < 0) continue;
    from = at + p.text.length;
    if (p.level && (at === 0 || text[at - 1] === '\n')) headings.push({ start: at, end: from, level: p.level });
  }
  return headings;
}
