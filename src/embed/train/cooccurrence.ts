/**
 * Sparse word-by-word co-occurrence counts, built one row at a time from an inverted index of
 * occurrences, so memory holds only the finished rows (CSR), never a table of all pairs.
 */

/** A training context: word ids plus how co-occurrence is counted inside it. */
export interface Context {
  ids: Int32Array;
  /** 'bag': every pair in the context counts `weight`; 'window': pairs within `window` positions count weight / distance. */
  kind: 'bag' | 'window';
  weight: number;
}

export interface SparseMatrix {
  size: number;
  rowStart: Int32Array;
  cols: Int32Array;
  values: Float32Array;
}

export function cooccurrence(contexts: Context[], vocabSize: number, window: number): SparseMatrix {
  // occurrences of each word: (context, position) pairs, grouped by word.
  const counts = new Int32Array(vocabSize + 1);
  for (const c of contexts) for (const id of c.ids) counts[id + 1]++;
  for (let i = 0; i < vocabSize; i++) counts[i + 1] += counts[i];
  const occContext = new Int32Array(counts[vocabSize]);
  const occPosition = new Int32Array(counts[vocabSize]);
  const fill = counts.slice(0, vocabSize);
  contexts.forEach((c, ci) => c.ids.forEach((id, p) => {
    occContext[fill[id]] = ci;
    occPosition[fill[id]++] = p;
  }));

  const scratch = new Float64Array(vocabSize);
  const touched = new Int32Array(vocabSize);
  const rowStart = new Int32Array(vocabSize + 1);
  let cols = new Int32Array(1 << 20);
  let values = new Float32Array(1 << 20);
  let nnz = 0;
  for (let w = 0; w < vocabSize; w++) {
    let nTouched = 0;
    const add = (j: number, v: number) => {
      if (j === w) return;
      if (scratch[j] === 0) touched[nTouched++] = j;
      scratch[j] += v;
    };
    for (let o = counts[w]; o < counts[w + 1]; o++) {
      const c = contexts[occContext[o]];
      const p = occPosition[o];
      if (c.kind === 'bag') for (let q = 0; q < c.ids.length; q++) { if (q !== p) add(c.ids[q], c.weight); }
      else {
        const lo = Math.max(0, p - window);
        const hi = Math.min(c.ids.length - 1, p + window);
        for (let q = lo; q <= hi; q++) if (q !== p) add(c.ids[q], c.weight / Math.abs(q - p));
      }
    }
    const row = touched.subarray(0, nTouched).sort();
    if (nnz + nTouched > cols.length) {
      const grow = Math.max(cols.length * 2, nnz + nTouched);
      const nc = new Int32Array(grow); nc.set(cols.subarray(0, nnz)); cols = nc;
      const nv = new Float32Array(grow); nv.set(values.subarray(0, nnz)); values = nv;
    }
    for (const j of row) {
      cols[nnz] = j;
      values[nnz++] = scratch[j];
      scratch[j] = 0;
    }
    rowStart[w + 1] = nnz;
  }
  return { size: vocabSize, rowStart, cols: cols.slice(0, nnz), values: values.slice(0, nnz) };
}

/**
 * Positive pointwise mutual information, in place, with context-distribution smoothing (alpha = 0.75):
 * PPMI(w, c) = max(0, log(P(w, c) / (P(w) P_alpha(c)))). Smoothing keeps rare contexts from dominating.
 */
export function ppmi(m: SparseMatrix, alpha = 0.75): SparseMatrix {
  const rowSum = new Float64Array(m.size);
  const colSum = new Float64Array(m.size);
  let total = 0;
  for (let i = 0; i < m.size; i++) {
    for (let k = m.rowStart[i]; k < m.rowStart[i + 1]; k++) {
      rowSum[i] += m.values[k];
      colSum[m.cols[k]] += m.values[k];
      total += m.values[k];
    }
  }
  let smoothedTotal = 0;
  const colSmoothed = colSum.map((c) => Math.pow(c, alpha));
  for (const c of colSmoothed) smoothedTotal += c;
  for (let i = 0; i < m.size; i++) {
    for (let k = m.rowStart[i]; k < m.rowStart[i + 1]; k++) {
      const pmi = Math.log((m.values[k] / total) / ((rowSum[i] / total) * (colSmoothed[m.cols[k]] / smoothedTotal)));
      m.values[k] = pmi > 0 ? pmi : 0;
    }
  }
  return m;
}
