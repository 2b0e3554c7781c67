const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const MONTH = `(${MONTHS.join('|')}|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\\.?`;
const pad = (n: number) => String(n).padStart(2, '0');

function monthNumber(name: string): number {
  const key = name.toLowerCase().replace('.', '').slice(0, 3);
  return MONTHS.findIndex((m) => m.startsWith(key)) + 1;
}

function validDay(year: number, month: number, day: number): boolean {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/**
 * A publication date stated by the text itself: a dateline near the top ("Thursday, 03 October 2013",
 * "October 3, 2013", "2013-10-03") or a signature near the end ("June 2021"). Null when neither is there.
 */
export function dateFromText(text: string): string | null {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  // A line that is nothing but a date of the given forms.
  const whole = (line: string, forms: DateForm[]) => {
    const found = datePrefix(line);
    return found && found.length === line.length && forms.includes(found.form) ? found.date : null;
  };
  for (const line of lines.slice(0, 6)) {
    const date = whole(line.replace(/^[a-z]+day,?\s+/i, ''), ['day month year', 'month day year', 'iso']);
    if (date) return date;
  }
  for (const line of lines.slice(-4)) {
    const date = whole(line, ['month year']);
    if (date) return date;
  }
  return null;
}

/** The first line when it reads like a title (short, no full stop), else the opening words of the text. */
export function titleFromText(text: string, fallback: string): string {
  const first = text.split('\n').map((l) => l.trim()).find(Boolean);
  if (!first) return fallback;
  if (first.split(/\s+/).length <= 16 && !/[.!?]$/.test(first)) return first;
  const words = first.split(/\s+/);
  return words.length <= 12 ? first : `${words.slice(0, 12).join(' ')}…`;
}

/** Inclusive [first day, last day] covered by an ISO date of any precision, as YYYY-MM-DD strings. */
export function dateSpan(date: string): [string, string] {
  const [y, m, d] = date.split('-');
  if (d) return [date, date];
  if (m) return [`${y}-${m}-01`, `${y}-${m}-${pad(new Date(Date.UTC(+y, +m, 0)).getUTCDate())}`];
  return [`${y}-01-01`, `${y}-12-31`];
}

/** ISO date with year, optional month, optional day, each checked to exist on the calendar. */
export function isIsoDate(value: string): boolean {
  const m = value.match(/^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/);
  if (!m) return false;
  const month = m[2] ? +m[2] : 1;
  if (month < 1 || month > 12) return false;
  return m[3] ? validDay(+m[1], month, +m[3]) : true;
}

const DAY_MONTH_YEAR = new RegExp(`^(\\d{1,2})(?:st|nd|rd|th)?\\s+${MONTH},?\\s+(\\d{4})`, 'i');
const MONTH_DAY_YEAR = new RegExp(`^${MONTH}\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})`, 'i');
const MONTH_YEAR = new RegExp(`^${MONTH}\\s+(\\d{4})\\b`, 'i');

type DateForm = 'day month year' | 'month day year' | 'month year' | 'iso' | 'day/month/year';

/** The date a phrase starts with, as ISO, with how many characters it takes and the form it was written in. */
function datePrefix(s: string): { date: string; length: number; form: DateForm } | null {
  let m = s.match(DAY_MONTH_YEAR);
  if (m && validDay(+m[3], monthNumber(m[2]), +m[1])) return { date: `${m[3]}-${pad(monthNumber(m[2]))}-${pad(+m[1])}`, length: m[0].length, form: 'day month year' };
  m = s.match(MONTH_DAY_YEAR);
  if (m && validDay(+m[3], monthNumber(m[1]), +m[2])) return { date: `${m[3]}-${pad(monthNumber(m[1]))}-${pad(+m[2])}`, length: m[0].length, form: 'month day year' };
  m = s.match(MONTH_YEAR);
  if (m) return { date: `${m[2]}-${pad(monthNumber(m[1]))}`, length: m[0].length, form: 'month year' };
  m = s.match(/^(\d{4})-(\d{2})-(\d{2})\b/);
  if (m && validDay(+m[1], +m[2], +m[3])) return { date: m[0], length: m[0].length, form: 'iso' };
  m = s.match(/^(\d{1,2})\/(\d{1,2})\/(\d{4})\b/);
  if (m && validDay(+m[3], +m[2], +m[1])) return { date: `${m[3]}-${pad(+m[2])}-${pad(+m[1])}`, length: m[0].length, form: 'day/month/year' };
  return null;
}

/** The date a phrase starts with ("8 June 2022", "June 8, 2022", "June 2022", "2022-06-08", "08/06/2022" read day first), as ISO; null when it starts with none. */
export const leadingDate = (phrase: string): string | null => datePrefix(phrase.trim())?.date ?? null;

/** "Adopted 8 June 2022", "Date: May 2025", "Page last updated: 04 July 2022", "published on 3 May 2019", minutes "held on 14 March 1998". */
const DATED = /\b(?:adopted|published|approved|issued|dated?|updated|revised|effective|made|held)\b(?:\s+(?:on|in))?\s*[:\-–]?\s*/gi;

/** The first date on the lines given that is named as adopted, published, dated or updated. */
export function keyedDate(lines: string[]): string | null {
  for (const line of lines) {
    for (const m of line.matchAll(DATED)) {
      const date = leadingDate(line.slice(m.index + m[0].length));
      if (date) return date;
    }
  }
  return null;
}

/**
 * The date a document states of itself on the lines given (a cover): one named as adopted,
 * published, dated or updated first, then a line that is only a date ("July 2025").
 */
export function statedDate(lines: string[]): string | null {
  const keyed = keyedDate(lines);
  if (keyed) return keyed;
  for (const line of lines) {
    const date = leadingDate(line);
    if (date && line.trim().replace(/[.,]$/, '').split(/\s+/).length <= 4) return date;
  }
  return null;
}
