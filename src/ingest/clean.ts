import { lineJoiner } from './lines.js';

/**
 * Turns a raw text file into clean paragraphs separated by blank lines.
 *
 * Text pulled out of PDFs arrives hard-wrapped: every visual line is its own line, paragraphs
 * are marked only by trailing spaces, words are hyphenated across lines, and pull quotes
 * (a sentence of the body repeated in large type) are dropped into the middle of sentences.
 * Such files are unwrapped; other files keep their paragraphs as written.
 */
export function cleanText(raw: string): string {
  const text = raw
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .replace(/[\u00A0\u2007\u202F]/g, ' ')
    // Control characters other than newline and tab carry no text.
    .replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, '');
  const paragraphs = looksHardWrapped(text) ? unwrapHardWrapped(text) : splitParagraphs(text);
  return paragraphs
    .map((p) => collapseImmediateRepeat(p.replace(/[ \t]+/g, ' ').trim()))
    .filter((p) => p.length > 0 && !isLinkBoilerplate(p))
    .join('\n\n');
}

/** A line or paragraph that ends its sentence (or clause): what continues after it is not the same sentence. */
export const TERMINAL = /[.!?:;]["”’')\]]*$/;
const SENTENCE_END = /[.!?]["”’')\]]*$/;

function nonBlankLines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim().length > 0);
}

/** Most lines short and ending mid-sentence: the signature of text extracted from a laid-out page. */
export function looksHardWrapped(text: string): boolean {
  const lines = nonBlankLines(text).map((l) => l.trim());
  if (lines.length < 20) return false;
  const midSentence = lines.filter((l) => !TERMINAL.test(l)).length / lines.length;
  const sorted = lines.map((l) => l.length).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return midSentence > 0.5 && median < 70;
}

function splitParagraphs(text: string): string[] {
  return text.split(/\n\s*\n/).map((p) => p.replace(/\s*\n\s*/g, ' '));
}

const PARAGRAPH_BREAK = '\n\n';

function unwrapHardWrapped(text: string): string[] {
  const lines = nonBlankLines(text);
  const { mend } = lineJoiner(lines);
  let out = '';
  let paragraphWords = 0;
  let paragraphHasSentenceEnd = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const line = raw.trim();
    const trailingSpaces = raw.length - raw.trimEnd().length;
    const next = lines[i + 1]?.trim();
    const previous = lines[i - 1]?.trim() ?? '';
    const heading =
      next !== undefined &&
      isHeadingLike(line) &&
      /^[\p{Lu}\p{N}“"‘]/u.test(next) &&
      (SENTENCE_END.test(previous) || previous === '' || (!paragraphHasSentenceEnd && paragraphWords + line.split(/\s+/).length <= 12));
    // A heading after a finished sentence starts its own paragraph even when the extractor did not mark one.
    if (heading && SENTENCE_END.test(previous) && out.endsWith(' ')) {
      out = out.trimEnd() + PARAGRAPH_BREAK;
      paragraphWords = 0;
      paragraphHasSentenceEnd = false;
    }
    out += line;
    paragraphWords += line.split(/\s+/).length;
    paragraphHasSentenceEnd ||= /[.!?]["”’')\]]*(\s|$)/.test(line);
    if (next === undefined) break;
    // The extractor marks a paragraph's last line with two or more trailing spaces.
    const paragraphEnd = TERMINAL.test(line) && trailingSpaces >= 2;
    if (paragraphEnd || heading) {
      out += PARAGRAPH_BREAK;
      paragraphWords = 0;
      paragraphHasSentenceEnd = false;
    } else if (/\p{L}-$/u.test(line)) {
      const tail = next.match(/^\p{L}+/u)?.[0];
      if (tail && mend(line.match(/(\p{L}+)-$/u)![1], tail)) out = out.slice(0, -1);
    } else if (/\S+@\S*$|www\.\S*$/.test(line) && !/^[\p{Lu}“"]/u.test(next)) {
      // An e-mail address or web address broken across lines.
    } else {
      out += ' ';
    }
  }
  return removeRepeatedQuotes(out).split(PARAGRAPH_BREAK);
}

const FUNCTION_WORDS = new Set('a an and as at by for from in into of on or the to with'.split(' '));

/** A short line of a few words that neither ends a sentence nor breaks off after "the", "of", a comma... */
function isHeadingLike(line: string): boolean {
  const lineWords = line.split(/\s+/);
  return (
    line.length <= 32 &&
    lineWords.length <= 6 &&
    !/[.!;,&-]["”’')\]]*$/.test(line) &&
    !FUNCTION_WORDS.has(lineWords[lineWords.length - 1].toLowerCase())
  );
}

const normalizeWords = (s: string) => (s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).join(' ');

/**
 * Removes a quotation whose words already stand elsewhere in the document (a pull quote).
 * Later quotations are checked first, so when two are identical the first one, in the body, stays.
 * Whitespace after a removed quote goes too when the text before it is mid-sentence, which
 * re-joins a sentence that the pull quote had split ("within and [quote] beyond").
 */
export function removeRepeatedQuotes(text: string): string {
  const spans: Array<[number, number]> = [];
  const quote = /[“"]([^“”"]{20,}?)[”"]/g;
  for (let m; (m = quote.exec(text)); ) spans.push([m.index, m.index + m[0].length]);
  let result = text;
  for (const [start, end] of spans.reverse()) {
    const inner = normalizeWords(result.slice(start, end));
    if (inner.split(' ').length < 8) continue;
    const rest = normalizeWords(result.slice(0, start) + ' ' + result.slice(end));
    if (!rest.includes(inner)) continue;
    const before = result.slice(0, start).replace(/ +$/, '');
    const after = result.slice(end);
    const atBoundary = before === '' || before.endsWith('\n') || SENTENCE_END.test(before);
    if (!atBoundary) result = `${before} ${after.replace(/^\s+/, '')}`;
    else {
      const rest = after.replace(/^ +/, '');
      const glue = before === '' || before.endsWith('\n') || rest.startsWith('\n') ? '' : ' ';
      result = before + glue + rest;
    }
  }
  return result.replace(/\n{3,}/g, '\n\n').trim();
}

/**
 * News pages repeat an image caption back to back ("Caption.Caption."): keep one. Two copies of a
 * sentence (21+ characters ending in . ! or ?) meet where a sentence end is followed by no space,
 * which prose rarely has, so only those places are checked (a backtracking regex over every
 * sentence end took half of SciFact's indexing time).
 */
function collapseImmediateRepeat(paragraph: string): string {
  let text = paragraph;
  for (let joint = 1; joint < text.length; joint++) {
    if (!'.!?'.includes(text[joint - 1]) || /\s/.test(text[joint])) continue;
    for (let end = joint + 20; end < text.length && end - joint + 1 <= joint; end++) {
      if (!'.!?'.includes(text[end])) continue;
      const copy = text.slice(joint, end + 1);
      if (text.startsWith(copy, joint - copy.length)) {
        text = text.slice(0, joint) + text.slice(end + 1);
        break;
      }
    }
  }
  return text;
}

/** "READ MORE: ..." and "SEE ALSO: ..." lines are links to other stories, not content. */
function isLinkBoilerplate(paragraph: string): boolean {
  return /^(read more|see also|related|advertisement)\b\s*:?/i.test(paragraph) && paragraph.length < 200;
}
