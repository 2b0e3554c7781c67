import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildSummary, openArchive } from '../src/archive.js';
import { chunkDocument } from '../src/chunk/index.js';
import { loadConfig, type Config } from '../src/config.js';
import type { Embedder } from '../src/embed/index.js';
import { buildIndex, describeChanges, EmbeddedStore, openIndex } from '../src/index/index.js';
import { readCorpus } from '../src/ingest/index.js';
import { copyOfSeeds, seedModel, tempDir } from './helpers.js';

const QUESTIONS = ['why did the 2016 bid fail', 'what replaced the Hampshire Senate', 'ferry subsidy for the island', 'Heart of Wessex'];
const CHANGED = '002_d7df6b83d73dff84.txt';
const REMOVED = '003_b19f9eb657466ce4.txt';

let embedder: Embedder;
beforeAll(async () => {
  embedder = await seedModel();
});

/** The real model, counting the passages it is asked to embed. */
function counting(): { model: Embedder; passages: () => number } {
  let passages = 0;
  return {
    model: { ...embedder, embed: (texts, kind, onProgress) => ((passages += kind === 'passage' ? texts.length : 0), embedder.embed(texts, kind, onProgress)) },
    passages: () => passages,
  };
}

async function passagesOf(config: Config, sources: string[]): Promise<number> {
  const { documents } = await readCorpus(config.corpusDir);
  return documents.filter((d) => sources.includes(d.source)).reduce((n, d) => n + chunkDocument(d, config.chunking).length, 0);
}

describe('incremental updates', () => {
  it('embeds only the passages of added and changed files, and answers as a full rebuild would', async () => {
    const config = loadConfig({ corpusDir: copyOfSeeds(), indexDir: join(tempDir(), 'index') });
    const first = await buildIndex(config, { embedder: embedder });
    expect(first.fullRebuild).toBe('there is no readable index to update');

    writeFileSync(join(config.corpusDir, 'added.md'), '# Ferry note\n\nThe council agreed a ferry subsidy for the island after the Solent deal collapsed.');
    appendFileSync(join(config.corpusDir, CHANGED), '\nA late correction: the letter was sent in July.\n');
    rmSync(join(config.corpusDir, REMOVED));
    const { model, passages } = counting();
    const update = await buildIndex(config, { embedder: model });
    expect(update.fullRebuild).toBeNull();
    expect(update.changes).toEqual({ added: ['added.md'], changed: [CHANGED], removed: [REMOVED], catalog: null });
    const expected = await passagesOf(config, ['added.md', CHANGED]);
    expect(update.embedded).toBe(expected);
    expect(passages()).toBe(expected);
    expect(update.manifest.counts.chunks).toBeGreaterThan(expected);

    const updated = await openArchive(config, embedder);
    expect((updated.index.store as EmbeddedStore).vectors.labelCount).toBeGreaterThan((updated.index.store as EmbeddedStore).vectors.size); // deleted passages stay in the graph, marked
    const rebuiltConfig = loadConfig({ corpusDir: config.corpusDir, indexDir: join(tempDir(), 'index') });
    const full = await buildIndex(rebuiltConfig, { embedder: embedder });
    expect(full.manifest.id).toBe(update.manifest.id);
    const rebuilt = await openArchive(rebuiltConfig, embedder);
    for (const q of QUESTIONS) expect(await updated.search(q, { k: 10 })).toEqual(await rebuilt.search(q, { k: 10 }));
  });

  it('embeds nothing when nothing changed, and re-embeds a document whose title changed', async () => {
    const config = loadConfig({ corpusDir: copyOfSeeds(), indexDir: join(tempDir(), 'index') });
    await buildIndex(config, { embedder: embedder });
    const same = await buildIndex(config, { embedder: embedder });
    expect(same).toMatchObject({ fullRebuild: null, embedded: 0, changes: { added: [], changed: [], removed: [], catalog: null } });

    const catalogFile = join(config.corpusDir, 'catalog.json');
    const catalog = JSON.parse(readFileSync(catalogFile, 'utf8'));
    catalog.files[CHANGED].title = 'A new title for the Rayner letter story';
    writeFileSync(catalogFile, JSON.stringify(catalog));
    const retitled = await buildIndex(config, { embedder: embedder });
    // The catalog is the documents' metadata, not a document: its change is reported apart.
    expect(retitled.changes).toEqual({ added: [], changed: [], removed: [], catalog: 'changed' });
    expect(buildSummary(retitled).changes).toEqual({ added: { count: 0, first: [] }, changed: { count: 0, first: [] }, removed: { count: 0, first: [] }, catalog: 'changed' });
    expect(describeChanges(retitled.changes)).toEqual(['catalog.json changed']);
    expect(retitled.embedded).toBe(await passagesOf(config, [CHANGED]));
    rmSync(catalogFile);
    expect((await buildIndex(config, { embedder })).changes).toEqual({ added: [], changed: [], removed: [], catalog: 'removed' });
  });

  it('rebuilds the graph from stored vectors once too much of it is deleted', async () => {
    const config = loadConfig({ corpusDir: copyOfSeeds(), indexDir: join(tempDir(), 'index') });
    await buildIndex(config, { embedder: embedder });
    rmSync(join(config.corpusDir, '001_004c609643dbb3e3.txt'));
    const { model, passages } = counting();
    const update = await buildIndex(config, { embedder: model });
    expect(passages()).toBe(0);
    expect(update.changes.removed).toEqual(['001_004c609643dbb3e3.txt']);
    const index = await openIndex(config.indexDir);
    expect((index.store as EmbeddedStore).vectors.labelCount).toBe((index.store as EmbeddedStore).vectors.size);
  });

  it('embeds everything again when the chunking settings change', async () => {
    const config = loadConfig({ corpusDir: copyOfSeeds(), indexDir: join(tempDir(), 'index') });
    await buildIndex(config, { embedder: embedder });
    const rechunked = await buildIndex(loadConfig({ ...config, chunking: { ...config.chunking, targetWords: 60 } }), { embedder });
    expect(rechunked.fullRebuild).toBe('the chunking settings changed');
    expect(rechunked.embedded).toBe(rechunked.manifest.counts.chunks);
  });
});
