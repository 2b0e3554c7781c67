import { Cite } from '@citation-js/core';
import '@citation-js/plugin-bibtex';
import '@citation-js/plugin-csl';
import '@citation-js/plugin-ris';
import { z } from '@hono/zod-openapi';
import type { SourceDocument } from '../types.js';

export const CITE_FORMATS = ['bibtex', 'ris', 'csl', 'text'] as const;
export const CiteFormat = z.enum(CITE_FORMATS);
export type CiteFormat = z.infer<typeof CiteFormat>;

/** A reference manager's content type for each format (text is a formatted reference to paste). */
const CONTENT_TYPES: Record<CiteFormat, string> = {
  bibtex: 'application/x-bibtex; charset=utf-8',
  ris: 'application/x-research-info-systems; charset=utf-8',
  csl: 'application/vnd.citationstyles.csl+json; charset=utf-8',
  text: 'text/plain; charset=utf-8',
};

const EXTENSIONS: Record<CiteFormat, string> = { bibtex: 'bib', ris: 'ris', csl: 'json', text: 'txt' };

/**
 * The document as a CSL-JSON item, from what the archive knows of it (the catalog, or what was read
 * from the file): title, publisher, date at its precision, URL. A PDF is cited as a report, a web
 * page as a web page, anything else as a document; the archive holds no authors today.
 */
export function cslItem(doc: SourceDocument) {
  const ext = doc.source.toLowerCase().split('.').pop();
  const type = ext === 'pdf' ? 'report' : ext === 'html' || ext === 'htm' ? 'webpage' : 'document';
  return {
    id: doc.id,
    type,
    title: doc.title,
    ...(doc.publisher ? { publisher: doc.publisher } : {}),
    ...(doc.date ? { issued: { 'date-parts': [doc.date.split('-').map(Number)] } } : {}),
    ...(doc.url ? { URL: doc.url } : {}),
  };
}

/** A reference to the document in `format`, built by Citation.js (`text` is APA). */
export function citeDocument(doc: SourceDocument, format: CiteFormat): { body: string; contentType: string; filename: string } {
  const cite = new Cite(cslItem(doc));
  const body = format === 'text' ? cite.format('bibliography', { format: 'text', template: 'apa', lang: 'en-US' }) : cite.format(format === 'csl' ? 'data' : format, { format: 'text' });
  return { body, contentType: CONTENT_TYPES[format], filename: `${doc.id}.${EXTENSIONS[format]}` };
}
