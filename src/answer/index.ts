import type { Config } from '../config.js';
import type { Answer, SearchHit } from '../types.js';

const logistic = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * The sentence from the top passages that best answers the question: its own score (match to the
 * question and fit to its type, from retrieval) and the strength of its passage.
 * Null when the best candidate scores below config.answer.minScore.
 */
export function extractAnswer(hits: SearchHit[], config: Config): Answer | null {
  let best: Answer | null = null;
  for (const hit of hits.slice(0, config.answer.passagesConsidered)) {
    const score = Math.max(0, Math.min(1, 0.7 * hit.sentence.score + 0.3 * logistic(hit.score)));
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
