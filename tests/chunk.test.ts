import { describe, expect, it } from 'vitest';
import { chunkDocument, splitSentences } from '../src/chunk/index.js';
import { loadConfig } from '../src/config.js';
import { readCorpus } from '../src/ingest/index.js';
import type { SourceDocument } from '../src/types.js';
import { SEEDS } from './helpers.js';

const { chunking } = loadConfig();
const { documents } = await readCorpus(SEEDS);
const words = (s: string) => s.split(/\s+/).filter(Boolean).length;

describe('chunking the seeds', () => {
  it.each(documents.map((d) => [d.source, d] as const))('%s: offsets round-trip and sentences are never cut', (_source, doc: SourceDocument) => {
    const chunks = chunkDocument(doc, chunking);
    const sentences = splitSentences(doc.text);
    const starts = new Set(sentences.map((s) => s.start));
    const ends = new Set(sentences.map((s) => s.end));
    expect(chunks.length).toBeGreaterThan(0);
    for (const chunk of chunks) {
      expect(chunk.text).toBe(doc.text.slice(chunk.start, chunk.end));
      expect(chunk.docId).toBe(doc.id);
      expect(starts.has(chunk.start)).toBe(true);
      expect(ends.has(chunk.end)).toBe(true);
      const single = sentences.filter((s) => s.start >= chunk.start && s.end <= chunk.end).length === 1;
      if (!single) expect(words(chunk.text)).toBeLessThanOrEqual(chunking.maxWords);
    }
    // A passage under the target closes only where the next sentence would pass maxWords, at a heading, or at the end.
    const headings = new Set((doc.headings ?? []).map((h) => h.start));
    for (const chunk of chunks) {
      if (words(chunk.text) >= chunking.targetWords) continue;
      const next = sentences.find((s) => s.start >= chunk.end);
      if (next) expect(words(chunk.text) + words(doc.text.slice(next.start, next.end)) > chunking.maxWords || headings.has(next.start), `a ${words(chunk.text)}-word passage closed early`).toBe(true);
    }
    // Every sentence is in some chunk, and neighbours share exactly the configured overlap.
    for (const s of sentences) expect(chunks.some((c) => c.start <= s.start && s.end <= c.end)).toBe(true);
    for (let i = 1; i < chunks.length; i++) {
      const shared = sentences.filter((s) => s.start >= chunks[i].start && s.end <= chunks[i - 1].end).length;
      expect(shared).toBe(chunking.overlapSentences);
    }
  });
});

describe('passage sizes on the seeds', () => {
  it('come near chunking.targetWords: the median between the target and maxWords, few far under it', () => {
    const sizes = documents.flatMap((d) => chunkDocument(d, chunking).map((c) => words(c.text))).sort((a, b) => a - b);
    const median = sizes[Math.floor(sizes.length / 2)];
    process.stderr.write(`[chunk] ${sizes.length} passages: median ${median} words, smallest ${sizes[0]}, largest ${sizes.at(-1)}\n`);
    expect(median).toBeGreaterThanOrEqual(chunking.targetWords);
    expect(median).toBeLessThanOrEqual(chunking.maxWords);
    // Short passages are a document's last, or end at a heading: a tenth at most.
    expect(sizes.filter((n) => n < chunking.targetWords / 2).length).toBeLessThanOrEqual(sizes.length / 10);
  });
});

describe('splitSentences', () => {
  it('does not split after abbreviations or inside a quoted question', () => {
    const text = 'Cllr. House said so. Our report ‘Is there strategy?’ was well received. Next.';
    expect(splitSentences(text).map((s) => text.slice(s.start, s.end))).toEqual(['Cllr. House said so.', 'Our report ‘Is there strategy?’ was well received.', 'Next.']);
  });

  it('ends a sentence at a paragraph break', () => {
    const text = 'A heading\n\nThe body starts here. It goes on.';
    expect(splitSentences(text).map((s) => text.slice(s.start, s.end))).toEqual(['A heading', 'The body starts here.', 'It goes on.']);
  });

  it('keeps one over-long sentence whole', () => {
    const long = `Long ${Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ')}.`;
    const doc = { id: 'd', source: 'd.txt', title: 'd', date: null, publisher: null, url: null, text: `Short one. ${long} Short two.` };
    const chunks = chunkDocument(doc, { targetWords: 50, maxWords: 100, overlapSentences: 1 });
    expect(chunks.some((c) => c.text === long)).toBe(true);
  });
});
