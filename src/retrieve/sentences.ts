import { splitSentences } from '../chunk/index.js';
import type { Embedder } from '../embed/index.js';
import { lexicalTerms } from '../text/tokens.js';
import type { Chunk } from '../types.js';

/** Cues that a sentence carries the kind of fact a question asks for (a cause for "why", a date for "when"...). */
const QUESTION_CUES: Array<{ question: RegExp; sentence: RegExp }> = [
  { question: /^\s*why\b|\breason/i, sentence: /\b(because|due to|as a result|after|since|so that|reasons?|refused|turned down|rejected|stalled|failed|led to|owing to)\b/i },
  { question: /^\s*when\b|\bwhat (year|date)\b/i, sentence: /\b(1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|october|november|december|spring|summer|autumn|winter)\b/i },
  { question: /^\s*(how many|how much)\b/i, sentence: /\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|hundred|thousand|million|billion)\b/i },
  { question: /^\s*who\b/i, sentence: /\b[A-Z][a-z]+ [A-Z][a-z]+\b|\b(council|leader|minister|secretary|mayor|chancellor|government)\b/ },
];

/** Fewer words than this is a dateline, a caption or a heading, not an answer. */
const MIN_ANSWER_WORDS = 5;

/**
 * How much a sentence's form suits the question, added to its match: a lift when it carries what
 * the question type asks for, a penalty when it is too short to say anything (a dateline that
 * matches "2013" is not what happened in 2013).
 */
export function answerShape(question: string): (sentence: string) => number {
  const cue = QUESTION_CUES.find((c) => c.question.test(question));
  return (sentence) => (cue?.sentence.test(sentence) ? 0.1 : 0) - (sentence.split(/\s+/).filter(Boolean).length < MIN_ANSWER_WORDS ? 0.2 : 0);
}

/** A passage's sentences as the answer step scores them: offsets, text, vector and lexical terms. */
export interface PassageSentences {
  spans: Array<{ start: number; end: number; text: string }>;
  vectors: Float32Array[];
  terms: Array<Set<string>>;
}

/**
 * Sentences of passages, split, embedded and stemmed once and kept for the passages asked about
 * most recently: re-embedding every shown passage's sentences was most of a query's time. The
 * cache is bounded (least recently used passages leave first), so memory stays flat under load.
 */
export class SentenceCache {
  private readonly entries = new Map<number, PassageSentences>();

  constructor(
    private readonly embedder: Embedder,
    private readonly capacity = 3000,
  ) {}

  async of(chunks: Chunk[]): Promise<PassageSentences[]> {
    const missing = [...new Map(chunks.filter((c) => !this.entries.has(c.id)).map((c) => [c.id, c])).values()];
    if (missing.length) {
      const spans = missing.map((c) => splitSentences(c.text).map((s) => ({ start: c.start + s.start, end: c.start + s.end, text: c.text.slice(s.start, s.end) })));
      const vectors = await this.embedder.embed(spans.flat().map((s) => s.text), 'passage');
      let cursor = 0;
      missing.forEach((c, n) => {
        const count = spans[n].length;
        this.entries.set(c.id, { spans: spans[n], vectors: vectors.slice(cursor, (cursor += count)), terms: spans[n].map((s) => new Set(lexicalTerms(s.text))) });
      });
    }
    const found = chunks.map((c) => {
      const entry = this.entries.get(c.id)!;
      // Re-inserting marks it most recently used, so the oldest entries are the ones dropped.
      this.entries.delete(c.id);
      this.entries.set(c.id, entry);
      return entry;
    });
    for (const id of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(id);
    }
    return found;
  }
}
