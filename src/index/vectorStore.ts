import hnswlib from 'hnswlib-node';
import { inMemory, type ArrayRanges } from './binary.js';

const { HierarchicalNSW } = hnswlib;

/** Graph settings, the same for both stores (pgvector's HNSW index is created with them). */
export const M = 16;
// 100 builds 1.6x faster than 200 for 0.006 less recall@10 at ef 64 (npm run bench-scale; README).
export const EF_CONSTRUCTION = 100;
const SEED = 100;
/** Candidates a graph search keeps by default (both stores: pgvector's hnsw.ef_search is set to it). */
export const SEARCH_EF = 100;

/** Vectors in one chunk-major array: what VectorStore.create takes and vectors.f32 holds. */
export function packVectors(vectors: ArrayLike<Float32Array>, dim: number): Float32Array {
  const flat = new Float32Array(vectors.length * dim);
  for (let i = 0; i < vectors.length; i++) flat.set(vectors[i], i * dim);
  return flat;
}

/** A chunk's vector: reused from the previous index under its HNSW label, or new (to be added). */
export type ChunkVector = { label: number | null; vector: Float32Array };

/**
 * Approximate nearest neighbours over unit vectors, in an HNSW graph stored as one file. HNSW labels
 * are not chunk ids: an incremental update deletes the labels of removed passages and adds new
 * ones, so the graph of unchanged passages is kept rather than rebuilt.
 */
export class VectorStore {
  private constructor(
    private readonly hnsw: InstanceType<typeof HierarchicalNSW>,
    readonly dim: number,
    /** HNSW label of each chunk id. */
    readonly labels: Int32Array,
    /** Chunk id of each HNSW label; -1 for deleted labels. */
    private readonly chunkOfLabel: Int32Array,
    /**
     * Every chunk's vector, chunk-major (what vectors.f32 holds): in memory for a store just built,
     * read from the file a few at a time for a loaded one (exact scores of the candidates the lexical
     * side found; hnswlib's own getPoint is ten times slower than a read).
     */
    readonly vectors: ArrayRanges<Float32Array>,
  ) {}

  get size(): number {
    return this.labels.length;
  }

  /** Labels in the graph, deleted ones included: what the file holds. */
  get labelCount(): number {
    return this.chunkOfLabel.length;
  }

  private static assemble(hnsw: InstanceType<typeof HierarchicalNSW>, dim: number, labels: Int32Array, labelCount: number, vectors: ArrayRanges<Float32Array>): VectorStore {
    const chunkOfLabel = new Int32Array(labelCount).fill(-1);
    labels.forEach((label, chunk) => (chunkOfLabel[label] = chunk));
    return new VectorStore(hnsw, dim, labels, chunkOfLabel, vectors);
  }

  /** A new graph over `flat` (every chunk's vector, chunk-major; see packVectors), label = chunk id. */
  static create(flat: Float32Array, dim: number, onProgress?: (done: number, total: number) => void): VectorStore {
    const count = flat.length / dim;
    // Inner product equals cosine similarity on normalised vectors, and stays defined for an all-zero vector.
    const hnsw = new HierarchicalNSW('ip', dim);
    hnsw.initIndex(Math.max(1, count), M, EF_CONSTRUCTION, SEED);
    for (let label = 0; label < count; label++) {
      hnsw.addPoint(Array.from(flat.subarray(label * dim, (label + 1) * dim)), label);
      if (onProgress && (label % 1000 === 999 || label === count - 1)) onProgress(label + 1, count);
    }
    return VectorStore.assemble(hnsw, dim, Int32Array.from({ length: count }, (_, i) => i), count, inMemory(flat));
  }

  /**
   * The previous graph (read from its file) with the labels no chunk reuses deleted and the new
   * vectors added under fresh labels. The previous store is left as it was.
   */
  static async update(previousFile: string, previous: VectorStore, chunks: ChunkVector[]): Promise<VectorStore> {
    const hnsw = new HierarchicalNSW('ip', previous.dim);
    await hnsw.readIndex(previousFile);
    const added = chunks.filter((c) => c.label === null).length;
    hnsw.resizeIndex(Math.max(1, previous.labelCount + added));
    const reused = new Set(chunks.flatMap((c) => (c.label === null ? [] : [c.label])));
    previous.chunkOfLabel.forEach((chunk, label) => {
      if (chunk >= 0 && !reused.has(label)) hnsw.markDelete(label);
    });
    let next = previous.labelCount;
    const labels = Int32Array.from(chunks, (c) => {
      if (c.label !== null) return c.label;
      hnsw.addPoint(Array.from(c.vector), next);
      return next++;
    });
    return VectorStore.assemble(hnsw, previous.dim, labels, next, inMemory(packVectors(chunks.map((c) => c.vector), previous.dim)));
  }

  /** The graph in `file`, with each chunk's label (chunks.bin) and vector (vectors.f32). */
  static async load(file: string, dim: number, labels: Int32Array, labelCount: number, vectors: ArrayRanges<Float32Array>): Promise<VectorStore> {
    const hnsw = new HierarchicalNSW('ip', dim);
    await hnsw.readIndex(file);
    if (hnsw.getCurrentCount() !== labelCount) throw new Error(`${file} holds ${hnsw.getCurrentCount()} vectors, the manifest says ${labelCount}`);
    if (vectors.length !== labels.length * dim) throw new Error(`the stored vectors are ${vectors.length} values, not ${labels.length} x ${dim}`);
    return VectorStore.assemble(hnsw, dim, labels, labelCount, vectors);
  }

  /** The same graph with its vectors read from `vectors` (the file just written) rather than held in memory. */
  withVectors(vectors: ArrayRanges<Float32Array>): VectorStore {
    return new VectorStore(this.hnsw, this.dim, this.labels, this.chunkOfLabel, vectors);
  }

  async save(file: string): Promise<void> {
    await this.hnsw.writeIndex(file);
  }

  /**
   * Chunk ids and cosine similarities of the nearest vectors, best first. `ef` is how many
   * candidates the graph search keeps (more: better recall, slower; npm run bench-scale measures it).
   */
  search(query: Float32Array, k: number, filter?: (chunk: number) => boolean, ef = Math.max(SEARCH_EF, k)): Array<{ chunk: number; score: number }> {
    // hnswlib throws when asked for more neighbours than it holds.
    const n = Math.min(k, this.size);
    if (n === 0) return [];
    this.hnsw.setEf(Math.max(ef, n));
    const { neighbors, distances } = this.hnsw.searchKnn(Array.from(query), n, filter ? (label: number) => filter(this.chunkOfLabel[label]) : undefined);
    return neighbors.map((label, i) => ({ chunk: this.chunkOfLabel[label], score: 1 - distances[i] }));
  }

  /** The vector of a chunk id. */
  vector(chunk: number): Float32Array {
    return this.vectors.range(chunk * this.dim, (chunk + 1) * this.dim);
  }
}
