/**
 * The text of a PDF page as pdf.js places it: runs of glyphs with a baseline, a left and right
 * edge and a size, grouped into lines by their baselines. Coordinates are PDF points, y upwards.
 */

/** One run of text as pdf.js gives it (a word, a phrase or a line), normalised. */
export interface Run {
  text: string;
  x0: number;
  x1: number;
  /** Baseline. */
  y: number;
  size: number;
  font: string;
  /** The PDF put a space after it (in the run or as a run of its own). */
  spaceAfter: boolean;
}

/** A line of runs sharing a baseline; superscripts ride on the line they follow. */
export interface Line {
  runs: Array<Run & { sup: boolean }>;
  /** The runs themselves (runs holds copies marked as superscript or not). */
  members: Run[];
  y: number;
  size: number;
  font: string;
  x0: number;
  x1: number;
  /** A bullet glyph (dropped from the text) stood just before the line. */
  bullet: boolean;
}

/** Private-use glyphs (Symbol and Wingdings bullets mapped nowhere) and bullet characters that only mark list items. */
const PRIVATE_USE = /[\uE000-\uF8FF]/gu;
const HAS_PRIVATE_USE = /[\uE000-\uF8FF]/u;
/** The characters that mark a list item (a character class's contents, for the patterns that look for them). */
export const BULLETS = '•▪◼●■◦○‣⁃►▶➢✓✔❖';
const BULLET = new RegExp(`^[${BULLETS}]$`, 'u');
const LEADING_BULLET = new RegExp(`^[${BULLETS}∙]\\s+`, 'u');

export interface PageRuns {
  runs: Run[];
  /** Where bullet glyphs stood: they start list items but are not text. */
  bullets: Array<{ x: number; y: number }>;
}

interface PdfTextItem {
  str: string;
  transform: number[];
  width: number;
  height: number;
  fontName: string;
}

/**
 * The runs of a page's text content: NFKC (mathematical letters become plain ones), private-use
 * glyphs dropped, rotated text (margin labels, watermarks) left out, and overprinted duplicates
 * (fake bold) read once.
 */
export function pageRuns(items: ReadonlyArray<PdfTextItem | object>): PageRuns {
  const runs: Run[] = [];
  const bullets: PageRuns['bullets'] = [];
  for (const item of items) {
    if (!('str' in item)) continue;
    const [, b, c, d, x, y] = item.transform;
    if (Math.abs(b) > 0.01 || Math.abs(c) > 0.01 || d <= 0) continue;
    const size = d;
    const raw = item.str.normalize('NFKC');
    const text = raw.replace(PRIVATE_USE, ' ').replace(/\s+/g, ' ');
    const trimmed = text.trim();
    if (!trimmed && raw && runs.length) runs[runs.length - 1].spaceAfter = true;
    if (!trimmed || BULLET.test(trimmed)) {
      // A glyph standing alone that only marks a list item.
      if (raw.trim() && (HAS_PRIVATE_USE.test(raw) || BULLET.test(trimmed))) bullets.push({ x, y });
      continue;
    }
    // "• Item" in one run: the bullet marks the item, the rest is text.
    const leading = trimmed.match(LEADING_BULLET);
    const run: Run = { text: leading ? trimmed.slice(leading[0].length) : trimmed, x0: x, x1: x + item.width, y, size, font: item.fontName, spaceAfter: /\s$/.test(text) };
    if (leading || HAS_PRIVATE_USE.test(raw.trim().slice(0, 1))) bullets.push({ x, y });
    const last = runs[runs.length - 1];
    if (last && last.text === run.text && Math.abs(last.x0 - run.x0) < 1.5 && Math.abs(last.y - run.y) < 1.5) continue;
    runs.push(run);
  }
  return { runs, bullets };
}

/** The middle value (the upper of the two middle ones for an even count); 0 for none. */
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : 0;
};

/** The value of `key` that most characters have (the first such value on a tie); undefined for no runs. */
function mostCharacters<T>(runs: Run[], key: (run: Run) => T): T | undefined {
  const chars = new Map<T, number>();
  for (const r of runs) chars.set(key(r), (chars.get(key(r)) ?? 0) + r.text.length);
  let best: T | undefined;
  let bestCount = -1;
  for (const [value, n] of chars) if (n > bestCount) [best, bestCount] = [value, n];
  return best;
}

/** The size most characters are set in (the body text), rounded to half a point. */
export const dominantSize = (runs: Run[]): number => mostCharacters(runs, (r) => Math.round(r.size * 2) / 2) || 10;

/** The font most characters are set in. */
export const dominantFont = (runs: Run[]): string => mostCharacters(runs, (r) => r.font) ?? '';

/**
 * Runs grouped into lines by baseline (within 40% of their size), top line first. A run set
 * smaller and raised above a line (a footnote marker, "th") becomes that line's superscript.
 */
export function groupLines(runs: Run[], bullets: PageRuns['bullets'] = []): Line[] {
  const sorted = [...runs].sort((p, q) => q.y - p.y || p.x0 - q.x0);
  const groups: Array<{ y: number; size: number; runs: Run[] }> = [];
  for (const run of sorted) {
    const group = groups.find((g) => Math.abs(g.y - run.y) <= 0.4 * Math.max(g.size, run.size) && !overlapsAny(g.runs, run));
    if (group) {
      group.runs.push(run);
      if (run.size > group.size) [group.size, group.y] = [run.size, run.y];
    } else groups.push({ y: run.y, size: run.size, runs: [run] });
  }
  // Groups of small raised runs join the line below them as superscripts.
  const lines: Line[] = [];
  const supOf = new Set<Run>();
  groups.sort((a, b) => b.y - a.y);
  // Each group's horizontal extent as the grouping left it (before any superscript joins it).
  const extent = new Map(groups.map((g) => [g, [Math.min(...g.runs.map((r) => r.x0)), Math.max(...g.runs.map((r) => r.x1))]]));
  for (const g of groups) {
    const host = groups.find((h) => {
      const [left, right] = extent.get(h)!;
      return h !== g && g.size <= 0.85 * h.size && g.y - h.y > 0.1 * h.size && g.y - h.y <= 0.75 * h.size && g.runs.every((r) => r.x0 >= left - h.size && r.x0 <= right + h.size);
    });
    if (host) {
      for (const r of g.runs) supOf.add(r);
      host.runs.push(...g.runs);
    }
  }
  for (const g of groups) {
    if (g.runs.every((r) => supOf.has(r)) && g.runs.length) continue;
    // A marker raised only a little still rides above its line's baseline, in smaller type.
    for (const r of g.runs) if (r.size <= 0.8 * g.size && r.y - g.y >= 0.12 * g.size) supOf.add(r);
    const main = g.runs.filter((r) => !supOf.has(r));
    const ordered = g.runs.map((r) => ({ ...r, sup: supOf.has(r) })).sort((a, b) => a.x0 - b.x0);
    const x0 = Math.min(...main.map((r) => r.x0));
    lines.push({
      runs: ordered,
      members: g.runs,
      y: g.y,
      size: dominantSize(main),
      font: dominantFont(main),
      x0,
      x1: Math.max(...main.map((r) => r.x1)),
      bullet: bullets.some((b) => Math.abs(b.y - g.y) <= 0.5 * g.size && b.x < x0 + 1 && b.x > x0 - 6 * g.size),
    });
  }
  return lines.sort((a, b) => b.y - a.y);
}

/** A run placed over another on the same baseline is other text (a second column), not the same line's next word. */
function overlapsAny(runs: Run[], run: Run): boolean {
  return runs.some((r) => Math.min(r.x1, run.x1) - Math.max(r.x0, run.x0) > 0.5 * Math.min(r.x1 - r.x0, run.x1 - run.x0) && r.text !== run.text);
}

/**
 * The text of a line: runs joined with a space where a gap separates them; superscript markers
 * are dropped when `dropSuperscript` says so (a footnote reference), and never fused onto a number.
 */
export function lineText(line: Line, dropSuperscript: (marker: string) => boolean): string {
  let text = '';
  let previous: Run | null = null;
  for (const run of line.runs) {
    let piece = run.text;
    if (run.sup) {
      const marker = piece.trim();
      if (/^[\d*†‡§,\s]+$/.test(marker) && (dropSuperscript(marker) || /\d$/.test(text.trimEnd()) || text.trim() === '')) {
        previous = run;
        continue;
      }
    }
    if (previous && text && !text.endsWith(' ')) {
      const gap = run.x0 - previous.x1;
      const spaced = previous.spaceAfter || gap > 0.12 * Math.max(run.size, previous.size);
      if (spaced && !(run.sup && gap < 0.3 * previous.size && !previous.spaceAfter)) piece = ` ${piece}`;
    }
    text += piece;
    previous = run;
  }
  // A dropped marker leaves no space before the punctuation that followed it ("2033 ." -> "2033.").
  return text.replace(/\s+/g, ' ').replace(/ ([.,;:!?)\]])(?=\s|$)/g, '$1').trim();
}
