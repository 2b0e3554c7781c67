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
