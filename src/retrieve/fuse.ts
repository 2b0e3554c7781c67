/** Standard scores (mean 0, deviation 1) of a list; all zeros when the list has no spread. */
export function standardize(values: number[]): number[] {
  if (values.length === 0) return [];
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return sd > 1e-9 ? values.map((v) => (v - mean) / sd) : values.map(() => 0);
}

/**
 * Weighted sum of standardised features (dense similarity, passage BM25, document BM25) over the
 * union of the candidate lists. Measured against reciprocal rank fusion: with a weak dense side
 * RRF lets its noise outvote BM25, while a weighted sum keeps the size of each side's margin.
 */
export function fuseScores(features: number[][], weights: number[]): number[] {
  const standardized = features.map(standardize);
  const n = features[0]?.length ?? 0;
  return Array.from({ length: n }, (_, i) => standardized.reduce((sum, z, f) => sum + weights[f] * z[i], 0));
}
