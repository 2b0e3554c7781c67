import { isEnglishWord } from './words.js';

/**
 * Joins lines: a word hyphenated at a line's end is mended where the joined word is a word
 * ("re-" "spectively") and the document never writes it with the hyphen; a number range keeps
 * its dash without a space ("2018-" "2036"); other lines meet with a space.
 */
export function lineJoiner(allLines: string[]) {
  const words = new Set<string>();
  const hyphenated = new Set<string>();
  for (const line of allLines) {
    for (const w of line.toLowerCase().match(/\p{L}+(?:-\p{L}+)*/gu) ?? []) (w.includes('-') ? hyphenated : words).add(w);
  }
  const isWord = (w: string) => words.has(w) || isEnglishWord(w);
  /** Whether "head-" + "tail" broken at a line's end is one word written "headtail". */
  const mend = (head: string, tail: string) => !hyphenated.has(`${head}-${tail}`.toLowerCase()) && isWord(`${head}${tail}`.toLowerCase());
  /** `next` after `text`, and where in the result `next` begins. */
  const joinPair = (text: string, next: string): { text: string; at: number } => {
    const broken = text.match(/(\p{L}+)-$/u);
    const tail = next.match(/^\p{Ll}+/u);
    if (broken && tail) return mend(broken[1], tail[0]) ? { text: text.slice(0, -1) + next, at: text.length - 1 } : { text: text + next, at: text.length };
    // "Pre-" + "Submission": a compound broken at its hyphen.
    if (broken && /^\p{Lu}/u.test(next)) return { text: text + next, at: text.length };
    if (/\d[-–]$/.test(text) && /^\d/.test(next)) return { text: text + next, at: text.length };
    // A web address broken across lines.
    if (/(https?:\/\/|www\.)\S*[-/._]$/.test(text) && /^\S+$/.test(next.split(' ')[0])) return { text: text + next, at: text.length };
    return { text: `${text} ${next}`, at: text.length + 1 };
  };
  const join = (lines: string[]) => lines.filter(Boolean).reduce((text, line) => (text ? joinPair(text, line).text : line), '');
  return { join, joinPair, mend };
}

