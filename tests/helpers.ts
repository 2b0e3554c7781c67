import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareArchive, type Archive } from '../src/archive.js';
import { splitSentences } from '../src/chunk/index.js';
import { loadConfig, type ConfigInput } from '../src/config.js';
import { seededRandom } from '../src/embed/train/random.js';
import { readCorpus } from '../src/ingest/index.js';

export const SEEDS = join(import.meta.dirname, '..', 'seeds');

export function tempDir(prefix = 'archive-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A copy of the seed corpus that a test may change. */
export function copyOfSeeds(): string {
  const dir = join(tempDir(), 'corpus');
  cpSync(SEEDS, dir, { recursive: true });
  return dir;
}

/** The seed archive with the default settings, indexed into a fresh temporary folder. */
export async function seedArchive(overrides: ConfigInput = {}): Promise<Archive> {
  const config = loadConfig({ corpusDir: SEEDS, indexDir: join(tempDir(), 'index'), ...overrides });
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
