import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyOfSeedIndex, copyOfSeeds } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');
let child: ChildProcess;
let stderr = '';
let base: string;
const corpusDir = copyOfSeeds();

/** Resolves when the server's log has `count` lines matching `pattern`. */
async function logLines(pattern: RegExp, count: number, timeoutMs = 30_000): Promise<string[]> {
  const started = Date.now();
  for (;;) {
    const lines = stderr.split('\n').filter((l) => pattern.test(l));
    if (lines.length >= count) return lines;
    if (Date.now() - started > timeoutMs) throw new Error(`no ${count} lines like ${pattern} in: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const search = async (q: string) => (await fetch(`${base}/api/search?q=${encodeURIComponent(q)}&k=3`)).json();

beforeAll(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', '--watch', '--workers', '2', '--corpus', corpusDir, '--index', copyOfSeedIndex(), '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const [line] = await logLines(/on http:\/\/127\.0\.0\.1:\d+/, 1);
  base = `http://127.0.0.1:${line.match(/:(\d+)$/)![1]}`;
  await logLines(/^Watching /, 1);
});

afterAll(() => {
  child?.kill('SIGTERM');
});

describe('npm start -- --watch', () => {
  it('picks up an added file, answering all the while, and logs the update', async () => {
    writeFileSync(join(corpusDir, 'ferry.md'), '# Ferry subsidy\n\nThe county agreed a ferry subsidy for the Isle of Wight in 2024 after long talks.');
    // Searches sent while the update is pending or running are all answered.
    const during: number[] = [];
    const updated = logLines(/^Watch: 1 added, 0 changed, 0 removed/, 1);
    let done = false;
    void updated.then(() => (done = true));
    while (!done) during.push((await fetch(`${base}/api/search?q=ferry&k=3`)).status);
    const [line] = await updated;
    expect(line).toMatch(/embedded 1 passages in [\d.]+ s; now serving index [0-9a-f]{16} \(5 documents\)/);
    expect(during.length).toBeGreaterThan(0);
    expect(new Set(during)).toEqual(new Set([200]));
    expect((await search('ferry subsidy for the Isle of Wight')).results[0].source).toBe('ferry.md');
  });

  it('picks up a changed file and a removed one; a burst of changes is one update', async () => {
    appendFileSync(join(corpusDir, 'ferry.md'), '\nThe subsidy pays for the night crossing from Lymington.\n');
    rmSync(join(corpusDir, '003_b19f9eb657466ce4.txt'));
    const [line] = await logLines(/^Watch: 0 added, 1 changed, 1 removed/, 1);
    expect(line).toMatch(/\(4 documents\)/);
    expect((await search('night crossing from Lymington')).results[0].sentence.text).toMatch(/night crossing from Lymington/);
    const sources = (await (await fetch(`${base}/api/docs`)).json()).map((d: { source: string }) => d.source);
    expect(sources).not.toContain('003_b19f9eb657466ce4.txt');
    expect(stderr.split('\n').filter((l) => l.startsWith('Watch:'))).toHaveLength(2);
  });

  it('ignores hidden files: a visible file written after one is updated alone', async () => {
    writeFileSync(join(corpusDir, '.notes.txt'), 'A hidden scratch file about the pier.');
    // Three debounce periods later (the server's default, 1 s), so a watcher that saw the hidden file would have run an update of its own by then.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    writeFileSync(join(corpusDir, 'pier.md'), '# Pier repairs\n\nThe council will repair the pier at Southsea before the summer.');
    // The positive signal: the visible file's update, the third of the server's life; an update for the hidden file would have come before it.
    const lines = await logLines(/^Watch:/, 3);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^Watch: 1 added, 0 changed, 0 removed.*\(5 documents\)/);
    const sources = (await (await fetch(`${base}/api/docs`)).json()).map((d: { source: string }) => d.source);
    expect(sources).toContain('pier.md');
    expect(sources).not.toContain('.notes.txt');
  });
});

describe('npm start -- --watch, a change made as the server comes up', () => {
  let late: ChildProcess | undefined;
  afterAll(() => {
    late?.kill('SIGTERM');
  });

  it('is found: the folder is checked against the index once the watcher is ready', async () => {
    const corpus = copyOfSeeds();
    // A port known before the server says it listens: its first worker answers before the watcher has scanned the folder.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const url = `http://127.0.0.1:${port}`;
    let log = '';
    late = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', '--watch', '--workers', '2', '--corpus', corpus, '--index', copyOfSeedIndex(), '--port', String(port)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    late.stderr!.on('data', (chunk: Buffer) => (log += chunk));
    const started = Date.now();
    // The moment /api/health first answers.
    while ((await fetch(`${url}/api/health`).catch(() => null))?.status !== 200) {
      if (Date.now() - started > 60_000) throw new Error(`the server did not start: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    writeFileSync(join(corpus, 'harbour.md'), '# Harbour dues\n\nThe harbour board froze the dues paid by Cowes ferries for the winter of 2025.');
    for (;;) {
      const top = (await (await fetch(`${url}/api/search?q=${encodeURIComponent('harbour dues Cowes ferries')}&k=1`)).json()).results[0];
      if (top?.source === 'harbour.md') break;
      if (Date.now() - started > 90_000) throw new Error(`harbour.md was never indexed: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // The update is logged once every worker has the new index, which may be just after a worker answers from it.
    while (!/Watch: 1 added, 0 changed, 0 removed/.test(log) && Date.now() - started < 90_000) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(log).toMatch(/Watch: 1 added, 0 changed, 0 removed/);
  }, 120_000);
});
