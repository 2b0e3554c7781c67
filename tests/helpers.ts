import { cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareArchive, type Archive } from '../src/archive.js';
import { splitSentences } from '../src/chunk/index.js';
import { loadConfig, type ConfigInput } from '../src/config.js';
import type { Embedder } from '../src/embed/index.js';
import { seededRandom } from '../src/embed/train/random.js';
import { linkTree, loadIndexModel, MODELS_DIR, readManifest } from '../src/index/index.js';
import { readCorpus } from '../src/ingest/index.js';

export const SEEDS = join(import.meta.dirname, '..', 'seeds');

/**
 * The seed archive as `npm start` builds it (its model trained on the seeds), built once by the
 * tests' global setup and kept between runs; tests copy it rather than train a model each.
 */
export const SEED_INDEX = join(import.meta.dirname, '..', 'node_modules', '.cache', 'semantic-archive', 'seeds-index');

export function tempDir(prefix = 'archive-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A copy of the seed corpus that a test may change. */
export function copyOfSeeds(): string {
  const dir = join(tempDir(), 'corpus');
  cpSync(SEEDS, dir, { recursive: true });
  return dir;
}

/** Copies an index folder; its model files are hard-linked (they are never written in place). */
export function copyIndex(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from)) {
    const [source, target] = [join(from, entry), join(to, entry)];
    if (entry === MODELS_DIR) linkTree(source, target);
    else cpSync(source, target, { recursive: true });
  }
}

/** A fresh copy of the seed archive's index folder (index and model), for a test to build on. */
export function copyOfSeedIndex(): string {
  const dir = join(tempDir(), 'index');
  copyIndex(SEED_INDEX, dir);
  return dir;
}

/** The seed archive's own model, loaded from its index. */
export async function seedModel(): Promise<Embedder> {
  const config = loadConfig({ indexDir: SEED_INDEX });
  return (await loadIndexModel(config, readManifest(SEED_INDEX)))!;
}

/**
 * An archive on `corpusDir` (default: the seeds) starting from a copy of the seed archive, as a
 * user's archive that started as the seeds would be: the index is updated to the corpus, keeping
 * the model while the corpus has not drifted from it.
 */
export async function seedArchive(overrides: ConfigInput = {}): Promise<Archive> {
  const config = loadConfig({ corpusDir: SEEDS, indexDir: copyOfSeedIndex(), ...overrides });
  return prepareArchive(config, { log: () => {} });
}

/**
 * A larger corpus made from the seeds' own sentences (recombined deterministically), for tests that
 * need a build long enough to interrupt: `documents` files of about 40 sentences each, plus the seeds.
 */
export async function syntheticCorpus(documents: number): Promise<string> {
  const dir = copyOfSeeds();
  const sentences = (await readCorpus(SEEDS)).documents.flatMap((d) => splitSentences(d.text).map((s) => d.text.slice(s.start, s.end)));
  const next = seededRandom(12345);
  for (let n = 0; n < documents; n++) {
    const picked = Array.from({ length: 40 }, () => sentences[Math.floor(next() * sentences.length)]);
    const paragraphs = Array.from({ length: 8 }, (_, p) => picked.slice(p * 5, p * 5 + 5).join(' '));
    writeFileSync(join(dir, `synthetic-${String(n).padStart(4, '0')}.txt`), `Synthetic document ${n}\n\n${paragraphs.join('\n\n')}\n`);
  }
  return dir;
}
