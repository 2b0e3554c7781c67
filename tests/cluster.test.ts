import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyOfSeedIndex, copyOfSeeds, until } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');
const TOKEN = 'cluster-test-token-0123456789';
let child: ChildProcess;
let stderr = '';
let base: string;
const corpusDir = copyOfSeeds();

/** The worker processes of the server: the primary's children, from /proc (Linux). */
const workers = () => readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);

/** Each of `n` requests on its own connection, so the primary hands them to the workers in turn. */
const eachOnItsOwnConnection = (n: number, path: string) => Promise.all(Array.from({ length: n }, async () => (await fetch(`${base}${path}`, { headers: { connection: 'close' } })).json()));

/** Waits as the other tests do, showing the server's log when it times out. */
const untilServer = <T>(what: () => T | Promise<T>, ok: (value: T) => boolean) => until(what, ok, { waitingFor: () => `the server; its log: ${stderr}`, intervalMs: 100 });

beforeAll(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', '--workers', '2', '--corpus', corpusDir, '--index', copyOfSeedIndex(), '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ARCHIVE_ADMIN_TOKEN: TOKEN } });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const port = await untilServer(() => stderr.match(/from 2 worker processes on http:\/\/127\.0\.0\.1:(\d+)/)?.[1], Boolean);
  base = `http://127.0.0.1:${port}`;
});

afterAll(() => {
  child?.kill('SIGTERM');
});

describe('npm start with server.workers 2', () => {
  it('serves from two worker processes on one port', async () => {
    expect(workers()).toHaveLength(2);
    const answers = await eachOnItsOwnConnection(6, `/api/search?q=${encodeURIComponent('why did the 2016 bid fail')}&k=3`);
    // Both workers hold the same index: every answer is the same.
    expect(new Set(answers.map((a) => JSON.stringify(a.results.map((r: { docId: string }) => r.docId)))).size).toBe(1);
    expect(answers[0].results).toHaveLength(3);
  });

  it('a reindex sent to one worker is built once and served by every worker when it answers', async () => {
    const [before] = await eachOnItsOwnConnection(1, '/api/health');
    writeFileSync(join(corpusDir, 'ferry.md'), '# Ferry subsidy\n\nThe county agreed a ferry subsidy for the Isle of Wight in 2024 after long talks.');
    const res = await fetch(`${base}/api/reindex`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const summary = await res.json();
    expect(summary.changes.added.first).toEqual(['ferry.md']);
    expect(summary.previousIndex).toBe(before.index);
    // A worker that had not swapped would answer with the old index about half of the time.
    const healths = await eachOnItsOwnConnection(8, '/api/health');
    expect(new Set(healths.map((h) => h.index))).toEqual(new Set([summary.index]));
    const found = await eachOnItsOwnConnection(4, `/api/search?q=${encodeURIComponent('ferry subsidy Isle of Wight')}&k=1`);
    expect(found.map((f) => f.results[0].source)).toEqual(['ferry.md', 'ferry.md', 'ferry.md', 'ferry.md']);
    expect(stderr.match(/Updated the index: added 1: ferry\.md/g)).toHaveLength(1);
  });

  it('replaces a worker that dies, and keeps answering meanwhile', async () => {
    const [victim, survivor] = workers();
    process.kill(victim, 'SIGKILL');
    const replaced = await untilServer(workers, (pids) => pids.length === 2 && !pids.includes(victim));
    expect(replaced).toContain(survivor);
    expect(stderr).toMatch(new RegExp(`Worker ${victim} stopped \\(SIGKILL\\); starting another`));
    await untilServer(() => stderr, (log) => log.includes(`A new worker serves in place of ${victim}.`));
    // The new worker opens the live index: the one the reindex above swapped in.
    const answers = await eachOnItsOwnConnection(8, '/api/health');
    expect(new Set(answers.map((h) => h.documents))).toEqual(new Set([5]));
  });

  it('stops every worker on SIGTERM and exits 0', async () => {
    const pids = workers();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});
