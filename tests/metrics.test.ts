import { describe, expect, it } from 'vitest';
import { calibration, mean, mrrAt, ndcgAt, percentile, recallAt } from '../src/eval/metrics.js';

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

describe('calibration', () => {
  it('bins probabilities, compares each bin\'s mean with its share right, and weighs the gaps by count', () => {
    // Bin 0.2-0.3: mean 0.25, 1 of 4 right (calibrated); bin 0.9-1: mean 0.95, 1 of 2 right (gap 0.45).
    const outcomes = [
      ...[0.2, 0.25, 0.25, 0.3 - 1e-9].map((probability, i) => ({ probability, right: i === 0 })),
      { probability: 0.9, right: true },
      { probability: 1, right: false },
    ];
    const c = calibration(outcomes);
    expect(c.count).toBe(6);
    expect(c.bins.map((b) => [b.from, b.count])).toEqual([[0.2, 4], [0.9, 2]]);
    expect(c.bins[0].meanProbability).toBeCloseTo(0.25, 6);
    expect(c.bins[0].rightShare).toBe(0.25);
    expect(c.bins[1].meanProbability).toBeCloseTo(0.95, 6);
    expect(c.ece).toBeCloseTo((4 / 6) * 0 + (2 / 6) * 0.45, 6);
    const brier = (0.8 ** 2 + 0.25 ** 2 * 2 + (0.3 - 1e-9) ** 2 + 0.1 ** 2 + 1) / 6;
    expect(c.brier).toBeCloseTo(brier, 6);
    expect(calibration([])).toEqual({ count: 0, brier: 0, ece: 0, bins: [] });
  });
});
