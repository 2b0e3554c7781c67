import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openArrays, writeArrays } from '../src/index/binary.js';
import { seededRandom } from '../src/embed/train/random.js';
import { LexicalIndex, luceneLength } from '../src/index/lexicalIndex.js';

const texts = ['The council bid failed in Westminster.', 'Councils and councils again: a council story.', 'Nothing relevant here at all.'];
const params = { k1: 1.2, b: 0.75 };

const tempFile = () => join(mkdtempSync(join(tmpdir(), 'bm25-')), 'bm25.bin');

/** The index written and read back, as an index's bm25.bin is. */
function throughFile(index: LexicalIndex): LexicalIndex {
  const file = tempFile();
  writeArrays(file, index.content());
  return LexicalIndex.load(openArrays(file, 'bm25'));
}

/** Opens `bytes` as a bm25 file. */
function openBytes(bytes: Uint8Array): LexicalIndex {
  const file = tempFile();
  writeFileSync(file, bytes);
  return LexicalIndex.load(openArrays(file, 'bm25'));
}

describe('the BM25 index', () => {
  it('scores with Lucene idf, k1 and b, from a hand computation', () => {
    const index = LexicalIndex.create(texts, params);
    // Terms after stop words and stemming: [council, bid, fail, westminst], [council x3, again, stori], [noth, relev, here, all].
    const lengths = [4, 5, 4];
    const avg = 13 / 3;
    const idfCouncil = Math.log(1 + (3 - 2 + 0.5) / (2 + 0.5));
    const part = (tf: number, len: number) => (tf * 2.2) / (tf + 1.2 * (1 - 0.75 + (0.75 * len) / avg));
    const scores = index.scores('why did the council fail?');
    const idfFail = Math.log(1 + (3 - 1 + 0.5) / (1 + 0.5));
    expect(scores[0]).toBeCloseTo(idfCouncil * part(1, lengths[0]) + idfFail * part(1, lengths[0]), 10);
    expect(scores[1]).toBeCloseTo(idfCouncil * part(3, lengths[1]), 10);
    expect(scores[2]).toBe(0);
  });

  it("reads a long text's length as Lucene stores it (one byte: exact to 40, then four significant bits)", () => {
    // Lucene's SmallFloat.byte4ToInt(intToByte4(n)); pg_textsearch stores lengths the same way.
    expect([0, 23, 24, 39, 40, 41, 42, 43, 69, 71, 72, 83, 100, 1000].map(luceneLength)).toEqual([0, 23, 24, 39, 40, 40, 42, 42, 68, 68, 72, 80, 96, 984]);
    const long = ['council ' + 'word '.repeat(69), 'council story'];
    const index = LexicalIndex.create(long, params);
    const avg = (70 + 2) / 2;
    const idf = Math.log(1 + (2 - 2 + 0.5) / (2 + 0.5));
    // 70 terms are read as 68.
    expect(index.scores('council')[0]).toBeCloseTo((idf * 2.2) / (1 + 1.2 * (1 - 0.75 + (0.75 * 68) / avg)), 10);
  });

  it('survives its binary encoding and picks the top labels through a filter', () => {
    const index = LexicalIndex.create(texts, params);
    const reloaded = throughFile(index);
    expect(Array.from(reloaded.scores('council bid'))).toEqual(Array.from(index.scores('council bid')));
    expect(reloaded.idf('council')).toBe(index.idf('council'));
    // A reused label takes its terms from the loaded index as from the built one.
    const updated = LexicalIndex.create(['', 'a new text about ferries'], params, { from: reloaded, labels: [1, null] });
    expect(updated.scores('council')[0]).toBeGreaterThan(0);
    expect(() => openBytes(Buffer.from('{"params":{}}'))).toThrowError(/not a bm25 file/);
    const file = tempFile();
    writeArrays(file, index.content());
    const whole = readFileSync(file);
    expect(() => openBytes(whole.subarray(0, whole.length - 16))).toThrowError(/cut short/);
    const scores = index.scores('council');
    expect(LexicalIndex.top(scores, 5).map(([label]) => label)).toEqual([1, 0]);
    expect(LexicalIndex.top(scores, 5, (label) => label !== 1).map(([label]) => label)).toEqual([0]);
    expect(index.scores('the and of').every((s) => s === 0)).toBe(true);
  });

  it('picks the same k best as sorting every hit (score, then label, with ties and zeros)', () => {
    const random = seededRandom(1);
    // Scores on a coarse grid so that ties are common; about a third are zero (no match).
    const scores = Float64Array.from({ length: 5000 }, () => Math.max(0, Math.floor(random() * 30) - 10) / 4);
    const sorted = [...scores.keys()].filter((l) => scores[l] > 0).sort((a, b) => scores[b] - scores[a] || a - b);
    for (const k of [0, 1, 7, 100, 3000, 10_000]) {
      expect(LexicalIndex.top(scores, k).map(([label]) => label)).toEqual(sorted.slice(0, k));
    }
    expect(LexicalIndex.top(scores, 50, (l) => l % 2 === 0).map(([label]) => label)).toEqual(sorted.filter((l) => l % 2 === 0).slice(0, 50));
  });
});
