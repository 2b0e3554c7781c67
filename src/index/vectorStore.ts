import hnswlib from 'hnswlib-node';

const { HierarchicalNSW } = hnswlib;

/** Approximate nearest neighbours over unit vectors, in an HNSW graph stored as one file. */
export class VectorStore {
  private constructor(private readonly hnsw: InstanceType<typeof HierarchicalNSW>, readonly dim: number, readonly size: number) {}

  static create(vectors: Float32Array[], dim: number): VectorStore {
    // Inner product equals cosine similarity on normalised vectors, and stays defined for an all-zero vector.
    const hnsw = new HierarchicalNSW('ip', dim);
    hnsw.initIndex(Math.max(1, vectors.length), 16, 200, 100);
    vectors.forEach((v, label) => hnsw.addPoint(Array.from(v), label));
    return new VectorStore(hnsw, dim, vectors.length);
  }

  static async load(file: string, dim: number, size: number): Promise<VectorStore> {
    const hnsw = new HierarchicalNSW('ip', dim);
    await hnsw.readIndex(file);
    if (hnsw.getCurrentCount() !== size) throw new Error(`${file} holds ${hnsw.getCurrentCount()} vectors, the manifest says ${size}`);
    return new VectorStore(hnsw, dim, size);
  }

  async save(file: string): Promise<void> {
    await this.hnsw.writeIndex(file);
  }

  /** Labels and cosine similarities of the nearest vectors, best first. */
  search(query: Float32Array, k: number, filter?: (label: number) => boolean): Array<{ label: number; score: number }> {
    // hnswlib throws when asked for more neighbours than it holds.
    const n = Math.min(k, this.size);
    if (n === 0) return [];
    this.hnsw.setEf(Math.max(100, n));
    const { neighbors, distances } = this.hnsw.searchKnn(Array.from(query), n, filter);
    return neighbors.map((label, i) => ({ label, score: 1 - distances[i] }));
  }

  vector(label: number): Float32Array {
    return Float32Array.from(this.hnsw.getPoint(label));
  }
}
