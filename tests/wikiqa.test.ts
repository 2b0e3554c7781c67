import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareArchive } from '../src/archive.js';
import { loadConfig } from '../src/config.js';
import { isRightAnswer, locateWikiqa, materializeWikiqaCorpus, readWikiqa, sentenceSpans, triggerMetrics } from '../src/eval/wikiqa.js';
import { tempDir } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');
const file = locateWikiqa(ROOT);

// WikiQA is benchmark data beside the checkout (../shared), not part of the repository: this floor
// runs where it is present and says so where it is not.
if (!file) process.stderr.write('[wikiqa] ../shared/bench/wikiqa/train.jsonl (or WIKIQA_FILE) not found: the WikiQA answer floor is not checked here.\n');

describe.runIf(file)('answers on WikiQA, end to end', () => {
  it('holds its F1 floor on the held-out questions (answer triggering, retrieval included)', async () => {
    const wikiqa = readWikiqa(file!);
    const corpusDir = join(tempDir(), 'wikiqa');
    materializeWikiqaCorpus(wikiqa, corpusDir);
    // A new archive: its first build trains its own model, as `npm run eval` does.
    const archive = await prepareArchive(loadConfig({ corpusDir, indexDir: join(tempDir(), 'index') }), { log: () => {} });
    const bySource = new Map(archive.documents().map((d) => [d.source, d]));
    const outcomes = [];
    for (const q of wikiqa.questions.filter((q) => q.heldOut)) {
      const { answer } = await archive.search(q.question, { k: 3 });
      const spans = sentenceSpans(bySource.get(q.source)!, wikiqa.summaries.get(q.source)!);
      outcomes.push({ answerable: q.answers.length > 0, answered: answer !== null, right: answer !== null && isRightAnswer(q, spans, answer.citation) });
    }
    const metrics = triggerMetrics(outcomes);
    process.stderr.write(`[wikiqa] held out: ${JSON.stringify(metrics)}\n`);
    // Measured 0.304 / 0.422 / 0.353 (README); floors a little under.
    expect(metrics.questions).toBe(521);
    expect(metrics.precision).toBeGreaterThanOrEqual(0.27);
    expect(metrics.recall).toBeGreaterThanOrEqual(0.38);
    expect(metrics.f1).toBeGreaterThanOrEqual(0.32);
  }, 600_000);
});
