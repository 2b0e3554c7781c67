import type { Config } from '../config.js';
import type { Answer, SearchHit } from '../types.js';

/** Cues that a sentence carries the kind of fact a question asks for. */
const QUESTION_CUES: Array<{ question: RegExp; sentence: RegExp }> = [
  { question: /^\s*why\b|\breason/i, sentence: /\b(because|due to|as a result|after|since|so that|reasons?|refused|turned down|rejected|stalled|failed|led to|owing to)\b/i },
  { question: /^\s*when\b|\bwhat (year|date)\b/i, sentence: /\b(1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|october|november|december|spring|summer|autumn|winter)\b/i },
  { question: /^\s*(how many|how much)\b/i, sentence: /\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|hundred|thousand|million|billion)\b/i },
  { question: /^\s*who\b/i, sentence: /\b[A-Z][a-z]+ [A-Z][a-z]+\b|\b(council|leader|minister|secretary|mayor|chancellor|government)\b/ },
];

const logistic = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * The sentence from the top passages that best answers the question: its own match to the
 * question, the strength of its passage, and whether it carries what the question type asks for.
 * Null when the best candidate scores below config.answer.minScore.
 */
export function extractAnswer(question: string, hits: SearchHit[], config: Config): Answer | null {
  const cue = QUESTION_CUES.find((c) => c.question.test(question));
  let best: Answer | null = null;
  for (const hit of hits.slice(0, config.answer.passagesConsidered)) {
    const bonus = cue && cue.sentence.test(hit.sentence.text) ? 0.1 : 0;
    const score = Math.max(0, Math.min(1, 0.7 * hit.sentence.score + 0.3 * logistic(hit.score) + bonus));
    if (!best || score > best.score) {
      best = {
        text: hit.sentence.text,
        score: Math.round(score * 1000) / 1000,
        citation: { docId: hit.docId, source: hit.source, title: hit.title, date: hit.date, page: hit.sentence.page, start: hit.sentence.start, end: hit.sentence.end },
      };
    }
  }
  return best && best.score >= config.answer.minScore ? best : null;
}
