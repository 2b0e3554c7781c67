import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Archive } from '../src/archive.js';
import { bertWords } from '../src/embed/vocabulary.js';
import { writeWordCountCrossEncoder } from './fixtures/crossEncoder.js';
import { SEEDS, seedArchive, tempDir } from './helpers.js';

const QUERY = 'why did the 2016 bid fail';
const count = (text: string, word: string) => bertWords(text).filter((w) => w === word).length;

let plain: Archive;
let reranked: Archive;
let rerankDir: string;
beforeAll(async () => {
  rerankDir = tempDir('rerank-');
  const texts = readdirSync(SEEDS).filter((f) => f.endsWith('.txt')).map((f) => readFileSync(join(SEEDS, f), 'utf8'));
  writeWordCountCrossEncoder(join(rerankDir, 'rayner-counter'), texts, { rayner: 1 });
  plain = await seedArchive();
  reranked = await seedArchive({ retrieval: { rerank: { model: 'rayner-counter', modelsDir: rerankDir, candidates: 500 } } });
});

describe('cross-encoder reranking through transformers.js', () => {
  it('is off by default', () => {
    expect(plain.reranker).toBeNull();
  });

  it('re-orders the fused top passages by the cross-encoder, which reads the passage side of each pair', async () => {
    expect(reranked.reranker?.id).toBe('rayner-counter');
    const before = (await plain.search(QUERY, { k: 10 })).results;
    const after = (await reranked.search(QUERY, { k: 10 })).results;
    const counts = after.map((r) => count(r.text, 'rayner'));
    expect(count(before[0].text, 'rayner')).toBe(0);
    expect(counts[0]).toBeGreaterThan(0);
    // Order by the model's logit (the count), non-increasing down the list.
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    expect(after.map((r) => r.score)).toEqual([...after.map((r) => r.score)].sort((a, b) => b - a));
  });

  it('keeps the fused order at weight 0', async () => {
    const fusedWeight = reranked.withConfig({ ...reranked.config, retrieval: { ...reranked.config.retrieval, rerank: { ...reranked.config.retrieval.rerank, weight: 0 } } });
    const fusedOnly = (await plain.search(QUERY, { k: 10 })).results.map((r) => r.start);
    expect((await fusedWeight.search(QUERY, { k: 10 })).results.map((r) => r.start)).toEqual(fusedOnly);
  });

  it('says what is wrong when the configured reranker is missing', async () => {
    await expect(seedArchive({ retrieval: { rerank: { model: 'no-such-reranker', modelsDir: rerankDir } } })).rejects.toThrow(/Reranker "no-such-reranker" was not found at .*no-such-reranker, and remote models are off/);
  });
});
