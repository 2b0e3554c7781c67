import hnswlib from 'hnswlib-node';

const { HierarchicalNSW } = hnswlib;

const M = 16;
const EF_CONSTRUCTION = 200;
const SEED = 100;

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
  ) {}

  get size(): number {
    return this.labels.length;
  }

  /** Labels in the graph, deleted ones included: what the file holds. */
  get labelCount(): number {
    return this.chunkOfLabel.length;
  }

  private static assemble(hnsw: InstanceType<typeof HierarchicalNSW>, dim: number, labels: Int32Array, labelCount: number): VectorStore {
    const chunkOfLabel = new Int32Array(labelCount).fill(-1);
    labels.forEach((label, chunk) => (chunkOfLabel[label] = chunk));
    return new VectorStore(hnsw, dim, labels, chunkOfLabel);
  }

  /** A new graph over the vectors, label = chunk id. */
  static create(vectors: Float32Array[], dim: number): VectorStore {
    // Inner product equals cosine similarity on normalised vectors, and stays defined for an all-zero vector.
    const hnsw = new HierarchicalNSW('ip', dim);
    hnsw.initIndex(Math.max(1, vectors.length), M, EF_CONSTRUCTION, SEED);
    vectors.forEach((v, label) => hnsw.addPoint(Array.from(v), label));
    return VectorStore.assemble(hnsw, dim, Int32Array.from(vectors.keys()), vectors.length);
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
    return VectorStore.assemble(hnsw, previous.dim, labels, next);
  }

  /** The graph in `file`, with each chunk's label (chunks.bin). */
  static async load(file: string, dim: number, labels: Int32Array, labelCount: number): Promise<VectorStore> {
    const hnsw = new HierarchicalNSW('ip', dim);
    await hnsw.readIndex(file);
    if (hnsw.getCurrentCount() !== labelCount) throw new Error(`${file} holds ${hnsw.getCurrentCount()} vectors, the manifest says ${labelCount}`);
    return VectorStore.assemble(hnsw, dim, labels, labelCount);
  }

  async save(file: string): Promise<void> {
    await this.hnsw.writeIndex(file);
  }

  /** Chunk ids and cosine similarities of the nearest vectors, best first. */
  search(query: Float32Array, k: number, filter?: (chunk: number) => boolean): Array<{ chunk: number; score: number }> {
    // hnswlib throws when asked for more neighbours than it holds.
    const n = Math.min(k, this.size);
    if (n === 0) return [];
    this.hnsw.setEf(Math.max(100, n));
    const { neighbors, distances } = this.hnsw.searchKnn(Array.from(query), n, filter ? (label: number) => filter(this.chunkOfLabel[label]) : undefined);
    return neighbors.map((label, i) => ({ chunk: this.chunkOfLabel[label], score: 1 - distances[i] }));
  }

  /**
   * The vector of a chunk id, as the graph stores it ('ip' space keeps vectors as given). The graph
   * is the one copy of the vectors, on disk and in memory: exact scores for candidates the lexical
   * side found, and vectors reused when the graph is rebuilt, are read from it.
   */
  vector(chunk: number): Float32Array {
    return Float32Array.from(this.hnsw.getPoint(this.labels[chunk]));
  }
}
