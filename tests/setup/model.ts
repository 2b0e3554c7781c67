import { ensureEmbedder } from '../../src/archive.js';
import { loadConfig } from '../../src/config.js';

/** The tests use the real built-in model, built from the seeds exactly as `npm start` would. */
export default async function setup(): Promise<void> {
  await ensureEmbedder(loadConfig(), { log: (m) => process.stderr.write(`[model] ${m}\n`) });
}
