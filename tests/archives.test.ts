import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openArchive } from '../src/archive.js';
import { loadConfig } from '../src/config.js';
import { buildIndex, loadIndexModel, readManifest } from '../src/index/index.js';
import { copyOfSeedIndex, SEEDS, tempDir } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');

/** Runs the CLI as a user would; never rejects, so exit codes can be checked. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, maxBuffer: 1 << 26 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** sha256 of every file under a folder, by path: to show a build left another archive untouched. */
function snapshot(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) Object.assign(out, snapshot(path, `${prefix}${entry}/`));
    else out[prefix + entry] = createHash('sha256').update(readFileSync(path)).digest('hex');
  }
  return out;
}

// A second archive whose subject (an invented estuary and its invented fish) shares few words with the seeds.
const ESTUARY = {
  'glimmerfin.md':
    '# The glimmerfin of the Quorrel estuary\n\nThe glimmerfin is a small silver fish that spawns in the brackish shallows of the Quorrel estuary each spring. Surveys by the Brackvale field station counted more glimmerfin shoals in wet years than in dry ones.\n\nA glimmerfin feeds on zantheum weed, which grows only where fresh water meets the tide. When the weed beds shrink, the shoals move upstream and spawn later.',
  'brackvale.md':
    '# Brackvale field station annual report\n\nThe Brackvale field station monitors water salinity, weed cover and fish counts along the Quorrel estuary. This year the station added night surveys of spawning grounds.\n\nVolunteers logged tide heights at six posts and photographed the zantheum beds from the sea wall every fortnight.',
  'tides.txt':
    'Tides and weed on the Quorrel\n\nZantheum weed needs a narrow band of salinity. Storm surges push salt water far upstream and scorch the beds, and a dry summer concentrates the salt. The field station recommends a sluice at the old mill to keep the band steady for the weed and for the glimmerfin that depend on it.',
};

/** Invented words that neither WordNet nor either corpus has: a document made of them drifts an archive away from its model. */
const inventedWords = (n: number) => Array.from({ length: n }, (_, i) => `${['vor', 'qua', 'zel', 'mip', 'tor', 'sqe'][i % 6]}${['lakh', 'ndir', 'opht', 'urrex', 'ibbl'][Math.floor(i / 6) % 5]}${'abcdefgh'[Math.floor(i / 30) % 8]}`);

const seedIndex = copyOfSeedIndex();
const estuary = join(tempDir(), 'estuary');
const estuaryIndex = join(tempDir(), 'estuary-index');
let seedFilesBefore: Record<string, string>;
let firstBuild: { code: number; stdout: string; stderr: string };

beforeAll(async () => {
  mkdirSync(estuary);
  for (const [name, text] of Object.entries(ESTUARY)) writeFileSync(join(estuary, name), text);
  seedFilesBefore = snapshot(seedIndex);
  firstBuild = await cli(['build-index', '--corpus', estuary, '--index', estuaryIndex]);
}, 300_000);

describe('two archives in one checkout', () => {
  it('the first build of a new archive trains its own model, saying so and how long it should take, then indexes', () => {
    expect(firstBuild.code).toBe(0);
    expect(firstBuild.stderr).toMatch(/Training this archive's embedding model \(this archive has no model yet\) on 3 documents and WordNet; this takes about a minute on 2 cores/);
    expect(firstBuild.stderr).toMatch(/Model trained in \d+ s: .*estuary-index\/models\/archive-static-[0-9a-f]{16}/);
    const summary = JSON.parse(firstBuild.stdout);
    expect(summary).toMatchObject({ documents: 3, model: { id: 'archive-static', trained: { reason: 'this archive has no model yet' } }, outOfVocabulary: { share: 0, atTraining: 0 } });
    expect(summary.model.trained.ms).toBeGreaterThan(1000);
  });

  it('keeps each archive\'s model in its own index: building the second left the first exactly as it was', () => {
    expect(snapshot(seedIndex)).toEqual(seedFilesBefore);
    const [seeds, other] = [readManifest(seedIndex)!, readManifest(estuaryIndex)!];
    expect(other.model.checksum).not.toBe(seeds.model.checksum);
    expect(existsSync(join(estuaryIndex, other.model.folder!, 'onnx', 'model.onnx'))).toBe(true);
  });

  it('a word only the second corpus has is known to the second model and not to the first', async () => {
    const [seeds, other] = await Promise.all([seedIndex, estuaryIndex].map((indexDir) => loadIndexModel(loadConfig({ indexDir }), readManifest(indexDir))));
    for (const word of ['glimmerfin', 'zantheum', 'brackvale', 'quorrel']) {
      expect(other!.vocabulary!.has(word), word).toBe(true);
      expect(seeds!.vocabulary!.has(word), word).toBe(false);
    }
    expect(seeds!.vocabulary!.has('devolution')).toBe(true);
  });

  it('searches each index with its own model (search and batch, by --index)', async () => {
    const estuaryHit = JSON.parse((await cli(['search', 'glimmerfin zantheum', '--json', '--k', '3', '--corpus', estuary, '--index', estuaryIndex])).stdout);
    expect(estuaryHit.index).toBe(readManifest(estuaryIndex)!.id);
    // The estuary's model has vectors for these words: its dense side scores the passages.
    expect(estuaryHit.results[0].source).toBe('glimmerfin.md');
    expect(estuaryHit.results[0].scores.dense).toBeGreaterThan(0.2);
    const seedsHit = JSON.parse((await cli(['search', 'glimmerfin zantheum', '--json', '--k', '3', '--corpus', SEEDS, '--index', seedIndex])).stdout);
    expect(seedsHit.index).toBe(readManifest(seedIndex)!.id);
    // The seeds' model knows neither word, so its query vector is zero: no passage has a dense score.
    expect(seedsHit.results.every((r: { scores: { dense: number } }) => r.scores.dense === 0)).toBe(true);
  });
});

describe('an archive that drifts from its model', () => {
  it('keeps the model for a change in words it knows (nothing re-embedded but the new file)', async () => {
    writeFileSync(join(estuary, 'note.md'), '# A note from the station\n\nThe glimmerfin counts at the sea wall rose again after the sluice at the old mill was repaired.');
    const { code, stdout } = await cli(['build-index', '--corpus', estuary, '--index', estuaryIndex]);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ fullRebuild: null, embedded: 1, model: { trained: null }, changes: { added: { count: 1, first: ['note.md'] } } });
    expect(summary.outOfVocabulary.share).toBeLessThan(summary.outOfVocabulary.retrainAbove);
  });

  it('retrains once too many of its words are unknown to the model; a retrain that dies part-way leaves the old index and model live', async () => {
    const config = loadConfig({ corpusDir: estuary, indexDir: estuaryIndex });
    const before = readManifest(estuaryIndex)!;
    const answer = await (await openArchive(config)).search('why does the glimmerfin spawn later', { k: 3 });
    const words = inventedWords(60);
    writeFileSync(join(estuary, 'survey.txt'), `Survey codes\n\n${words.map((w, i) => `Code ${w} marks post ${i} of the ${words[(i * 7) % words.length]} transect.`).join(' ')}`);
    // The build that notices the drift trains a new model, then dies while embedding with it.
    const log: string[] = [];
    await expect(buildIndex(config, { log: (m) => log.push(m), onProgress: () => { throw new Error('killed while embedding'); } })).rejects.toThrow('killed while embedding');
    expect(log[0]).toMatch(/Training this archive's embedding model \(the corpus has drifted from its model: [\d.]+% of its words are unknown to it \(0\.0% when it was trained; the limit is [\d.]+%\)\)/);
    expect(readManifest(estuaryIndex)!.id).toBe(before.id);
    expect(readdirSync(join(estuaryIndex, 'models'))).toHaveLength(2);
    expect(await (await openArchive(config)).search('why does the glimmerfin spawn later', { k: 3 })).toEqual(answer);

    // The next build finds the model it trained (training is deterministic), embeds everything with it, and removes the old one.
    const { code, stdout, stderr } = await cli(['build-index', '--corpus', estuary, '--index', estuaryIndex]);
    expect(code).toBe(0);
    expect(stderr).toMatch(/A new model is needed \(the corpus has drifted from its model: .*\); using the model already trained on these documents/);
    expect(stderr).not.toMatch(/Training this archive/);
    const summary = JSON.parse(stdout);
    expect(summary.model.trained.reason).toMatch(/drifted/);
    expect(summary.model.checksum).not.toBe(before.model.checksum);
    expect(summary.fullRebuild).toMatch(/^the model was trained again/);
    expect(summary.embedded).toBe(summary.chunks);
    expect(summary.outOfVocabulary.share).toBe(0);
    expect(readdirSync(join(estuaryIndex, 'models'))).toEqual([readManifest(estuaryIndex)!.model.folder!.split('/')[1]]);
    const model = await loadIndexModel(loadConfig({ indexDir: estuaryIndex }), readManifest(estuaryIndex));
    expect(words.every((w) => model!.vocabulary!.has(w))).toBe(true);
  }, 300_000);

  it('build-index --retrain goes to training; on the documents its model was trained on, it finds that model', async () => {
    const before = readManifest(estuaryIndex)!;
    const { code, stdout, stderr } = await cli(['build-index', '--retrain', '--corpus', estuary, '--index', estuaryIndex]);
    expect(code).toBe(0);
    expect(stderr).toMatch(/A new model is needed \(a retrain was asked for\); using the model already trained on these documents/);
    const summary = JSON.parse(stdout);
    expect(summary.model).toMatchObject({ checksum: before.model.checksum, trained: { reason: 'a retrain was asked for' } });
    expect(summary.embedded).toBe(0);
  });
});
