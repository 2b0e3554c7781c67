import { stemmer } from 'stemmer';

/** Lucene's English stop set: the one Anserini's published BM25 runs use. */
const STOP_WORDS = new Set(
  'a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with'.split(' '),
);

/** Lower-cased word tokens with diacritics removed; apostrophes inside words are dropped ("council's" -> "councils"). */
export function words(text: string): string[] {
  return (
    text
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
      .replace(/['’]s\b/g, '')
      .replace(/['’]/g, '')
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

/** Stems of words already seen: a corpus repeats its vocabulary, and stemming was a tenth of indexing time. */
const STEMS = new Map<string, string>();
const MAX_STEMS = 500_000;

export function stemOf(word: string): string {
  let s = STEMS.get(word);
  if (s === undefined) {
    s = stemmer(word);
    if (STEMS.size < MAX_STEMS) STEMS.set(word, s);
  }
  return s;
}

/** Terms for lexical matching: words without stop words, Porter-stemmed. */
export function lexicalTerms(text: string): string[] {
  const out: string[] = [];
  for (const w of words(text)) if (!STOP_WORDS.has(w)) out.push(stemOf(w));
  return out;
}

/** Words that shape a question but are not what it is about ("why did ... fail"). */
const QUESTION_WORDS = new Set('why what how who whom whose when where which did does do can could would should'.split(' '));

/** Lexical terms of a query: as for passages, without the question's own words. */
export function queryTerms(query: string): string[] {
  const out: string[] = [];
  for (const w of words(query)) if (!STOP_WORDS.has(w) && !QUESTION_WORDS.has(w)) out.push(stemOf(w));
  return out;
}
