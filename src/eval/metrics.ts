/** Relevance judgements of one query: document id -> graded relevance (> 0 is relevant). */
export type Judgements = Map<string, number>;

/** nDCG@k with graded gains (2^rel - 1) and log2 discounts, as trec_eval and BEIR compute it. */
export function ndcgAt(ranking: string[], judged: Judgements, k: number): number {
  let dcg = 0;
  ranking.slice(0, k).forEach((id, i) => {
    const rel = judged.get(id) ?? 0;
    if (rel > 0) dcg += (2 ** rel - 1) / Math.log2(i + 2);
  });
  const ideal = [...judged.values()].filter((r) => r > 0).sort((a, b) => b - a).slice(0, k);
  const idcg = ideal.reduce((sum, rel, i) => sum + (2 ** rel - 1) / Math.log2(i + 2), 0);
  return idcg > 0 ? dcg / idcg : 0;
}

export function recallAt(ranking: string[], judged: Judgements, k: number): number {
  const relevant = [...judged.entries()].filter(([, r]) => r > 0).map(([id]) => id);
  if (relevant.length === 0) return 0;
  const top = new Set(ranking.slice(0, k));
  return relevant.filter((id) => top.has(id)).length / relevant.length;
}

export function mrrAt(ranking: string[], judged: Judgements, k: number): number {
  const i = ranking.slice(0, k).findIndex((id) => (judged.get(id) ?? 0) > 0);
  return i >= 0 ? 1 / (i + 1) : 0;
}

export const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** The p-th percentile by nearest rank (the 50th of an even count is the lower middle value). */
export function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Probabilities against what happened, in equal-width bins: what "answer.score is the probability it is right" is checked by. */
export interface Calibration {
  count: number;
  /** Mean squared gap between probability and outcome (0 is perfect; always saying 0.5 scores 0.25). */
  brier: number;
  /** Expected calibration error: the bins' gaps between mean probability and share right, weighted by their counts. */
  ece: number;
  bins: Array<{ from: number; to: number; count: number; meanProbability: number; rightShare: number }>;
}

export function calibration(outcomes: Array<{ probability: number; right: boolean }>, binCount = 10): Calibration {
  const bins = Array.from({ length: binCount }, (_, b) => ({ from: b / binCount, to: (b + 1) / binCount, count: 0, meanProbability: 0, rightShare: 0 }));
  let brier = 0;
  for (const { probability, right } of outcomes) {
    const bin = bins[Math.min(binCount - 1, Math.floor(probability * binCount))];
    bin.count++;
    bin.meanProbability += probability;
    bin.rightShare += right ? 1 : 0;
    brier += (probability - (right ? 1 : 0)) ** 2;
  }
  const filled = bins.filter((b) => b.count > 0).map((b) => ({ ...b, meanProbability: b.meanProbability / b.count, rightShare: b.rightShare / b.count }));
  const count = outcomes.length;
  return {
    count,
    brier: count ? brier / count : 0,
    ece: count ? filled.reduce((sum, b) => sum + (b.count / count) * Math.abs(b.meanProbability - b.rightShare), 0) : 0,
    bins: filled,
  };
}
