import { appendFileSync, cpSync, readFileSync, readdirSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openArchive, prepareArchive } from '../src/archive.js';
import { loadConfig } from '../src/config.js';
import type { Embedder } from '../src/embed/index.js';
import { buildIndex, EmbeddedStore, indexStaleness, openIndex, readManifest } from '../src/index/index.js';
import { copyOfSeeds, seedModel, tempDir } from './helpers.js';

const QUESTIONS = ['why did the 2016 bid fail', 'what replaced the Hampshire Senate', 'Heart of Wessex'];

async function freshIndex() {
  const config = loadConfig({ corpusDir: copyOfSeeds(), indexDir: join(tempDir(), 'index') });
  const embedder = await seedModel();
  const report = await buildIndex(config, { embedder });
  return { config, embedder, report };
}

const generation = (indexDir: string) => readFileSync(join(indexDir, 'CURRENT'), 'utf8').trim();

describe('the index on disk', () => {
  it('survives a save and load: the reloaded index answers exactly as before', async () => {
    const { config, embedder, report } = await freshIndex();
    // The index as the build left it in memory, against the same index read back from disk.
    const first = (await openArchive(config, embedder)).withIndex(report.index, report.embedder);
    const before = await Promise.all(QUESTIONS.map((q) => first.search(q, { k: 5 })));
    const reloaded = await openArchive(loadConfig({ corpusDir: config.corpusDir, indexDir: config.indexDir }));
    const after = await Promise.all(QUESTIONS.map((q) => reloaded.search(q, { k: 5 })));
    expect(after).toEqual(before);
    expect(reloaded.index.chunks.length).toBe(first.index.manifest.counts.chunks);
    expect((reloaded.index.store as EmbeddedStore).vectors.size).toBe(reloaded.index.chunks.length);
  });

  it('records model, settings and a hash per source file in its manifest', async () => {
    const { config, embedder, report } = await freshIndex();
    const manifest = readManifest(config.indexDir)!;
    expect(manifest).toEqual(report.manifest);
    expect(manifest.model).toMatchObject({ id: 'archive-static', dim: 256, checksum: embedder.info.checksum });
    expect(manifest.chunking).toEqual(config.chunking);
    expect(Object.keys(manifest.sources).sort()).toEqual(['000_2f8a857afa737480.txt', '001_004c609643dbb3e3.txt', '002_d7df6b83d73dff84.txt', '003_b19f9eb657466ce4.txt', 'catalog.json']);
    expect(Object.values(manifest.sources).every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
  });

  it('gives the same manifest id for the same inputs', async () => {
    const a = await freshIndex();
    const b = await freshIndex();
    expect(a.report.manifest.id).toBe(b.report.manifest.id);
  });

  it('says why it is stale when the corpus or settings change, and rebuilds on prepare', async () => {
    const { config, embedder } = await freshIndex();
    expect((await indexStaleness(config, embedder))!.reasons).toEqual([]);
    appendFileSync(join(config.corpusDir, '002_d7df6b83d73dff84.txt'), '\nA late correction to the article.\n');
    writeFileSync(join(config.corpusDir, 'new.md'), 'A new note about the Solent combined authority.');
    expect((await indexStaleness(config, embedder))!.reasons).toEqual(['1 file(s) added: new.md', '1 file(s) changed: 002_d7df6b83d73dff84.txt']);
    const changedSettings = loadConfig({ corpusDir: config.corpusDir, indexDir: config.indexDir, chunking: { targetWords: 60 } });
    expect((await indexStaleness(changedSettings, embedder))!.reasons).toContain('chunking settings changed');
    const messages: string[] = [];
    const archive = await prepareArchive(config, { log: (m) => messages.push(m) });
    expect(messages[0]).toMatch(/out of date: 1 file\(s\) added: new\.md; 1 file\(s\) changed/);
    expect(archive.document('new')?.text).toBe('A new note about the Solent combined authority.');
    expect((await indexStaleness(config, embedder))!.reasons).toEqual([]);
  });

  it('keeps the previous index live when a build dies part-way', async () => {
    const { config, embedder } = await freshIndex();
    const live = generation(config.indexDir);
    const before = await (await openArchive(config, embedder)).search(QUESTIONS[0]);
    writeFileSync(join(config.corpusDir, 'extra.txt'), 'Another document that forces a rebuild.');
    // Dies after the first model call of the build (batches of 8).
    const failing: Embedder = {
      ...embedder,
      embed: (texts, kind, onProgress) =>
        embedder.embed(texts, kind, (done) => {
          onProgress?.(done);
          throw new Error('killed');
        }),
    };
    await expect(buildIndex(loadConfig({ ...config, embedding: { ...config.embedding, batchSize: 8 } }), { embedder: failing, full: true })).rejects.toThrowError('killed');
    expect(generation(config.indexDir)).toBe(live);
    const after = await (await openArchive(config, embedder)).search(QUESTIONS[0]);
    expect(after).toEqual(before);
  });

  it('is rebuilt by prepare (npm start) when damaged or in another format, saying why', async () => {
    const { config } = await freshIndex();
    truncateSync(join(config.indexDir, generation(config.indexDir), 'vectors.hnsw'), 100);
    const messages: string[] = [];
    const archive = await prepareArchive(config, { log: (m) => messages.push(m) });
    expect(messages[0]).toMatch(/is damaged: vectors.hnsw has 100 bytes.* Rebuilding/);
    expect((await archive.search(QUESTIONS[1])).results.length).toBeGreaterThan(0);

    const manifestFile = join(config.indexDir, generation(config.indexDir), 'manifest.json');
    writeFileSync(manifestFile, JSON.stringify({ ...JSON.parse(readFileSync(manifestFile, 'utf8')), formatVersion: 1 }));
    const later: string[] = [];
    await prepareArchive(config, { log: (m) => later.push(m) });
    expect(later[0]).toMatch(/out of date: The index at .* is in format 1; this version reads format 8/);
  });

  it('refuses a damaged index with a message that says how to rebuild', async () => {
    const { config } = await freshIndex();
    const dir = join(config.indexDir, generation(config.indexDir));
    const damaged = join(tempDir(), 'index');
    cpSync(config.indexDir, damaged, { recursive: true });
    truncateSync(join(damaged, generation(damaged), 'vectors.hnsw'), 100);
    await expect(openIndex(damaged)).rejects.toThrowError(/damaged: vectors.hnsw has 100 bytes.*npm run build-index/);

    const flipped = join(tempDir(), 'index');
    cpSync(config.indexDir, flipped, { recursive: true });
    const docs = join(flipped, generation(flipped), 'documents.json');
    writeFileSync(docs, readFileSync(docs, 'utf8').replace('Hampshire', 'Hampshirf'));
    await expect(openIndex(flipped)).rejects.toThrowError(/documents.json does not match its checksum/);

    const missing = join(tempDir(), 'index');
    cpSync(config.indexDir, missing, { recursive: true });
    rmSync(join(missing, generation(missing), 'bm25-context.bin'));
    await expect(openIndex(missing)).rejects.toThrowError(/damaged: bm25-context.bin is missing.*npm run build-index/);
    rmSync(join(missing, generation(missing), 'manifest.json'));
    await expect(openIndex(missing)).rejects.toThrowError(/damaged: g-.*\/manifest.json is missing/);

    const foreign = join(tempDir(), 'index');
    cpSync(config.indexDir, foreign, { recursive: true });
    const manifestFile = join(foreign, generation(foreign), 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, model: { ...manifest.model, checksum: 'another-model' } }));
    await expect(openArchive(loadConfig({ indexDir: foreign }))).rejects.toThrowError(/was built with model .* not the configured/);

    await expect(openIndex(join(tempDir(), 'none'))).rejects.toThrowError(/No index at .*npm run build-index/);
    expect(readdirSync(dir)).toContain('manifest.json');
  });

  it('keeps texts once, as UTF-8: a document\'s text and its passages\' are read from it on demand', async () => {
    const { config } = await freshIndex();
    const index = await openIndex(config.indexDir);
    const dir = join(config.indexDir, generation(config.indexDir));
    expect(readdirSync(dir).sort()).toEqual(['bm25-context.bin', 'bm25.bin', 'chunks.bin', 'documents.json', 'manifest.json', 'text.bin', 'vectors.f32', 'vectors.hnsw']);
    expect(readFileSync(join(dir, 'documents.json'), 'utf8')).not.toContain('Hampshire Partnership, which will now');
    const doc = index.documents.get('003_b19f9eb657466ce4')!;
    expect(doc.text).toContain('The Hampshire Partnership, which will now take on the role');
    for (const chunk of index.chunksByDoc.get(doc.id)!) expect(chunk.text).toBe(doc.text.slice(chunk.start, chunk.end));
    expect((index.store as EmbeddedStore).vectors.vector(0).length).toBe(256);
  });

  it('checks staleness by size and modification time, and by content with verify', async () => {
    const { config, embedder } = await freshIndex();
    const file = join(config.corpusDir, '002_d7df6b83d73dff84.txt');
    const text = readFileSync(file, 'utf8');
    const past = new Date(Date.now() - 3_600_000);
    // Rebuilt with the file stamped an hour ago, so its stamp is trusted (not "racily" new).
    utimesSync(file, past, past);
    await buildIndex(config, { embedder });
    // Same size, same modification time, other bytes: only a full check sees it.
    writeFileSync(file, text.replace('Wiltshire', 'Wiltshyre'));
    utimesSync(file, past, past);
    expect((await indexStaleness(config, embedder))!.reasons).toEqual([]);
    expect((await indexStaleness(config, embedder, true))!.reasons).toEqual(['1 file(s) changed: 002_d7df6b83d73dff84.txt']);
    // A changed stamp is always noticed.
    appendFileSync(file, 'More.');
    expect((await indexStaleness(config, embedder))!.reasons).toEqual(['1 file(s) changed: 002_d7df6b83d73dff84.txt']);
  });

  it('rebuilds an index of the previous format with the model it already has', async () => {
    const { config } = await freshIndex();
    const manifestFile = join(config.indexDir, generation(config.indexDir), 'manifest.json');
    const before = JSON.parse(readFileSync(manifestFile, 'utf8'));
    writeFileSync(manifestFile, JSON.stringify({ ...before, formatVersion: 6 }));
    const messages: string[] = [];
    const archive = await prepareArchive(config, { log: (m) => messages.push(m) });
    expect(messages[0]).toMatch(/in format 6; this version reads format 8\. Rebuilding/);
    expect(messages.some((m) => /Training/.test(m))).toBe(false);
    expect(archive.index.manifest.model.checksum).toBe(before.model.checksum);
  });
});

