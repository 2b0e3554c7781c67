import hnswlib from 'hnswlib-node';

const { HierarchicalNSW } = hnswlib;

/** Approximate nearest neighbours over unit vectors, in an HNSW graph stored as one file. */
export class VectorStore {
  private constructor(
    private readonly hnsw: InstanceType<typeof HierarchicalNSW>,
    readonly dim: number,
    readonly size: number,
    /** Every vector in one array (label-major), for exact scores of candidates found by the other side. */
    private readonly flat: Float32Array,
  ) {}

  static create(vectors: Float32Array[], dim: number): VectorStore {
    // Inner product equals cosine similarity on normalised vectors, and stays defined for an all-zero vector.
    const hnsw = new HierarchicalNSW('ip', dim);
    hnsw.initIndex(Math.max(1, vectors.length), 16, 200, 100);
    const flat = new Float32Array(vectors.length * dim);
    vectors.forEach((v, label) => {
      hnsw.addPoint(Array.from(v), label);
      flat.set(v, label * dim);
    });
    return new VectorStore(hnsw, dim, vectors.length, flat);
  }

  static async load(file: string, dim: number, size: number): Promise<VectorStore> {
    const hnsw = new HierarchicalNSW('ip', dim);
    await hnsw.readIndex(file);
    if (hnsw.getCurrentCount() !== size) throw new Error(`${file} holds ${hnsw.getCurrentCount()} vectors, the manifest says ${size}`);
    const flat = new Float32Array(size * dim);
    for (let label = 0; label < size; label++) flat.set(hnsw.getPoint(label), label * dim);
    return new VectorStore(hnsw, dim, size, flat);
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
    return this.flat.subarray(label * this.dim, (label + 1) * this.dim);
  }
}
