/**
 * Speed figures, printed as a table (stderr) and JSON (stdout): model build time, index build time
 * and rate, search latency in process and over HTTP on loopback (client in its own process), peak memory.
 * Usage: npm run --silent bench -- [--suite seeds|scifact] [--queries N] [--skip-model]
 * (scifact reads ../shared/bench/scifact or SCIFACT_DIR; --skip-model reuses the model of the eval's
 * index of the same corpus under reports/ when there is one).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { serve } from '@hono/node-server';
import { Command, Option } from 'commander';
import { openArchive } from '../src/archive.js';
import { loadConfig } from '../src/config.js';
import { loadModelFolder, setInferenceThreads, trainBuiltinModel, type Embedder } from '../src/embed/index.js';
import { readSeedQuestions } from '../src/eval/seedQuestions.js';
import { percentile } from '../src/eval/metrics.js';
import { locateScifact, readScifactQueries, scifactSettings } from '../src/eval/scifact.js';
import { buildIndex, loadIndexModel, readManifest } from '../src/index/index.js';
import { readCorpus, readOptions } from '../src/ingest/index.js';
import { createApp } from '../src/serve/app.js';

const options = new Command()
  .addOption(new Option('--suite <suite>', 'corpus to measure').choices(['seeds', 'scifact']).default('seeds'))
  .option('--queries <n>', 'sequential queries to time', (v) => Number.parseInt(v, 10), 200)
  .option('--skip-model', 'do not time a model build')
  .parse()
  .opts<{ suite: 'seeds' | 'scifact'; queries: number; skipModel?: boolean }>();

const log = (m: string) => process.stderr.write(`${m}\n`);
const ROOT = join(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'archive-bench-'));
let config = loadConfig({ indexDir: join(scratch, 'index') });
let sourceCorpus = config.corpusDir;
let evalIndex = join(ROOT, 'reports', 'seeds', 'index');
let questions = readSeedQuestions(join(ROOT, 'tests', 'fixtures', 'seed-questions.json')).map((q) => q.question);
if (options.suite === 'scifact') {
  const bench = locateScifact(ROOT);
  if (!bench) {
    log('SciFact not found (set SCIFACT_DIR or place it at ../shared/bench/scifact); nothing measured.');
    process.exit(0);
  }
  const { settings } = scifactSettings(ROOT, bench);
  sourceCorpus = settings.corpusDir;
  evalIndex = settings.indexDir;
  questions = readScifactQueries(bench, 'test').map((q) => q.text);
}
// A copy the incremental measurements may change.
config = loadConfig({ ...config, corpusDir: join(scratch, 'corpus') });
cpSync(sourceCorpus, config.corpusDir, { recursive: true });
const figures: Record<string, number> = {};
let peakRss = 0;
const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
const sampler = setInterval(sample, 50);

// The model is trained here (to be timed) unless --skip-model finds the eval's model of this corpus.
const reused = options.skipModel ? await loadIndexModel(loadConfig({ indexDir: evalIndex }), readManifest(evalIndex)).catch(() => null) : null;
let embedder: Embedder;
if (reused) embedder = reused;
else {
  const { folder, ms } = await trainBuiltinModel((await readCorpus(config.corpusDir, readOptions(config))).documents, config.chunking, join(scratch, 'models'), () => {});
  figures.modelBuildSeconds = ms / 1000;
  embedder = await loadModelFolder(folder, config);
}
const report = await buildIndex(config, { embedder });
figures.indexBuildSeconds = report.ms / 1000;
figures.chunks = report.manifest.counts.chunks;
figures.chunksPerSecond = report.manifest.counts.chunks / (report.ms / 1000);

// Incremental updates against a full rebuild of the same corpus, in this process.
const added = join(config.corpusDir, 'added-by-bench.txt');
writeFileSync(added, 'An added document\n\nA new abstract about vitamin B12 deficiency and homocysteine levels in older adults, added to time an incremental update of the index.');
figures.addOneDocumentSeconds = (await buildIndex(config, { embedder })).ms / 1000;
const [firstFile] = readdirSync(config.corpusDir).filter((f) => f.endsWith('.txt') && f !== 'added-by-bench.txt').sort();
appendFileSync(join(config.corpusDir, firstFile), '\nA sentence appended to time the update of a changed document.\n');
figures.changeOneDocumentSeconds = (await buildIndex(config, { embedder })).ms / 1000;
rmSync(added);
figures.removeOneDocumentSeconds = (await buildIndex(config, { embedder })).ms / 1000;
figures.fullRebuildSeconds = (await buildIndex(config, { embedder, full: true })).ms / 1000;
figures.addOneVersusFullRebuild = figures.addOneDocumentSeconds / figures.fullRebuildSeconds;

// Searches are timed as `npm start` serves them: every inference on one thread (src/embed/threads.ts;
// builds above keep onnxruntime's pool), so the archive opens its models anew from here.
setInferenceThreads(1);
const archive = await openArchive(config);
const queries = Array.from({ length: options.queries }, (_, i) => questions[i % questions.length]);

// Warm up once, so the first measured query does not pay for lazy initialisation.
await archive.search(queries[0]);
const inProcess: number[] = [];
for (const q of queries) {
  const t = performance.now();
  await archive.search(q);
  inProcess.push(performance.now() - t);
}

/**
 * Sequential GET /api/search requests timed by a client in its own process (as a user's browser or
 * script would be), so building requests and parsing answers does not run on the server's thread.
 */
async function timeOverHttp(base: string, texts: string[]): Promise<number[]> {
  const client = `
    let input = '';
    for await (const part of process.stdin) input += part;
    const { base, texts } = JSON.parse(input);
    await (await fetch(base + '/api/search?q=warm')).json();
    const times = [];
    for (const q of texts) {
      const t = performance.now();
      const res = await fetch(base + '/api/search?q=' + encodeURIComponent(q));
      await res.json();
      if (!res.ok) throw new Error('HTTP ' + res.status + ' for ' + q);
      times.push(performance.now() - t);
    }
    process.stdout.write(JSON.stringify(times));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', client], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(JSON.stringify({ base, texts }));
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  const code = await new Promise((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the HTTP client exited with ${code}`);
  return JSON.parse(output) as number[];
}

// A fresh archive for the HTTP run, so its sentence cache starts as cold as the in-process run's did.
const server = serve({ fetch: createApp(await openArchive(config, archive.embedder)).fetch, port: 0, hostname: '127.0.0.1' });
await new Promise((resolve) => server.once('listening', resolve));
const overHttp = await timeOverHttp(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, queries);
server.close();
clearInterval(sampler);
sample();

Object.assign(figures, {
  queries: queries.length,
  searchP50MsInProcess: percentile(inProcess, 50),
  searchP99MsInProcess: percentile(inProcess, 99),
  searchP50MsHttp: percentile(overHttp, 50),
  searchP99MsHttp: percentile(overHttp, 99),
  peakRssMiB: peakRss / 2 ** 20,
});
for (const [name, value] of Object.entries(figures)) log(`${name.padEnd(24)} ${Number.isInteger(value) ? value : value.toFixed(2)}`);
process.stdout.write(`${JSON.stringify(figures)}\n`);
