import { describe, expect, it } from 'vitest';
import { mean, mrrAt, ndcgAt, percentile, recallAt } from '../src/eval/metrics.js';

// Values computed by hand (the README's SciFact figures rest on these functions).
describe('ranking metrics', () => {
  const judged = new Map([
    ['b', 1],
    ['d', 2],
    ['z', 0],
  ]);

  it('nDCG@k: graded gains 2^rel - 1, log2(rank + 1) discounts, against the ideal order', () => {
    // DCG = 1/log2(3) + 3/log2(5) = 0.6309298 + 1.2920297; IDCG = 3/log2(2) + 1/log2(3) = 3.6309298.
    expect(ndcgAt(['a', 'b', 'c', 'd'], judged, 4)).toBeCloseTo(1.9229595 / 3.6309298, 6);
    // Cut at 2: only b counts; the ideal's top two are still d then b.
    expect(ndcgAt(['a', 'b', 'c', 'd'], judged, 2)).toBeCloseTo(0.6309298 / 3.6309298, 6);
    expect(ndcgAt(['d', 'b'], judged, 10)).toBeCloseTo(1, 10);
    expect(ndcgAt(['a', 'z'], judged, 10)).toBe(0);
    expect(ndcgAt(['a'], new Map([['z', 0]]), 10)).toBe(0);
  });

  it('recall@k: the share of relevant documents in the top k', () => {
    const three = new Map([
      ['b', 1],
      ['d', 1],
      ['e', 1],
    ]);
    expect(recallAt(['a', 'b', 'c', 'd'], three, 2)).toBeCloseTo(1 / 3, 10);
    expect(recallAt(['a', 'b', 'c', 'd'], three, 4)).toBeCloseTo(2 / 3, 10);
    expect(recallAt(['a'], new Map([['a', 0]]), 4)).toBe(0);
  });

  it('MRR@k: one over the rank of the first relevant document within k', () => {
    expect(mrrAt(['a', 'b', 'c', 'd'], judged, 10)).toBe(0.5);
    expect(mrrAt(['a', 'c', 'e', 'd'], judged, 10)).toBe(0.25);
    expect(mrrAt(['a', 'b'], judged, 1)).toBe(0);
    expect(mrrAt(['z'], judged, 10)).toBe(0);
  });

  it('percentiles by nearest rank, and the mean', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 99)).toBe(5);
    expect(percentile([4, 1, 3, 2], 50)).toBe(2);
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90)).toBe(90);
    expect(mean([1, 2])).toBe(1.5);
    expect(mean([])).toBe(0);
  });
});
