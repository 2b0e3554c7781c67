import { lineText, type Line } from './geometry.js';

/**
 * What stands on a page but is not its text: running headers and footers, page numbers, and
 * footnotes (kept, but apart from the body they would otherwise be spliced into).
 */

/** A line's shape: lower case, numbers as "#", so "Page 3 of 44" and "Page 4 of 44" are one line. */
const shape = (text: string) =>
  text
    .toLowerCase()
    .replace(/\d+/g, '#')
    // Front matter numbers its pages in roman numerals.
    .replace(/(^|\s)[ivxl]{1,6}$/, '$1#')
    .replace(/^[ivxl]{1,6}(\s|$)/, '#$1')
    .replace(/\s+/g, ' ')
    .trim();

const PAGE_NUMBER = /^(page )?#( of #)?$|^# ?\| ?page$|^page ?\| ?#$|^[-–] ?# ?[-–]$|^#\/#$/;

/** Lines near a page's top or bottom edge: the first and last three within a fifth of the page. */
function edgeLines(lines: Line[], height: number): Line[] {
  const top = lines.slice(0, 3).filter((l) => l.y >= 0.8 * height);
  const bottom = lines.slice(-3).filter((l) => l.y <= 0.2 * height);
  return [...new Set([...top, ...bottom])];
}

/**
 * Running headers and footers of a document: lines at a page's edge whose shape recurs at the
 * edge of three or more pages (of all pages but one, for a document of two to four), and lone
 * page numbers. Returns each page's lines to drop.
 */
export function findFurniture(pages: Array<{ lines: Line[]; height: number }>): Array<Set<Line>> {
  const text = (l: Line) => lineText(l, () => false);
  const pagesWith = new Map<string, number>();
  const edges = pages.map((p) => edgeLines(p.lines, p.height));
  for (const lines of edges) for (const s of new Set(lines.map((l) => shape(text(l))))) pagesWith.set(s, (pagesWith.get(s) ?? 0) + 1);
  const repeated = (s: string) => {
    const n = pagesWith.get(s) ?? 0;
    // A short document's cover has none: every page but one is enough there.
    return n >= 3 || (pages.length <= 4 && n >= 2 && n >= pages.length - 1);
  };
  return edges.map((lines) => new Set(lines.filter((l) => PAGE_NUMBER.test(shape(text(l))) || (repeated(shape(text(l))) && /[\p{L}\d]/u.test(text(l))))));
}

export interface Footnote {
  marker: string;
  lines: Line[];
}

const MARKER = /^(\d{1,3}|[*†‡§])$/;

/**
 * Footnotes: the lines at the foot of a page that open with a marker (a number or *, often
 * raised) and are set smaller than the body (at most 92% of its size), or, in body type, open
 * with the markers the page's text refers to. Returns the notes and the lines they take.
 */
export function findFootnotes(lines: Line[], bodySize: number, height: number): { notes: Footnote[]; lines: Set<Line> } {
  const markerOf = (line: Line): string | null => {
    const first = line.runs[0];
    if (first.sup && MARKER.test(first.text.trim())) return first.text.trim();
    const m = lineText(line, () => false).match(/^(\d{1,3}|[*†‡§])(\s|$)/);
    return m ? m[1] : null;
  };
  let start = lines.length;
  while (start > 0 && lines[start - 1].size <= 0.92 * bodySize && lines[start - 1].y <= 0.6 * height) start--;
  // Small print without a marker (a source line, a caption) stays in the text.
  while (start < lines.length && markerOf(lines[start]) === null) start++;
  if (start === lines.length) start = notesInBodyType(lines, markerOf, height);
  const notes: Footnote[] = [];
  for (const line of lines.slice(start)) {
    const marker = markerOf(line);
    if (marker !== null) notes.push({ marker, lines: [line] });
    else notes[notes.length - 1].lines.push(line);
  }
  return { notes, lines: new Set(lines.slice(start)) };
}

/** Where notes set in body type begin: the first low line opening with a marker the text above refers to, the rest following in order. */
function notesInBodyType(lines: Line[], markerOf: (line: Line) => string | null, height: number): number {
  const referred = new Set(lines.flatMap((l) => l.runs.slice(1).filter((r) => r.sup).flatMap((r) => r.text.split(/[,\s]+/).filter(Boolean))));
  for (let start = 0; start < lines.length; start++) {
    const marker = markerOf(lines[start]);
    if (lines[start].y > 0.5 * height || marker === null || !referred.has(marker)) continue;
    const markers = lines.slice(start).map(markerOf).filter((m): m is string => m !== null);
    const ordered = markers.every((m, i) => referred.has(m) && (i === 0 || +m === +markers[i - 1] + 1));
    if (ordered) return start;
  }
  return lines.length;
}
