import { Matrix, solve } from 'ml-matrix';
import { z } from 'zod';

/** A fitted logistic regression over standardised features: p = sigmoid(bias + sum w_i (x_i - mean_i) / std_i). */
export const LogisticSchema = z.object({
  features: z.array(z.string()),
  weights: z.array(z.number()),
  bias: z.number(),
  mean: z.array(z.number()),
  std: z.array(z.number()),
});
export type Logistic = z.infer<typeof LogisticSchema>;

export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The model's log-odds for one feature vector. */
export function logit(model: Logistic, x: number[]): number {
  let z = model.bias;
  for (let i = 0; i < model.weights.length; i++) z += (model.weights[i] * (x[i] - model.mean[i])) / model.std[i];
  return z;
}

export const probability = (model: Logistic, x: number[]) => sigmoid(logit(model, x));

/**
 * Fits an L2-regularised logistic regression by Newton's method (iteratively reweighted least
 * squares): a few dozen features and tens of thousands of rows converge in about ten steps, and
 * the result is exact and deterministic. `l2` is the penalty on standardised weights (the bias is
 * not penalised).
 */
export function fitLogistic(names: string[], rows: number[][], labels: number[], l2 = 1, rowWeights: number[] = rows.map(() => 1)): Logistic {
  const n = rows.length;
  const d = names.length;
  const mean = names.map((_, j) => rows.reduce((s, r) => s + r[j], 0) / n);
  const std = names.map((_, j) => Math.sqrt(rows.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / n) || 1);
  const x = rows.map((r) => [1, ...r.map((v, j) => (v - mean[j]) / std[j])]);
  let beta = new Array(d + 1).fill(0);
  for (let iteration = 0; iteration < 50; iteration++) {
    const gradient = new Array(d + 1).fill(0);
    const hessian = Matrix.zeros(d + 1, d + 1);
    for (let i = 0; i < n; i++) {
      const p = sigmoid(x[i].reduce((s, v, j) => s + v * beta[j], 0));
      const w = rowWeights[i] * Math.max(p * (1 - p), 1e-9);
      for (let j = 0; j <= d; j++) {
        gradient[j] += rowWeights[i] * (labels[i] - p) * x[i][j];
        for (let k = j; k <= d; k++) hessian.set(j, k, hessian.get(j, k) + w * x[i][j] * x[i][k]);
      }
    }
    for (let j = 0; j <= d; j++) {
      if (j > 0) {
        gradient[j] -= l2 * beta[j];
        hessian.set(j, j, hessian.get(j, j) + l2);
      }
      for (let k = 0; k < j; k++) hessian.set(j, k, hessian.get(k, j));
    }
    const step = solve(hessian, Matrix.columnVector(gradient)).to1DArray();
    beta = beta.map((b, j) => b + step[j]);
    if (Math.max(...step.map(Math.abs)) < 1e-8) break;
  }
  return { features: names, weights: beta.slice(1), bias: beta[0], mean, std };
}

/**
 * Fits a conditional logit (a softmax over each group's rows): P(row | group) = exp(w.x) / sum
 * exp(w.x'), the likelihood of each group's positive rows, so the weights learn which candidate of
 * a question answers it, not how answerable the question is (that is the trigger's job). Newton's
 * method again; groups without a positive row carry no information and are skipped.
 */
export function fitConditionalLogit(names: string[], groups: Array<{ rows: number[][]; labels: number[]; weight?: number }>, l2 = 1): Logistic {
  const used = groups.filter((g) => g.labels.some((l) => l > 0) && g.labels.some((l) => l === 0));
  const all = used.flatMap((g) => g.rows);
  const d = names.length;
  const mean = names.map((_, j) => all.reduce((s, r) => s + r[j], 0) / all.length);
  const std = names.map((_, j) => Math.sqrt(all.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / all.length) || 1);
  const standard = used.map((g) => ({ x: g.rows.map((r) => r.map((v, j) => (v - mean[j]) / std[j])), labels: g.labels, weight: g.weight ?? 1 }));
  /** The penalised log-likelihood of weights v. */
  const objective = (v: number[]) => {
    let total = -0.5 * l2 * v.reduce((s, x) => s + x * x, 0);
    for (const { x, labels, weight } of standard) {
      const scores = x.map((row) => row.reduce((s, value, j) => s + value * v[j], 0));
      const max = Math.max(...scores);
      const all = scores.reduce((s, z) => s + Math.exp(z - max), 0);
      const positive = scores.reduce((s, z, i) => s + (labels[i] > 0 ? Math.exp(z - max) : 0), 0);
      total += weight * (Math.log(positive) - Math.log(all));
    }
    return total;
  };
  let w = new Array(d).fill(0);
  let current = objective(w);
  for (let iteration = 0; iteration < 50; iteration++) {
    const gradient = w.map((v) => -l2 * v);
    // The Hessian of the softmax over all candidates (positive definite); the positives' own spread is left out, which keeps Newton's steps safe.
    const hessian = Matrix.eye(d, d).mul(l2);
    for (const { x, labels, weight } of standard) {
      const scores = x.map((row) => row.reduce((s, v, j) => s + v * w[j], 0));
      const max = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - max));
      const total = e.reduce((a, b) => a + b, 0);
      const positive = e.reduce((s, v, i) => s + (labels[i] > 0 ? v : 0), 0);
      const mean = new Array(d).fill(0);
      const meanPositive = new Array(d).fill(0);
      x.forEach((row, i) => {
        const p = e[i] / total;
        const q = labels[i] > 0 ? e[i] / positive : 0;
        for (let j = 0; j < d; j++) {
          mean[j] += p * row[j];
          meanPositive[j] += q * row[j];
        }
      });
      x.forEach((row, i) => {
        const p = (weight * e[i]) / total;
        for (let j = 0; j < d; j++) for (let k = j; k < d; k++) hessian.set(j, k, hessian.get(j, k) + p * (row[j] - mean[j]) * (row[k] - mean[k]));
      });
      for (let j = 0; j < d; j++) gradient[j] += weight * (meanPositive[j] - mean[j]);
    }
    for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) hessian.set(j, k, hessian.get(k, j));
    const step = solve(hessian, Matrix.columnVector(gradient)).to1DArray();
    // Backtracking: halve the step until the objective improves.
    let scale = 1;
    let next = w.map((v, j) => v + step[j]);
    let value = objective(next);
    while (value < current && scale > 1e-4) {
      scale /= 2;
      next = w.map((v, j) => v + scale * step[j]);
      value = objective(next);
    }
    if (value < current) break;
    const moved = Math.max(...step.map((s) => Math.abs(s * scale)));
    [w, current] = [next, value];
    if (moved < 1e-6) break;
  }
  return { features: names, weights: w, bias: 0, mean, std };
}
