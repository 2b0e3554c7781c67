/**
 * The embedded vector store at scale, on deterministic synthetic passages (vectors at the built-in
 * model's dimension; no text, no model): build time and peak memory, size on disk, open time, and
 * the table ann-benchmarks prints: recall@10 against exact search over `--queries` held-out
 * queries, and queries per second, for each `ef` of a sweep, with the smallest `ef` that reaches
 * recall 0.90, 0.95 and 0.99. Everything goes through the store the index uses (VectorStore over
 * hnswlib-node, vectors.f32 written and read by src/index/binary.ts). Exact search is one
 * onnxruntime matrix product per block of passages.
 *
 * The vectors are a mixture: passages gather around topics (one per 1,000 passages), as an
 * archive's do, each a unit vector at cosine about 0.7 to its topic's centre. Uniform random
 * vectors in 256 dimensions have no near neighbours worth the name and measure nothing useful.
 *
 * Usage: npm run --silent bench-scale -- --passages N [--queries 1000] [--dim 256] [--seed 1]
 * (table on stderr, JSON on stdout; run with node --expose-gc, as the npm script does, so the
 * built graph is freed before the saved one is opened).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { progressBar } from '../src/cli/progress.js';
import { DEFAULT_BUILTIN_OPTIONS } from '../src/embed/builtinModel.js';
import { seededRandom } from '../src/embed/train/random.js';
import { createDenseOps } from '../src/embed/train/denseOps.js';
import { openArrays, writeArrays } from '../src/index/binary.js';
import { VectorStore } from '../src/index/vectorStore.js';

const count = (min: number, max: number) => (v: string) => {
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${v} must be a whole number from ${min} to ${max}`);
  return n;
};
const options = new Command()
  .requiredOption('--passages <n>', 'passages in the store', count(1000, 10_000_000))
  .option('--queries <n>', 'held-out queries for recall and speed', count(10, 100_000), 1000)
  .option('--dim <n>', 'vector dimension (default: the built-in model\'s)', count(2, 4096), DEFAULT_BUILTIN_OPTIONS.dim)
  .option('--seed <n>', 'seed of the synthetic passages', count(0, 2 ** 31), 1)
  .parse()
  .opts<{ passages: number; queries: number; dim: number; seed: number }>();

const { passages, queries: queryCount, dim } = options;
const K = 10;
const EFS = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024];
const log = (m: string) => process.stderr.write(`${m}\n`);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => log('(run with node --expose-gc to free the built graph before opening the saved one)'));

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

/** Standard normal deviates (Box-Muller) from a seeded generator. */
function normals(seed: number): () => number {
  const random = seededRandom(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const [u, v] = [random() || 1e-12, random()];
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

function normalise(v: Float32Array): void {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i] * v[i];
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < v.length; i++) v[i] /= norm;
}

const topics = Math.max(10, Math.round(passages / 1000));
const centres = new Float32Array(topics * dim);
{
  const normal = normals(options.seed);
  for (let t = 0; t < topics; t++) {
    const c = centres.subarray(t * dim, (t + 1) * dim);
    for (let d = 0; d < dim; d++) c[d] = normal();
    normalise(c);
  }
}

/** `n` unit vectors, each near a topic's centre (noise of norm about 1, so cosine about 0.7 to it). */
function synthetic(n: number, seed: number): Float32Array {
  const normal = normals(seed);
  const topicOf = seededRandom(seed + 7);
  const out = new Float32Array(n * dim);
  const scale = 1 / Math.sqrt(dim);
  for (let i = 0; i < n; i++) {
    const v = out.subarray(i * dim, (i + 1) * dim);
    const t = Math.floor(topicOf() * topics);
    for (let d = 0; d < dim; d++) v[d] = centres[t * dim + d] + normal() * scale;
    normalise(v);
  }
  return out;
}

log(`Generating ${passages} passages and ${queryCount} queries at ${dim} dimensions (${topics} topics)...`);
let flat: Float32Array | null = synthetic(passages, options.seed + 1);
const queries = synthetic(queryCount, options.seed + 2);
const query = (q: number) => queries.subarray(q * dim, (q + 1) * dim);

// Build: the graph over every vector, as buildIndex makes it.
const bar = progressBar('Building the graph');
const rssBeforeBuild = process.memoryUsage().rss;
let t = performance.now();
let built: VectorStore | null = VectorStore.create(flat, dim, (done, total) => bar.update(done, total));
bar.stop();
const buildS = (performance.now() - t) / 1000;
log(`Built in ${buildS.toFixed(1)} s (${Math.round(passages / buildS)} passages/s).`);

const dir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
t = performance.now();
writeArrays(join(dir, 'vectors.f32'), { kind: 'vectors', meta: { dim }, arrays: { vectors: flat } });
await built.save(join(dir, 'vectors.hnsw'));
const saveS = (performance.now() - t) / 1000;
const diskBytes = statSync(join(dir, 'vectors.f32')).size + statSync(join(dir, 'vectors.hnsw')).size;
const buildPeakRss = peakRss;

// Exact top-10 of every query: (passages x dim) x (dim x queries) a block at a time, keeping each query's best.
log('Exact search for the ground truth...');
const ops = await createDenseOps();
const transposed = new Float32Array(dim * queryCount);
for (let q = 0; q < queryCount; q++) for (let d = 0; d < dim; d++) transposed[d * queryCount + q] = queries[q * dim + d];
const best = Array.from({ length: queryCount }, () => ({ ids: new Int32Array(K).fill(-1), scores: new Float32Array(K).fill(-Infinity) }));
const BLOCK = 32_768;
const exactBar = progressBar('Exact search (passages)');
t = performance.now();
for (let from = 0; from < passages; from += BLOCK) {
  const rows = Math.min(BLOCK, passages - from);
  const scores = await ops.times(flat.subarray(from * dim, (from + rows) * dim), transposed, rows, dim, queryCount);
  for (let q = 0; q < queryCount; q++) {
    const { ids, scores: top } = best[q];
    for (let r = 0; r < rows; r++) {
      const s = scores[r * queryCount + q];
      if (s <= top[K - 1]) continue;
      let i = K - 1;
      for (; i > 0 && top[i - 1] < s; i--) [top[i], ids[i]] = [top[i - 1], ids[i - 1]];
      [top[i], ids[i]] = [s, from + r];
    }
  }
  exactBar.update(from + rows, passages);
}
exactBar.stop();
const exactS = (performance.now() - t) / 1000;

// Open: what a server does at start (the graph read by hnswlib, the vectors left on disk).
flat = null;
built = null;
gc();
t = performance.now();
const vectors = openArrays(join(dir, 'vectors.f32'), 'vectors').ranges('vectors', 'f32');
const store = await VectorStore.load(join(dir, 'vectors.hnsw'), dim, Int32Array.from({ length: passages }, (_, i) => i), passages, vectors);
const openS = (performance.now() - t) / 1000;
const rssOpen = process.memoryUsage().rss;

// The sweep: recall@10 and queries per second (one thread, one query at a time) at each ef.
const sweep = EFS.map((ef) => {
  for (let q = 0; q < Math.min(50, queryCount); q++) store.search(query(q), K, undefined, ef); // warm
  let hits = 0;
  const start = performance.now();
  for (let q = 0; q < queryCount; q++) {
    const found = store.search(query(q), K, undefined, ef);
    const truth = new Set(best[q].ids);
    hits += found.filter((f) => truth.has(f.chunk)).length;
  }
  const seconds = (performance.now() - start) / 1000;
  return { ef, recall: hits / (queryCount * K), qps: queryCount / seconds };
});
clearInterval(sampler);
rmSync(dir, { recursive: true, force: true });

const atRecall = Object.fromEntries([0.9, 0.95, 0.99].map((target) => [target, sweep.find((s) => s.recall >= target) ?? null]));
const figures = {
  store: 'embedded',
  passages,
  dim,
  queries: queryCount,
  buildSeconds: buildS,
  buildPassagesPerSecond: passages / buildS,
  saveSeconds: saveS,
  buildPeakRssMiB: mib(buildPeakRss),
  buildRssGrowthMiB: mib(buildPeakRss - rssBeforeBuild),
  diskMiB: mib(diskBytes),
  openSeconds: openS,
  rssAfterOpenMiB: mib(rssOpen),
  exactSearchSeconds: exactS,
  peakRssMiB: mib(peakRss),
  sweep,
  atRecall,
};
log('');
log(`embedded store, ${passages} passages x ${dim}: built in ${buildS.toFixed(1)} s, peak ${mib(buildPeakRss)} MiB; ${mib(diskBytes)} MiB on disk; opened in ${openS.toFixed(2)} s`);
log('ef      recall@10  queries/s');
for (const s of sweep) log(`${String(s.ef).padEnd(8)}${s.recall.toFixed(4).padEnd(11)}${s.qps.toFixed(0)}`);
for (const [target, s] of Object.entries(atRecall)) log(`recall >= ${target}: ${s ? `ef ${s.ef}, recall ${s.recall.toFixed(4)}, ${s.qps.toFixed(0)} queries/s` : 'not reached in the sweep'}`);
process.stdout.write(`${JSON.stringify(figures)}\n`);
