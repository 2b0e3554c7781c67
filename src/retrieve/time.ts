/** The time a question asks about: years it names, or an open range ("before 2016", "since 2019"). */
export interface TimeSignal {
  years: number[];
  before?: number;
  after?: number;
}

const YEAR = /\b(1[89]\d\d|20\d\d)\b/g;

/** Reads the years and ranges a question names; null when it names none. */
export function timeSignal(query: string): TimeSignal | null {
  const years = [...query.matchAll(YEAR)].map((m) => Number(m[1]));
  const before = query.match(/\b(?:before|prior to|until|up to)\s+(1[89]\d\d|20\d\d)\b/i);
  const after = query.match(/\b(?:after|since|from)\s+(1[89]\d\d|20\d\d)\b/i);
  // "Before the pandemic" is the one period the archive's questions name without a year.
  const prePandemic = /\bbefore (the )?(pandemic|covid)/i.test(query);
  if (!years.length && !prePandemic) return null;
  return {
    years: years.filter((y) => y !== Number(before?.[1]) && y !== Number(after?.[1])),
    before: before ? Number(before[1]) : prePandemic ? 2020 : undefined,
    after: after ? Number(after[1]) : undefined,
  };
}

/**
 * How well a passage fits the asked time, from 0 to 1: the passage or its neighbours mention an
 * asked year (or a year in the asked range; neighbours count because an answer often follows the
 * sentence that dates it), and its document was published then (or within a year of it).
 */
export function timeFit(signal: TimeSignal, passage: string, docDate: string | null, neighbours = ''): number {
  const inRange = (y: number) => (signal.before === undefined || y < signal.before) && (signal.after === undefined || y >= signal.after);
  const hasRange = signal.before !== undefined || signal.after !== undefined;
  const names = (text: string) => [...text.matchAll(YEAR)].some((m) => signal.years.includes(Number(m[1])) || (hasRange && inRange(Number(m[1]))));
  const mentions = names(passage) || names(neighbours) ? 1 : 0;
  const published = docDate ? Number(docDate.slice(0, 4)) : null;
  let dated = 0;
  if (published !== null) {
    const gap = signal.years.length ? Math.min(...signal.years.map((y) => Math.abs(y - published))) : Infinity;
    dated = gap === 0 ? 1 : gap === 1 ? 0.5 : hasRange && inRange(published) ? 0.5 : 0;
  }
  return (mentions + dated) / 2;
}
