import { stringify } from 'csv-stringify/sync';
import type { SearchResponse } from '../types.js';

/**
 * What `batch` writes for a query, and what the page's Download gives: a search response trimmed
 * to the documented fields.
 */
export function searchRecord(id: string | number | null, response: SearchResponse) {
  return {
    id,
    query: response.query,
    answer: response.answer,
    results: response.results.map((r) => ({ rank: r.rank, score: r.score, docId: r.docId, source: r.source, title: r.title, date: r.date, page: r.page, start: r.start, end: r.end, section: r.section, text: r.text, sentence: r.sentence })),
    index: response.index,
  };
}

export type SearchRecord = ReturnType<typeof searchRecord>;

/** A query that could not be answered (a bad input line, a failed search), as batch reports it. */
export interface FailedRecord {
  id: string | number | null;
  error: { code: string; message: string };
  index: string;
}

/** The CSV columns: one row per passage, the query and its answer repeated on each (a spreadsheet filters and sorts rows). */
export const CSV_COLUMNS = ['id', 'query', 'answer', 'answerShort', 'answerScore', 'answerDocId', 'answerPage', 'rank', 'score', 'docId', 'source', 'title', 'date', 'page', 'start', 'end', 'section', 'sentence', 'text', 'error', 'index'] as const;

/**
 * Records as CSV rows (RFC 4180, by csv-stringify), with the header row first when `header`: a
 * query without passages, or one that failed, is one row with the columns it has.
 */
export function recordsCsv(records: Array<SearchRecord | FailedRecord>, header = true): string {
  const rows = records.flatMap((r): Array<Record<string, unknown>> => {
    if ('error' in r) return [{ id: r.id, error: `${r.error.code}: ${r.error.message}`, index: r.index }];
    const asked = { id: r.id, query: r.query, answer: r.answer?.text ?? null, answerShort: r.answer?.short?.text ?? null, answerScore: r.answer?.score ?? null, answerDocId: r.answer?.citation.docId ?? null, answerPage: r.answer?.citation.page ?? null, index: r.index };
    return r.results.length ? r.results.map((p) => ({ ...asked, ...p, sentence: p.sentence.text })) : [asked];
  });
  return stringify(rows, { header, columns: [...CSV_COLUMNS] });
}
