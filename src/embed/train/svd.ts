import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { SparseMatrix } from './cooccurrence.js';
import { createDenseOps, type DenseOps } from './denseOps.js';
import { seededRandom } from './random.js';

/** out = M · Q for sparse M, with Q and out row-major (size x k). */
function sparseTimes(m: SparseMatrix, q: Float32Array, k: number): Float32Array {
  const out = new Float32Array(m.size * k);
  const acc = new Float64Array(k);
  for (let i = 0; i < m.size; i++) {
    acc.fill(0);
    for (let p = m.rowStart[i]; p < m.rowStart[i + 1]; p++) {
      const v = m.values[p];
      if (v === 0) continue;
      const r = m.cols[p] * k;
      for (let c = 0; c < k; c++) acc[c] += v * q[r + c];
    }
    out.set(acc, i * k);
  }
  return out;
}

const toMatrix = (flat: Float32Array, rows: number, cols: number) => {
  const m = new Matrix(rows, cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m.set(r, c, flat[r * cols + c]);
  return m;
};

/** Columns of `pick` scaled by f(eigenvalue), as a flat k x picked.length matrix. */
function eigenColumns(evd: EigenvalueDecomposition, pick: Array<readonly [number, number]>, f: (v: number) => number): Float32Array {
  const k = evd.eigenvectorMatrix.rows;
  const out = new Float32Array(k * pick.length);
  pick.forEach(([v, i], col) => { for (let r = 0; r < k; r++) out[r * pick.length + col] = evd.eigenvectorMatrix.get(r, i) * f(v); });
  return out;
}

/** Orthonormal columns spanning q's, through the eigen-decomposition of QᵀQ (tiny directions dropped). */
async function orthonormalize(ops: DenseOps, q: Float32Array, rows: number, k: number): Promise<{ q: Float32Array; k: number }> {
  const gram = toMatrix(await ops.transposeTimes(q, q, rows, k, k), k, k);
  const evd = new EigenvalueDecomposition(gram.add(gram.transpose()).div(2), { assumeSymmetric: true });
  const max = Math.max(...evd.realEigenvalues);
  const keep = evd.realEigenvalues.map((v, i) => [v, i] as const).filter(([v]) => v > max * 1e-8);
  return { q: await ops.times(q, eigenColumns(evd, keep, (v) => 1 / Math.sqrt(v)), rows, k, keep.length), k: keep.length };
}

/**
 * Top eigenpairs of a symmetric sparse matrix by randomized subspace iteration (Halko et al. 2011):
 * Q spans M·Ω, refined by power iterations, then the small QᵀMQ is solved exactly.
 * Returns word vectors U·λ^eigenPower for the `dim` largest positive eigenvalues (row-major, size x dim).
 */
export async function embedSymmetric(m: SparseMatrix, dim: number, options: { oversample?: number; powerIterations?: number; seed?: number; eigenPower?: number } = {}): Promise<{ vectors: Float32Array; dim: number }> {
  const { oversample = 16, powerIterations = 3, seed = 42, eigenPower = 0.5 } = options;
  const ops = await createDenseOps({ everyCore: true });
  const random = seededRandom(seed);
  let k = Math.min(dim + oversample, m.size);
  let q: Float32Array = new Float32Array(m.size * k).map(() => random() * 2 - 1);
  for (let it = 0; it <= powerIterations; it++) ({ q, k } = await orthonormalize(ops, sparseTimes(m, q, k), m.size, k));
  const small = toMatrix(await ops.transposeTimes(q, sparseTimes(m, q, k), m.size, k, k), k, k);
  const evd = new EigenvalueDecomposition(small.add(small.transpose()).div(2), { assumeSymmetric: true });
  const top = evd.realEigenvalues.map((v, i) => [v, i] as const).filter(([v]) => v > 0).sort((x, y) => y[0] - x[0]).slice(0, dim);
  return { vectors: await ops.times(q, eigenColumns(evd, top, (v) => Math.pow(v, eigenPower)), m.size, k, top.length), dim: top.length };
}
