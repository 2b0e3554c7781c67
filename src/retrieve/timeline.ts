import type { ArchiveIndex } from '../index/index.js';
import type { SearchFilters, Timeline } from '../types.js';
import { allowedDocuments } from './index.js';

/**
 * A passage matches a query, for the timeline, when its BM25 is at least this share of the best
 * passage's: it holds the query's weighty words, not merely one common one of them.
 */
export const TIMELINE_MATCH_SHARE = 0.5;

const nextMonth = (period: string) => {
  const [y, m] = period.split('-').map(Number);
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
};

/** How many of the items, given by their dates (ISO at any precision, or null), fall in each period. */
export function timelineOf(dates: Array<string | null | undefined>): Timeline {
  const dated = dates.filter((d): d is string => !!d);
  const years = dated.map((d) => Number(d.slice(0, 4)));
  const unit = dated.length > 0 && dated.every((d) => d.length >= 7) && Math.max(...years) - Math.min(...years) <= 1 ? 'month' : 'year';
  const periodOf = (d: string) => d.slice(0, unit === 'month' ? 7 : 4);
  const counts = new Map<string, number>();
  for (const d of dated) counts.set(periodOf(d), (counts.get(periodOf(d)) ?? 0) + 1);
  const periods: Timeline['periods'] = [];
  if (counts.size) {
    const sorted = [...counts.keys()].sort();
    const last = sorted.at(-1)!;
    for (let p = sorted[0]; p <= last; p = unit === 'month' ? nextMonth(p) : String(Number(p) + 1)) periods.push({ period: p, count: counts.get(p) ?? 0 });
  }
  return { unit, periods, undated: dates.length - dated.length };
}

/**
 * The query's matches over time: every passage whose BM25 is at least TIMELINE_MATCH_SHARE of the
 * best one's (in the whole archive, or in the documents the search is filtered to), counted by its
 * document's publication period. A date range does not narrow it: the timeline shows the range among
 * the rest.
 */
export async function passageTimeline(index: ArchiveIndex, query: string, filters: SearchFilters = {}): Promise<Timeline> {
  const matches = await index.store.matching(query, TIMELINE_MATCH_SHARE, allowedDocuments(index, { docIds: filters.docIds }));
  return timelineOf(matches.map((chunk) => index.documents.get(index.chunks[chunk].docId)!.date));
}
