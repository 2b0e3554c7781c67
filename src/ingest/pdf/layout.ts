import { BULLETS, groupLines, lineText, median, type Line, type PageRuns, type Run } from './geometry.js';

/**
 * A page's body in reading order, as blocks: paragraphs, headings, and table rows whose cells
 * stay apart. Regions are found by cutting the page where whitespace runs through it (XY-cut):
 * across a gap into bands, then the longest runs of bands that share gutters into columns.
 * Columns whose blocks line up side by side are a table and read row by row; other columns are
 * read one after another.
 */
export interface Block {
  kind: 'paragraph' | 'heading' | 'row';
  /** Each cell's lines (a paragraph or heading is one cell). */
  cells: string[][];
  /** How the cells of a row are joined: " | " between table cells, a space after a paragraph number. */
  separator: string;
  /** Type size (the median of its lines'), which ranks headings. */
  size: number;
}

export interface LayoutContext {
  bodySize: number;
  /** Baseline to baseline distance of the page's body lines, as a multiple of their size (1.2 set solid, 1.7 double-spaced). */
  leading: number;
  bodyFont: string;
  bullets: PageRuns['bullets'];
  dropSuperscript: (marker: string) => boolean;
}

/** A region of a page (at first the whole page, then its bands and columns) as blocks in reading order. */
export function layoutRegion(runs: Run[], context: LayoutContext): Block[] {
  if (!runs.length) return [];
  // Bands first: a heading across the page must not be read as the first cell of the columns under it.
  const bands = horizontalBands(runs, context);
  if (bands.length <= 1) {
    const columns = verticalCut(runs);
    return columns ? readColumns(columns, context) : paragraphs(groupLines(runs, context.bullets), context, true);
  }
  const blocks: Block[] = [];
  for (let i = 0; i < bands.length; ) {
    // The longest run of bands that shares one set of gutters: a table, or columns under a heading.
    let best: { end: number; columns: Run[][] } | null = null;
    for (let j = i; j < bands.length; j++) {
      const cut = verticalCut(bands.slice(i, j + 1).flat());
      // Every band stands in two columns or more (a sentence above a table is not its first cell), and a
      // band that would close a gutter (a total row across the columns, a table under text columns) ends the run.
      const spans = cut && bands.slice(i, j + 1).every((band) => cut.filter((column) => band.some((r) => column.includes(r))).length >= 2);
      if (cut && spans && (!best || keepsGutters(best.columns, bands[j]))) best = { end: j, columns: cut };
      else if (j > i || (cut && !spans)) break;
    }
    if (best) {
      blocks.push(...readColumns(best.columns, context));
      i = best.end + 1;
    } else {
      const lines = groupLines(bands[i], context.bullets);
      blocks.push(...paragraphs(lines, context, true));
      i++;
    }
  }
  return blocks;
}

const baselines = (runs: Run[]) => new Set(runs.map((r) => Math.round(r.y))).size;

/** Runs split at gutters: vertical strips of whitespace crossing the whole region, each side's lines aligned on it. */
function verticalCut(runs: Run[]): Run[][] | null {
  if (runs.length < 4 || baselines(runs) < 2) return null;
  // A table of contents: its dotted leaders already tie each entry to its page.
  if (runs.filter((r) => DOT_LEADER.test(r.text)).length >= 0.3 * baselines(runs)) return null;
  const size = median(runs.map((r) => r.size));
  const minGap = Math.max(4, 0.8 * size);
  const sorted = [...runs].sort((a, b) => a.x0 - b.x0);
  const gutters: number[] = [];
  let reach = sorted[0].x1;
  for (const r of sorted.slice(1)) {
    if (r.x0 - reach >= minGap) gutters.push((reach + r.x0) / 2);
    reach = Math.max(reach, r.x1);
  }
  if (!gutters.length) return null;
  // Keep only gutters with real columns on both sides; a gutter that fails merges its neighbours.
  let kept = gutters;
  for (let changed = true; changed && kept.length; ) {
    changed = false;
    const columns = splitAt(runs, kept);
    for (let g = 0; g < kept.length; g++) {
      if (!isGutter(columns[g], columns[g + 1])) {
        kept = kept.filter((_, i) => i !== g);
        changed = true;
        break;
      }
    }
  }
  return kept.length ? splitAt(runs, kept) : null;
}

/** The whitespace between neighbouring columns, as [left column's right edge, right column's left edge]. */
function gutterSpans(columns: Run[][]): Array<[number, number]> {
  return columns.slice(1).map((column, k) => [Math.max(...columns[k].map((r) => r.x1)), Math.min(...column.map((r) => r.x0))]);
}

/**
 * `band` leaves every gutter of `columns` open: no run of it stands inside a gutter (a column of
 * its own there), and some of each gutter stays free. More rows may open more gutters.
 */
function keepsGutters(columns: Run[][], band: Run[]): boolean {
  const minGap = Math.max(4, 0.8 * median(band.map((r) => r.size)));
  return gutterSpans(columns).every(([a, b]) => {
    if (band.some((r) => r.x0 >= a && r.x1 <= b)) return false;
    const left = Math.max(a, ...band.filter((r) => r.x0 < a + 1).map((r) => r.x1));
    const right = Math.min(b, ...band.filter((r) => r.x1 > b - 1).map((r) => r.x0));
    return right - left >= minGap;
  });
}

function splitAt(runs: Run[], gutters: number[]): Run[][] {
  const columns: Run[][] = gutters.map(() => []);
  columns.push([]);
  for (const r of runs) columns[gutters.filter((g) => r.x0 > g).length].push(r);
  return columns;
}

/** Lines of each side, as [start, end] of the side's runs per baseline. */
function lineEdges(runs: Run[]): Array<[number, number]> {
  const byBaseline = new Map<number, [number, number]>();
  for (const r of runs) {
    const key = Math.round(r.y);
    const edge = byBaseline.get(key);
    byBaseline.set(key, edge ? [Math.min(edge[0], r.x0), Math.max(edge[1], r.x1)] : [r.x0, r.x1]);
  }
  return [...byBaseline.values()];
}

/** Share of values within 2 points of the most common one. */
function alignedShare(values: number[]): { share: number; count: number } {
  let count = 0;
  for (const v of values) count = Math.max(count, values.filter((w) => Math.abs(w - v) <= 2).length);
  return { share: values.length ? count / values.length : 0, count };
}

/**
 * Whitespace between two sets of runs is a gutter when both sides have lines, they stand side by
 * side, and a side is aligned on it (the right side's lines start at one x, the left side's end
 * at one x, or either side's lines are centred on one x). Word gaps that happen to line up in
 * justified text are none of these.
 */
function isGutter(left: Run[], right: Run[]): boolean {
  if (baselines(left) < 2 || baselines(right) < 2) return false;
  const extent = (rs: Run[]) => [Math.min(...rs.map((r) => r.y)), Math.max(...rs.map((r) => r.y + r.size))];
  const [l0, l1] = extent(left);
  const [r0, r1] = extent(right);
  const overlap = Math.min(l1, r1) - Math.max(l0, r0);
  if (overlap < 0.5 * Math.min(l1 - l0, r1 - r0)) return false;
  const leftEdges = lineEdges(left);
  const rightEdges = lineEdges(right);
  const aligned = (a: { share: number; count: number }, least = 2) => a.count >= least && a.share >= 0.6;
  const centres = (edges: Array<[number, number]>) => alignedShare(edges.map((e) => (e[0] + e[1]) / 2));
  // Not the left side's starts nor the right side's ends: justified text is aligned on those wherever it is split.
  return aligned(alignedShare(rightEdges.map((e) => e[0]))) || aligned(alignedShare(leftEdges.map((e) => e[1]))) || aligned(centres(rightEdges), 3) || aligned(centres(leftEdges), 3);
}

/** The white space between two lines that are set one after the other, in points: more than it separates paragraphs. */
const lineGap = (size: number, context: LayoutContext) => Math.max(0.5 * size, (context.leading - 1.05) * size + 0.35 * size);

/** Runs split where a horizontal gap wider than the page's line spacing runs across the whole region. */
function horizontalBands(runs: Run[], context: LayoutContext): Run[][] {
  const sorted = [...runs].sort((a, b) => b.y - a.y);
  const bands: Run[][] = [[]];
  let floor = Infinity;
  for (const r of sorted) {
    const top = r.y + 0.8 * r.size;
    if (floor !== Infinity && floor - top >= lineGap(r.size, context) && bands[bands.length - 1].length) bands.push([]);
    bands[bands.length - 1].push(r);
    floor = Math.min(floor, r.y - 0.25 * r.size);
  }
  return bands;
}

interface CellBlock {
  column: number;
  lines: Line[];
  top: number;
  bottom: number;
}

/** A line as a cell of its own, its extent from ascender to descender. */
const lineCell = (line: Line, column: number): CellBlock => ({ column, lines: [line], top: line.y + 0.8 * line.size, bottom: line.y - 0.25 * line.size });

/** A column's lines grouped into cells: lines closer than one and a half lines belong together. */
function cellBlocks(runs: Run[], column: number, context: LayoutContext): CellBlock[] {
  const blocks: CellBlock[] = [];
  for (const line of groupLines(runs, context.bullets)) {
    const last = blocks[blocks.length - 1];
    const cell = lineCell(line, column);
    if (last && last.bottom - cell.top < lineGap(line.size, context) && !line.bullet) {
      last.lines.push(line);
      last.bottom = cell.bottom;
    } else blocks.push(cell);
  }
  return blocks;
}

/** A mark standing alone in a margin column: a list bullet or a dash. */
const BULLET_LABEL = new RegExp(`^[${BULLETS}*–-]$`, 'u');
const LABEL = new RegExp(`^(\\(?[0-9]{1,3}(\\.[0-9]{1,3})*[.)]?|\\(?[a-z]{1,4}[.)]|[${BULLETS}*–-])$`, 'iu');

/** Columns are a table when their blocks stand side by side (row by row), else columns of text read in turn. */
function readColumns(columns: Run[][], context: LayoutContext): Block[] {
  const cells = columns.map((c, i) => cellBlocks(c, i, context));
  const text = (b: CellBlock) => b.lines.map((l) => lineText(l, context.dropSuperscript)).join(' ');
  const labels = cells[0].every((b) => LABEL.test(text(b)));
  if (labels && columns.length === 2) return numberedParagraphs(cells[0], columns[1], context);
  if (columns.length === 2) {
    const [left, right] = cells;
    const size = median(columns.flat().map((r) => r.size));
    // Cells of a row start on one line (or share a middle); each block is matched at most once.
    const unmatched = new Set(left);
    const sideBySide = right.filter((b) => {
      const twin = [...unmatched].find((a) => Math.abs(a.top - b.top) <= 0.3 * size || Math.abs(a.top + a.bottom - b.top - b.bottom) <= 1.0 * size);
      return twin ? unmatched.delete(twin) : false;
    }).length;
    // Columns of one width are text columns unless nearly every block has its twin beside it; a narrow column beside a wide one needs half.
    const width = (rs: Run[]) => Math.max(...rs.map((r) => r.x1)) - Math.min(...rs.map((r) => r.x0));
    const [narrow, wide] = [width(columns[0]), width(columns[1])].sort((a, b) => a - b);
    const needed = narrow >= 0.75 * wide ? 0.6 * Math.max(left.length, right.length) : 0.5 * Math.min(left.length, right.length);
    if (sideBySide < 2 || sideBySide < needed) {
      // A glossary or a list of terms: short labels, each on the baseline of its entry's first line.
      if (termsBeside(columns[0], columns[1], context)) return tableRows(columns.flatMap((c, i) => groupLines(c, context.bullets).map((line) => lineCell(line, i))), context);
      return columns.flatMap((c) => layoutRegion(c, context));
    }
  }
  return tableRows(cells.flat(), context);
}

/**
 * Paragraph numbers (or bullets) in a margin column: each number opens the paragraph whose first
 * line stands beside it; lines above the first number are paragraphs of their own.
 */
function numberedParagraphs(labels: CellBlock[], body: Run[], context: LayoutContext): Block[] {
  const lines = groupLines(body, context.bullets);
  const opens = (line: Line) => labels.find((b) => Math.abs(b.lines[0].y - line.y) <= 0.5 * line.size);
  const blocks: Block[] = [];
  let start = 0;
  while (start < lines.length && !opens(lines[start])) start++;
  blocks.push(...paragraphs(lines.slice(0, start), context, false));
  for (let i = start; i < lines.length; ) {
    const label = opens(lines[i])!;
    let end = i + 1;
    while (end < lines.length && !opens(lines[end])) end++;
    const labelText = label.lines.map((l) => lineText(l, context.dropSuperscript)).join(' ');
    const [first, ...rest] = paragraphs(lines.slice(i, end), context, false);
    const bulleted = BULLET_LABEL.test(labelText);
    blocks.push({ ...first, cells: [[...(bulleted ? [] : [labelText]), ...first.cells[0]]] }, ...rest);
    i = end;
  }
  return blocks;
}


/** Left lines of a few words, each on the baseline of a line on the right. */
function termsBeside(left: Run[], right: Run[], context: LayoutContext): boolean {
  const leftLines = groupLines(left, context.bullets);
  const rightLines = groupLines(right, context.bullets);
  const words = median(leftLines.map((l) => lineText(l, context.dropSuperscript).split(' ').length));
  const beside = leftLines.filter((l) => rightLines.some((r) => Math.abs(r.y - l.y) <= 0.3 * l.size)).length;
  const width = (lines: Line[]) => Math.max(...lines.map((l) => l.x1)) - Math.min(...lines.map((l) => l.x0));
  return leftLines.length >= 3 && words <= 3 && width(leftLines) < 0.6 * width(rightLines) && beside >= 0.8 * leftLines.length;
}

/**
 * Rows: cells whose vertical extents overlap, directly or through another cell. A first row of
 * short labels is the header: each later cell is written "label: text". Short cells come before
 * long ones (a paragraph of justification), so a row's figures stay in one sentence with its name.
 */
function tableRows(blocks: CellBlock[], context: LayoutContext): Block[] {
  // A cell whose every line has a line of another column beside it is a stack of one-line cells (rows set close).
  const beside = (line: Line, column: number) => blocks.some((b) => b.column !== column && b.lines.some((l) => Math.abs(l.y - line.y) <= 0.3 * line.size));
  const cells = blocks.flatMap((b) => (b.lines.length > 1 && b.lines.every((l) => beside(l, b.column)) ? b.lines.map((l) => lineCell(l, b.column)) : [b]));
  const sorted = cells.sort((a, b) => b.top - a.top);
  const rows: CellBlock[][] = [];
  let floor = Infinity;
  for (const b of sorted) {
    if (rows.length && b.top > floor) rows[rows.length - 1].push(b);
    else rows.push([b]);
    floor = rows[rows.length - 1].length === 1 ? b.bottom : Math.min(floor, b.bottom);
  }
  const cellsOf = (row: CellBlock[]) => {
    const columns = [...new Set(row.map((b) => b.column))].sort((a, b) => a - b);
    return columns
      .map((column) => ({ column, lines: row.filter((b) => b.column === column).sort((a, b) => b.top - a.top).flatMap((b) => b.lines.map((l) => lineText(l, context.dropSuperscript))) }))
      .filter((c) => c.lines.some(Boolean));
  };
  const table = rows.map(cellsOf);
  const words = (lines: string[]) => lines.join(' ').split(/\s+/).length;
  const isHeader = table.length >= 2 && table[0].length >= 2 && table[0].every((c) => words(c.lines) <= 8 && !/^[\d.,%£$€ –-]+$/.test(c.lines.join(' ')));
  const labels = new Map(isHeader ? table[0].map((c) => [c.column, c.lines.join(' ')]) : []);
  return rows.flatMap((row, i) => {
    if (isHeader && i === 0) return [];
    const cells = table[i].map((c) => (labels.has(c.column) ? [`${labels.get(c.column)}:`, ...c.lines] : c.lines));
    const ordered = cells.length >= 3 ? [...cells.filter((c) => words(c) <= 12), ...cells.filter((c) => words(c) > 12)] : cells;
    const lines = row.flatMap((b) => b.lines);
    return [{ kind: 'row' as const, cells: ordered, separator: ' | ', size: median(lines.map((l) => l.size)) }];
  });
}

const DOT_LEADER = /\.{4,}|(?:\. ){4,}|…{2,}/;
const SENTENCE_END = /[.!?:]["'”’)\]]*$/;

/**
 * Lines into paragraphs: a new one at a bullet, a change of size, a gap, an indented first line
 * after a finished sentence, or after a finished sentence on a short line. A lone short line in
 * larger type, or in another font (or numbered "2.1 ..."), is a heading.
 */
function paragraphs(lines: Line[], context: LayoutContext, wholeBand: boolean): Block[] {
  if (!lines.length) return [];
  const left = Math.min(...lines.map((l) => l.x0));
  const right = Math.max(...lines.map((l) => l.x1));
  const textOf = new Map(lines.map((l) => [l, lineText(l, context.dropSuperscript)]));
  const groups: Line[][] = [];
  for (const line of lines) {
    const group = groups[groups.length - 1];
    const prev = group?.[group.length - 1];
    const prevText = prev ? textOf.get(prev)! : '';
    const text = textOf.get(line)!;
    const size = Math.max(line.size, prev?.size ?? 0);
    const breaks =
      !prev ||
      line.bullet ||
      Math.abs(line.size - prev.size) > 0.1 * size ||
      prev.y - line.y > Math.max(1.6, 1.3 * context.leading) * size ||
      DOT_LEADER.test(prevText) ||
      DOT_LEADER.test(text) ||
      (SENTENCE_END.test(prevText) && (line.x0 > prev.x0 + 0.8 * size || prev.x1 < right - 0.25 * (right - left)));
    if (breaks) groups.push([line]);
    else group.push(line);
  }
  return groups.map((group): Block => {
    const texts = group.map((l) => textOf.get(l)!);
    const size = median(group.map((l) => l.size));
    const font = group[0].font;
    const joined = texts.join(' ');
    const words = joined.split(/\s+/).length;
    const shortLine = group.length === 1 && words <= 12 && !/[.;,:]$/.test(joined) && /^[\p{Lu}\d]/u.test(joined) && /\p{L}{3}/u.test(joined) && !DOT_LEADER.test(joined);
    const heading =
      !group[0].bullet &&
      ((size >= 1.15 * context.bodySize && words <= 25 && group.length <= 3 && /\p{L}{2}/u.test(joined)) ||
        (wholeBand && groups.length === 1 && shortLine && (font !== context.bodyFont || /^\d+(\.\d+)*\.?\s+\p{Lu}/u.test(joined))));
    return { kind: heading ? 'heading' : 'paragraph', cells: [texts], separator: ' ', size };
  });
}
