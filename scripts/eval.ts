/**
 * Retrieval quality: prints a table (stderr) and writes a JSON report under reports/.
 * Usage: npm run --silent eval -- [--suite seeds|scifact|all] [--split train|test]
 * Every suite reports the full pipeline beside BM25 alone and dense alone, from the same index.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Command, Option } from 'commander';
import type { Archive } from '../src/archive.js';
import { loadConfig, type Config } from '../src/config.js';
import { evaluateSeedQuestions, readSeedQuestions } from '../src/eval/seedQuestions.js';
import { locateScifact, readScifactQueries, scifactSettings, scoreBatchOutput } from '../src/eval/scifact.js';
import { prepareWithProgress } from '../src/cli/progress.js';

const ROOT = join(import.meta.dirname, '..');
const REPORTS = join(ROOT, 'reports');
const options = new Command()
  .addOption(new Option('--suite <suite>', 'which suite').choices(['seeds', 'scifact', 'all']).default('all'))
  .addOption(new Option('--split <split>', 'SciFact split').choices(['train', 'test']).default('test'))
  .parse()
  .opts<{ suite: 'seeds' | 'scifact' | 'all'; split: 'train' | 'test' }>();

const log = (m: string) => process.stderr.write(`${m}\n`);
const fmt = (x: number | undefined) => (x === undefined ? '' : x.toFixed(3));
const report: Record<string, unknown> = { createdAt: new Date().toISOString(), suites: {} };

type Weights = Config['retrieval']['weights'];

/** Each part of the ranking alone, and all of them: the rows of every suite's table. */
function rankingRows(w: Weights): Array<[string, Weights]> {
  return [
    ['BM25 of passages alone', { dense: 0, passageBm25: 1, contextBm25: 0 }],
    ['BM25 of passages and context', { dense: 0, passageBm25: w.passageBm25, contextBm25: w.contextBm25 }],
    ['dense alone', { dense: 1, passageBm25: 0, contextBm25: 0 }],
    [`full pipeline (${w.dense}/${w.passageBm25}/${w.contextBm25})`, w],
  ];
}

/** The same archive scored with each part alone and with all parts, so each part's contribution shows. */
function variants(archive: Archive): Array<[string, Archive]> {
  // The parts alone are scored without the cross-encoder (when one is configured), so each shows its own contribution.
  const weighted = (weights: Weights) => archive.withConfig({ ...archive.config, retrieval: { ...archive.config.retrieval, weights, rerank: { ...archive.config.retrieval.rerank, model: undefined } } });
  return rankingRows(archive.config.retrieval.weights).map(([name, weights], i, rows) => (i === rows.length - 1 ? [`${name}${archive.reranker ? ` + ${archive.reranker.id}` : ''}`, archive] : [name, weighted(weights)]));
}

if (options.suite === 'seeds' || options.suite === 'all') {
  const archive = await prepareWithProgress(loadConfig({ indexDir: join(REPORTS, 'seeds', 'index') }));
  const questions = readSeedQuestions(join(ROOT, 'tests', 'fixtures', 'seed-questions.json'));
  const rows: Record<string, unknown> = {};
  const unanswerable = questions.filter((q) => q.gold.length === 0).length;
  log(`\nSeeds: ${questions.length - unanswerable} answerable and ${unanswerable} unanswerable questions (index ${archive.index.manifest.id})`);
  log(`${'ranking'.padEnd(40)} hit@1  hit@5  MRR@10 answer sentence null-when-unanswerable time-hit@1`);
  for (const [name, variant] of variants(archive)) {
    const result = await evaluateSeedQuestions(variant, questions);
    rows[name] = result;
    log(`${name.padEnd(40)} ${fmt(result.hitAt1)}  ${fmt(result.hitAt5)}  ${fmt(result.mrrAt10)} ${fmt(result.answerAccuracy)}  ${fmt(result.sentenceAccuracy)}    ${fmt(result.unanswerableNull).padEnd(21)} ${fmt(result.timeHitAt1)}`);
  }
  (report.suites as Record<string, unknown>).seeds = { index: archive.index.manifest.id, questions: questions.length, rows };
}

/**
 * Runs the CLI as a user would, in this checkout; stderr (progress) shows through, stdout lines
 * are collected. ARCHIVE_CONFIG, when given, is the user's config file.
 */
async function cli(args: string[], configFile?: string): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, ...(configFile ? { ARCHIVE_CONFIG: configFile } : {}) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  for await (const line of createInterface({ input: child.stdout })) if (line.trim()) lines.push(line);
  const code: number = await new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', (c) => resolve(c ?? 1))));
  if (code !== 0) throw new Error(`npm run ${args[0]} exited with ${code}`);
  return lines;
}

if (options.suite === 'scifact' || options.suite === 'all') {
  const bench = locateScifact(ROOT);
  if (!bench) {
    log('\nSciFact: skipped, no benchmark found (set SCIFACT_DIR or place it at ../shared/bench/scifact).');
  } else {
    // SciFact as a user's own archive, after the seeds, in the same checkout: its abstracts as a
    // folder of files, `build-index` (a new archive: it trains its own model), then `batch`.
    const { settings, documents } = scifactSettings(ROOT, bench);
    const paths = ['--corpus', settings.corpusDir, '--index', settings.indexDir];
    const started = Date.now();
    log(`\nSciFact: npm run build-index -- ${paths.join(' ')}`);
    const [build] = await cli(['build-index', ...paths]);
    const built = JSON.parse(build) as { index: string; chunks: number; model: { trained: { ms: number } | null } };
    const queries = readScifactQueries(bench, options.split);
    const input = join(REPORTS, 'scifact', `queries-${options.split}.jsonl`);
    writeFileSync(input, queries.map((q) => JSON.stringify({ id: q.id, query: q.text })).join('\n') + '\n');
    log(`SciFact ${options.split}: ${queries.length} queries over ${documents} abstracts (${built.chunks} passages, index ${built.index}, ready in ${((Date.now() - started) / 1000).toFixed(0)} s${built.model.trained ? `, its model trained in ${(built.model.trained.ms / 1000).toFixed(0)} s` : ''})`);
    const rows: Record<string, unknown> = {};
    const defaults = loadConfig().retrieval.weights;
    for (const [name, weights] of rankingRows(defaults)) {
      // A document ranks by its best passage: one passage per document, 100 documents deep.
      const configFile = join(REPORTS, 'scifact', 'eval.config.json');
      writeFileSync(configFile, JSON.stringify({ retrieval: { weights, maxPerDoc: 1, candidates: 300 } }));
      log(`${name}: npm run batch -- --k 100 --input ${input} (ARCHIVE_CONFIG=${configFile})`);
      rows[name] = scoreBatchOutput(await cli(['batch', '--k', '100', '--input', input, ...paths], configFile), queries);
    }
    log(`${'ranking'.padEnd(40)} nDCG@10 R@100  MRR@10`);
    for (const [name, m] of Object.entries(rows) as Array<[string, { ndcgAt10: number; recallAt100: number; mrrAt10: number }]>) log(`${name.padEnd(40)} ${fmt(m.ndcgAt10)}   ${fmt(m.recallAt100)}  ${fmt(m.mrrAt10)}`);
    if (options.split === 'test') {
      for (const [name, ndcg] of [['published BM25 (BEIR)', 0.665], ['published BM25 (Anserini)', 0.679], ['published all-MiniLM-L6-v2', 0.645], ['published bge-small-en-v1.5', 0.713], ['published gte-small', 0.727]] as const) {
        log(`${name.padEnd(40)} ${fmt(ndcg)}`);
      }
    }
    (report.suites as Record<string, unknown>).scifact = { split: options.split, queries: queries.length, documents, index: built.index, rows };
  }
}

mkdirSync(REPORTS, { recursive: true });
const file = join(REPORTS, `eval-${options.suite}-${options.split}-${Date.now()}.json`);
writeFileSync(file, JSON.stringify(report, null, 2));
log(`\nReport written to ${file}`);
process.stdout.write(`${JSON.stringify(report)}\n`);
