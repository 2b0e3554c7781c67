/**
 * Load test: starts the server (`start`, its own processes, building what is missing) on loopback
 * and drives it from this light process with autocannon: 50 concurrent clients for 30 s against
 * /api/search with varied queries, on the SciFact index (the seeds when SciFact is absent), once per
 * worker count asked for (by default 1, then one per core), one after the other in this run. Prints
 * requests per second, latency p50/p99, errors and the server's peak memory (all its processes)
 * during a warm-up and during the same length at the end of the load, the cores this process
 * itself took while driving, and each count's throughput as a ratio to the first; exits 1 on any
 * error or on memory growth > 10%. With --rounds N the counts are measured N times over,
 * alternating (1, 2, 1, 2, ...), each ratio within its round, and the median of each count's
 * ratios is printed last: one run's figures move between runs on a shared machine, a ratio within
 * a round much less.
 * Usage: npm run --silent load -- [--suite auto|seeds|scifact] [--workers 1,2] [--rounds N] [--duration S] [--connections N] [--warmup S]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Command, Option } from 'commander';
import type { ConfigInput } from '../src/config.js';
import { readSeedQuestions } from '../src/eval/seedQuestions.js';
import { percentile } from '../src/eval/metrics.js';
import { locateScifact, readScifactQueries, scifactSettings } from '../src/eval/scifact.js';

const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 3600) throw new Error(`${v} must be a whole number from 1 to 3600`);
  return n;
};
const options = new Command()
  .addOption(new Option('--suite <suite>', 'corpus to serve').choices(['auto', 'seeds', 'scifact']).default('auto'))
  .option('--duration <s>', 'seconds of load', positive, 30)
  .option('--connections <n>', 'concurrent clients', positive, 50)
  .option('--warmup <s>', 'seconds of load before memory is first measured', positive, 15)
  .option('--workers <list>', 'worker counts to measure, one run each, comma-separated', (v) => v.split(',').map(positive), [...new Set([1, availableParallelism()])])
  .option('--rounds <n>', 'times to measure the worker counts, alternating', positive, 1)
  .parse()
  .opts<{ suite: 'auto' | 'seeds' | 'scifact'; duration: number; connections: number; warmup: number; workers: number[]; rounds: number }>();

const log = (m: string) => process.stderr.write(`${m}\n`);
const ROOT = join(import.meta.dirname, '..');
const REPORTS = join(ROOT, 'reports');
/** Bounds the run by count as well as time, whatever the machine's speed. */
const MAX_REQUESTS = 200_000;

const bench = options.suite === 'seeds' ? null : locateScifact(ROOT);
if (options.suite === 'scifact' && !bench) {
  log('SciFact not found (set SCIFACT_DIR or place it at ../shared/bench/scifact).');
  process.exit(1);
}
let settings: ConfigInput;
let queries: string[];
if (bench) {
  settings = scifactSettings(ROOT, bench).settings;
  queries = [...readScifactQueries(bench, 'test'), ...readScifactQueries(bench, 'train')].map((q) => q.text);
} else {
  settings = { indexDir: join(REPORTS, 'seeds', 'index') };
  queries = readSeedQuestions(join(ROOT, 'tests', 'fixtures', 'seed-questions.json')).map((q) => q.question);
}
const suite = bench ? 'scifact' : 'seeds';

const configFile = join(mkdtempSync(join(tmpdir(), 'archive-load-')), 'archive.config.json');
writeFileSync(configFile, JSON.stringify({ ...settings, server: { host: '127.0.0.1', port: 0 } }));

/** The server's resident memory, its workers' included, from /proc (Linux). */
function rssMiB(pid: number): number {
  let kib = 0;
  try {
    kib = Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)![1]);
  } catch {
    return 0; // exited meanwhile
  }
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return kib / 1024 + children.reduce((sum, child) => sum + rssMiB(child), 0);
}

function startServer(workers: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', '--workers', String(workers)], { cwd: ROOT, env: { ...process.env, ARCHIVE_CONFIG: configFile }, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk;
      // The server builds what is missing first (as `npm start` does); its progress shows here.
      if (!/on http:/.test(stderr)) process.stderr.write(chunk);
      const m = stderr.match(/on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
}
function drive(port: number, seconds: number, progress: boolean): Promise<autocannon.Result> {
  let next = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections: options.connections,
        duration: seconds,
        maxOverallRequests: MAX_REQUESTS,
        requests: [{ setupRequest: (request) => ({ ...request, path: `/api/search?q=${encodeURIComponent(queries[next++ % queries.length])}&k=10` }) }],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    autocannon.track(instance, { renderProgressBar: progress, renderResultsTable: false });
  });
}

/**
 * The server's highest resident memory over the last `windowS` seconds of `work`, sampled every
 * 250 ms: one reading swings by a hundred MB with garbage collection, a peak over a window does not.
 */
async function peakRss<T>(pid: number, work: Promise<T>, windowS: number, totalS: number): Promise<{ result: T; peak: number }> {
  let peak = 0;
  const from = Date.now() + (totalS - windowS) * 1000;
  const sampler = setInterval(() => {
    if (Date.now() >= from) peak = Math.max(peak, rssMiB(pid));
  }, 250);
  const result = await work.finally(() => clearInterval(sampler));
  return { result, peak };
}
/** One run: a server with `workers` processes, warmed up, then loaded; its figures. */
async function run(workers: number) {
  const { child, port } = await startServer(workers);
  const idle = rssMiB(child.pid!);
  const health = await (await fetch(`http://127.0.0.1:${port}/api/health`)).json();
  log(`Server on port ${port} with ${workers} worker${workers === 1 ? '' : 's'} (${suite}: ${health.documents} documents, ${health.chunks} passages); ${queries.length} distinct queries.`);
  // Memory is compared over two windows of the same length and load: the warm-up, and the end of the run.
  const window = Math.min(options.warmup, options.duration);
  log(`Warming up (${options.warmup} s)...`);
  const { peak: before } = await peakRss(child.pid!, drive(port, options.warmup, false), window, options.warmup);
  log(`Load: ${options.connections} clients for ${options.duration} s...`);
  const cpu = process.cpuUsage();
  const { result, peak: after } = await peakRss(child.pid!, drive(port, options.duration, true), window, options.duration);
  const used = process.cpuUsage(cpu);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  return {
    workers,
    connections: options.connections,
    seconds: result.duration,
    requests: result.requests.total,
    requestsPerSecond: result.requests.average,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    rssIdleMiB: idle,
    peakRssWarmUpMiB: before,
    peakRssEndOfLoadMiB: after,
    memoryGrowth: (after - before) / before,
    failures: { errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx },
    // The cores this driving process took from the server's machine during the load.
    driverCores: (used.user + used.system) / 1e6 / result.duration,
  };
}

const failures: string[] = [];
const ratios = new Map<number, number[]>(options.workers.map((w) => [w, []]));
for (let round = 1; round <= options.rounds; round++) {
  const runs = [];
  for (const workers of options.workers) runs.push(await run(workers));
  for (const figures of runs) {
    const ratio = figures.requestsPerSecond / runs[0].requestsPerSecond;
    ratios.get(figures.workers)!.push(ratio);
    log('');
    for (const [name, value] of Object.entries({ round, ...figures, throughputRatio: ratio })) log(`${name.padEnd(20)} ${typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(3) : typeof value === 'object' ? JSON.stringify(value) : value}`);
    process.stdout.write(`${JSON.stringify({ suite, round, ...figures, throughputRatio: ratio })}\n`);
    if (figures.errors > 0) failures.push(`${figures.errors} requests failed with ${figures.workers} workers`);
    if (figures.memoryGrowth > 0.1) failures.push(`memory grew ${(figures.memoryGrowth * 100).toFixed(1)}% under load with ${figures.workers} workers (limit 10%)`);
  }
}
if (options.rounds > 1) {
  log('');
  for (const [workers, list] of ratios) {
    log(`${workers} worker${workers === 1 ? '' : 's'}: throughput ratio ${list.map((r) => r.toFixed(2)).join(', ')} (median ${percentile(list, 50).toFixed(2)})`);
    process.stdout.write(`${JSON.stringify({ suite, workers, rounds: options.rounds, throughputRatios: list, medianThroughputRatio: percentile(list, 50) })}\n`);
  }
}
if (failures.length) {
  log(`FAILED: ${failures.join('; ')}`);
  process.exit(1);
}
