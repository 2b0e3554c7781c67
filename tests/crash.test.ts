import { spawn } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openArchive } from '../src/archive.js';
import { loadConfig, type Config } from '../src/config.js';
import type { Embedder } from '../src/embed/index.js';
import { buildIndex } from '../src/index/index.js';
import { startServer } from '../src/serve/server.js';
import { copyIndex, seedModel, syntheticCorpus, tempDir } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');
const KILLS = 12;
const QUESTIONS = ['why did the 2016 bid fail', 'what replaced the Hampshire Senate', 'Heart of Wessex'];
const BUILD_STARTED = /Building the index at /;

interface BuildRun {
  /** ms from the "Building the index" line to exit. */
  buildMs: number;
  killed: boolean;
}

/** Runs `build-index` in a child process; kills it with SIGKILL killAfterMs after the build starts (unless it ends first). */
function runBuild(corpusDir: string, indexDir: string, args: string[], killAfterMs: number | null): Promise<BuildRun> {
  return new Promise((resolve, reject) => {
    // One process: node with tsx as its loader (the tsx command would run the build in a grandchild the kill would miss).
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'build-index', '--corpus', corpusDir, '--index', indexDir, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let started = 0;
    let killed = false;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
      if (!started && BUILD_STARTED.test(stderr)) {
        started = Date.now();
        if (killAfterMs !== null) setTimeout(() => (killed = child.kill('SIGKILL')), killAfterMs);
      }
    });
    child.on('exit', (code, signal) => {
      if (!started) return reject(new Error(`build never started: ${stderr}`));
      if (signal === null && code !== 0) return reject(new Error(`build failed (${code}): ${stderr}`));
      resolve({ buildMs: Date.now() - started, killed: killed && signal === 'SIGKILL' });
    });
  });
}

/** What the server answers on an index: its id and the ranked passages for each question, over a real port. */
async function serveAndAsk(config: Config, embedder: Embedder): Promise<{ index: string; answers: unknown[] }> {
  const server = await startServer(await openArchive(config, embedder), () => {});
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const health = await (await fetch(`${base}/api/health`)).json();
    const answers = [];
    for (const q of QUESTIONS) answers.push(await (await fetch(`${base}/api/search?q=${encodeURIComponent(q)}&k=5`)).json());
    return { index: health.index, answers };
  } finally {
    await server.close();
  }
}

let embedder: Embedder;
beforeAll(async () => {
  embedder = await seedModel();
});

/**
 * Builds the index of `before`, records what the server answers, then changes the corpus and kills
 * a build of it at KILLS moments spread over the build. After every kill the server must start on
 * a whole index and answer exactly as before the build (or, for a kill after the swap, exactly as
 * the finished new index does).
 */
async function killBuilds(change: (corpusDir: string) => void, args: string[]) {
  const corpusDir = await syntheticCorpus(200);
  const pristine = loadConfig({ corpusDir, indexDir: join(tempDir(), 'index'), server: { port: 0 } });
  await buildIndex(pristine, { embedder });
  const before = await serveAndAsk(pristine, embedder);
  change(corpusDir);
  const finished = loadConfig({ ...pristine, indexDir: join(tempDir(), 'index') });
  copyIndex(pristine.indexDir, finished.indexDir);
  const { buildMs } = await runBuild(corpusDir, finished.indexDir, args, null);
  const after = await serveAndAsk(finished, embedder);
  expect(after.index).not.toBe(before.index);

  const outcomes = { killed: 0, oldIndexServed: 0, newIndexServed: 0, finishedFirst: 0 };
  let last = '';
  for (let i = 0; i < KILLS; i++) {
    // Moments spread over the build; a build that happens to run faster than the measured one and
    // ends before its kill is checked too, then the moment is tried again a little earlier.
    let delay = ((i + 0.5) / KILLS) * buildMs;
    for (let attempt = 0; attempt < 4; attempt++, delay *= 0.75) {
      const indexDir = join(tempDir(), 'index');
      copyIndex(pristine.indexDir, indexDir);
      const run = await runBuild(corpusDir, indexDir, args, Math.round(delay));
      const served = await serveAndAsk(loadConfig({ ...pristine, indexDir }), embedder);
      expect([before.index, after.index]).toContain(served.index);
      expect(served).toEqual(served.index === before.index ? before : after);
      last = indexDir;
      if (!run.killed) {
        outcomes.finishedFirst++;
        continue;
      }
      outcomes.killed++;
      outcomes[served.index === before.index ? 'oldIndexServed' : 'newIndexServed']++;
      break;
    }
  }
  expect(outcomes.killed).toBe(KILLS);
  expect(outcomes.oldIndexServed).toBeGreaterThan(0);

  // A build after the crashes finishes, serves the new index, and clears what the killed builds left.
  await runBuild(corpusDir, last, args, null);
  expect(await serveAndAsk(loadConfig({ ...pristine, indexDir: last }), embedder)).toEqual(after);
  expect(readdirSync(last).sort()).toEqual(['CURRENT', readFileSync(join(last, 'CURRENT'), 'utf8').trim(), 'models']);
  process.stderr.write(`[crash] ${args.join(' ') || 'incremental'}: build ${buildMs} ms; ${JSON.stringify(outcomes)}\n`);
}

describe('crash safety, with real SIGKILLs', () => {
  it(`survives ${KILLS} kills during a full build`, async () => {
    await killBuilds((dir) => {
      writeFileSync(join(dir, 'added.txt'), 'An added document about the Solent ferry subsidy.');
      appendFileSync(join(dir, 'synthetic-0007.txt'), '\nA correction to the seventh document.\n');
    }, ['--full']);
  }, 600_000);

  it(`survives ${KILLS} kills during an incremental update`, async () => {
    await killBuilds((dir) => {
      writeFileSync(join(dir, 'added.txt'), 'An added document about the Solent ferry subsidy.');
      appendFileSync(join(dir, 'synthetic-0007.txt'), '\nA correction to the seventh document.\n');
      rmSync(join(dir, 'synthetic-0011.txt'));
    }, []);
  }, 600_000);
});
