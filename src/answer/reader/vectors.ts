import { readFileSync } from 'node:fs';

/**
 * The reader's fixed word vectors (src/answer/reader/word-vectors.bin, written by `npm run
 * train-reader`): one unit-length vector per word, built once from WordNet and the reader's
 * training text, so they do not depend on any archive. Stored as int8 (x/127) beside each word's
 * rarity (-ln p, in twelfths), in one binary file:
 * "RWV1", uint32 dim, uint32 count, uint32 byte length of the words, the words joined by "\n"
 * (UTF-8, padded to 4 bytes), count x dim int8, count uint8.
 */
export interface WordVectorTable {
  dim: number;
  words: string[];
  /** Row-major count x dim. */
  vectors: Float32Array;
  /** -ln p(word) in the text the vectors were built from. */
  rarity: Float32Array;
  index: Map<string, number>;
}

const MAGIC = 'RWV1';
/** Rarity a word without a vector is given: rarer than any word with one. */
export const UNKNOWN_RARITY = 21;

export function encodeWordVectors(words: string[], vectors: Float32Array, dim: number, rarity: Float32Array): Buffer {
  const text = Buffer.from(words.join('\n'), 'utf8');
  const padded = Math.ceil(text.length / 4) * 4;
  const out = Buffer.alloc(16 + padded + words.length * dim + words.length);
  out.write(MAGIC, 0, 'ascii');
  out.writeUInt32LE(dim, 4);
  out.writeUInt32LE(words.length, 8);
  out.writeUInt32LE(text.length, 12);
  text.copy(out, 16);
  let at = 16 + padded;
  for (let i = 0; i < words.length * dim; i++) out.writeInt8(Math.max(-127, Math.min(127, Math.round(vectors[i] * 127))), at++);
  for (let i = 0; i < words.length; i++) out.writeUInt8(Math.max(0, Math.min(255, Math.round(rarity[i] * 12))), at++);
  return out;
}

export function decodeWordVectors(data: Buffer): WordVectorTable {
  if (data.toString('ascii', 0, 4) !== MAGIC) throw new Error('not a reader word-vector file (no RWV1 header)');
  const dim = data.readUInt32LE(4);
  const count = data.readUInt32LE(8);
  const textLength = data.readUInt32LE(12);
  const words = count ? data.toString('utf8', 16, 16 + textLength).split('\n') : [];
  let at = 16 + Math.ceil(textLength / 4) * 4;
  if (words.length !== count || data.length !== at + count * dim + count) throw new Error('reader word-vector file is truncated or inconsistent');
  // Plain loops: Float32Array.from with a mapping function took 0.4 s over the 3.8 million numbers.
  const stored = new Int8Array(data.buffer, data.byteOffset + at, count * dim);
  const vectors = new Float32Array(count * dim);
  for (let i = 0; i < vectors.length; i++) vectors[i] = stored[i] / 127;
  const rarity = new Float32Array(count);
  for (let i = 0; i < count; i++) rarity[i] = data[at + count * dim + i] / 12;
  return { dim, words, vectors, rarity, index: new Map(words.map((w, i) => [w, i])) };
}

export const readWordVectors = (file: string | URL): WordVectorTable => decodeWordVectors(readFileSync(file));
