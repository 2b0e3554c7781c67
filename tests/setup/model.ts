import { prepareArchive } from '../../src/archive.js';
import { loadConfig } from '../../src/config.js';
import { SEED_INDEX, SEEDS } from '../helpers.js';

/**
 * The seed archive, built exactly as `npm start` builds it (its model trained on the seeds, about
 * a minute on 2 cores the first time), once before any test file runs; later runs reuse it while
 * it is up to date.
 */
export default async function setup(): Promise<void> {
  await prepareArchive(loadConfig({ corpusDir: SEEDS, indexDir: SEED_INDEX }), { log: (m) => process.stderr.write(`[seed archive] ${m}\n`) });
}
