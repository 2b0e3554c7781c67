import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareArchive, type Archive } from '../src/archive.js';
import { loadConfig, type ConfigInput } from '../src/config.js';

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
