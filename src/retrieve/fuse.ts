/** Standard scores (mean 0, deviation 1) of a list; all zeros when the list has no spread. */
export function standardize(values: number[]): number[] {
  if (values.length === 0) return [];
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return sd > 1e-9 ? values.map((v) => (v - mean) / sd) : values.map(() => 0);
}

/**
 * Weighted sum of standardised dense and BM25 scores over the union of both candidate lists.
 * Measured against reciprocal rank fusion: with a weak dense side RRF lets its noise outvote
 * BM25, while a weighted sum keeps the size of each side's margin (see README, "Fusion").
 */
export function fuseScores(dense: number[], bm25: number[], denseWeight: number): number[] {
  const zDense = standardize(dense);
  const zBm25 = standardize(bm25);
  return zDense.map((d, i) => denseWeight * d + (1 - denseWeight) * zBm25[i]);
}
