export interface Span {
  start: number;
  end: number;
}

const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

/** Abbreviations after which a full stop does not end the sentence. */
const ABBREVIATION = /(?:^|[\s(“"])(?:mr|mrs|ms|dr|prof|cllr|rt|hon|st|no|vs|etc|e\.g|i\.e|cf|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|[a-z])\.$/i;

/**
 * Sentence spans of `text` (offsets into it), trimmed of surrounding whitespace.
 * Unicode sentence boundaries (Intl.Segmenter), then two repairs: a paragraph break always ends a
 * sentence, and a boundary is undone after a known abbreviation ("Cllr. House") or before a
 * lower-case letter (a quoted title ending in "?" inside a sentence).
 */
export function splitSentences(text: string): Span[] {
  const spans: Span[] = [];
  for (const paragraph of paragraphSpans(text)) {
    const body = text.slice(paragraph.start, paragraph.end);
    let pending: Span | null = null;
    for (const { segment, index } of segmenter.segment(body)) {
      const span = trimSpan(text, paragraph.start + index, paragraph.start + index + segment.length);
      if (!span) continue;
      const continues = /^[\p{Ll}]/u.test(text[span.start]) || ABBREVIATION.test(text.slice(pending?.start ?? 0, pending?.end ?? 0));
      if (pending && continues) pending.end = span.end;
      else {
        if (pending) spans.push(pending);
        pending = span;
      }
    }
    if (pending) spans.push(pending);
  }
  return spans;
}

function paragraphSpans(text: string): Span[] {
  const spans: Span[] = [];
  const re = /\n\s*\n/g;
  let start = 0;
  for (let m; (m = re.exec(text)); start = m.index + m[0].length) spans.push({ start, end: m.index });
  spans.push({ start, end: text.length });
  return spans;
}

function trimSpan(text: string, start: number, end: number): Span | null {
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  return end > start ? { start, end } : null;
}
