import { beforeAll, describe, expect, it } from 'vitest';
import { AnswerReader, candidatesOf, shippedAnswerReader } from '../src/answer/reader/model.js';
import { SentenceCache, WordVectors } from '../src/answer/sentences.js';
import type { Archive } from '../src/archive.js';
import type { Embedder } from '../src/embed/index.js';
import { inMemory } from '../src/index/binary.js';
import { DocumentTexts } from '../src/index/texts.js';
import { seedArchive } from './helpers.js';

/**
 * The bounded caches under capacities far below what a query uses: answers must not change when
 * entries are dropped (an entry dropped to make room is still returned by the call that made it),
 * and a dropped entry is computed again the next time, while a kept one is not.
 */

let archive: Archive;
beforeAll(async () => {
  archive = await seedArchive();
});

/** The archive's real model, with every text and word it is asked to embed written down. */
function recording(embedder: Embedder) {
  const texts: string[] = [];
  const words: string[] = [];
  const spied: Embedder = {
    ...embedder,
    info: embedder.info,
    folder: embedder.folder,
    vocabulary: embedder.vocabulary,
    embed: (batch, kind, onProgress) => (texts.push(...batch), embedder.embed(batch, kind, onProgress)),
    embedWords: (batch) => (words.push(...batch), embedder.embedWords(batch)),
  };
  return { spied, texts, words };
}

describe('the sentence cache', () => {
  it('returns the same sentences and vectors with room for 2 passages as with room for all, and re-embeds only what it dropped', async () => {
    const chunks = archive.index.chunks.slice(0, 6);
    const whole = await new SentenceCache(archive.embedder).of(chunks);
    const { spied, texts } = recording(archive.embedder);
    const small = new SentenceCache(spied, 2);
    const got = await small.of(chunks);
    expect(got.map((p) => p.spans)).toEqual(whole.map((p) => p.spans));
    expect(got.map((p) => p.vectors.map((v) => [...v]))).toEqual(whole.map((p) => p.vectors.map((v) => [...v])));
    expect(got.map((p) => [...p.allTerms])).toEqual(whole.map((p) => [...p.allTerms]));
    const embedded = texts.length;
    expect(embedded).toBe(whole.flatMap((p) => p.spans).length);
    // The last two passages are kept: asking again embeds nothing.
    await small.of(chunks.slice(4));
    expect(texts.length).toBe(embedded);
    // The first was dropped: asking again embeds its sentences, and only those.
    const again = await small.of(chunks.slice(0, 1));
    expect(texts.slice(embedded)).toEqual(whole[0].spans.map((s) => s.text));
    expect(again[0].vectors.map((v) => [...v])).toEqual(whole[0].vectors.map((v) => [...v]));
  });
});

describe('the word vectors cache', () => {
  it('gives the same similarities with room for 3 words as with room for all, and asks again only for dropped words', async () => {
    const words = ['devolution', 'council', 'mayor', 'bid'];
    const to = ['combined', 'authority', 'Solent', 'Hampshire', 'failed', 'council'];
    const whole = await new WordVectors(archive.embedder).similarities(words, to);
    const { spied, words: asked } = recording(archive.embedder);
    const small = new WordVectors(spied, 3);
    expect([...(await small.similarities(words, to))]).toEqual([...whole]);
    const before = asked.length;
    // Of the 9 distinct words only the 3 used last are kept ("Solent", "Hampshire", "failed").
    await small.of(['failed', 'Hampshire']);
    expect(asked.length).toBe(before);
    await small.of(['devolution', 'failed']);
    expect(asked.slice(before)).toEqual(['devolution']);
  });
});

describe('the document texts cache', () => {
  it('reads every text right with room for one decoded document', () => {
    const texts = ['Première partie — Hampshire', 'Second: the Isle of Wight', '', 'Third, with “quotes” and ünïcödé'];
    const { bytes, offsets } = DocumentTexts.encode(texts);
    const cached = new DocumentTexts(inMemory(bytes), offsets, 1);
    for (const order of [0, 1, 0, 3, 2, 3, 1]) expect(cached.text(order)).toBe(texts[order]);
    expect(cached.count).toBe(4);
  });
});

describe('the reader caches', () => {
  it('score the same with room for 3 token states and 2 texts as with the defaults', async () => {
    const shipped = shippedAnswerReader();
    const tiny = new AnswerReader(shipped.model, shipped.vectors, { states: 3, texts: 2 });
    const fresh = new AnswerReader(shipped.model, shipped.vectors);
    const sentences = archive.index.chunks.slice(0, 3).map((c) => c.text);
    for (const question of ['Why did the 2016 bid fail?', 'Who did the council leaders write to?', 'Why did the 2016 bid fail?']) {
      const expected = await fresh.score(question, candidatesOf(sentences));
      const got = await tiny.score(question, candidatesOf(sentences));
      got.forEach((score, i) => expect(score).toBeCloseTo(expected[i], 6));
    }
  });
});
