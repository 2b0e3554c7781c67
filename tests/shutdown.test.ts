import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { buildIndex } from '../src/index/index.js';
import { heldRequest, SEEDS, seedModel, tempDir, until } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');
const indexDir = join(tempDir(), 'index');

beforeAll(async () => {
  const config = loadConfig({ corpusDir: SEEDS, indexDir });
  await buildIndex(config, { embedder: await seedModel() });
});

describe('graceful shutdown', () => {
  it('on SIGTERM stops taking connections, finishes the request in flight, then exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', '--no-build', '--workers', '2', '--corpus', SEEDS, '--index', indexDir, '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk;
        const m = stderr.match(/on http:\/\/127\.0\.0\.1:(\d+)/);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', () => reject(new Error(`server exited early: ${stderr}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
    // Both workers answer a search first: a worker's first search loads the answer models, which on a
    // loaded machine could eat the 10 s grace that the held request is given after SIGTERM.
    const warm = await Promise.all(Array.from({ length: 4 }, () => fetch(`${base}/api/search?q=devolution`).then((r) => r.status)));
    expect(warm).toEqual([200, 200, 200, 200]);

    // A batch held in flight by the test: the server has its headers (it answered "100 Continue") but not its body.
    // A few searches: enough to be in flight, few enough to finish within the 10 s grace on a loaded machine.
    const queries = Array.from({ length: 6 }, (_, i) => ({ id: i, q: `devolution deal ${i} for Hampshire and the Solent` }));
    const held = heldRequest(port, '/api/batch', JSON.stringify({ queries, k: 10 }));
    await held.started;
    child.kill('SIGTERM');
    // New connections are refused once the signal is taken, while the held request is still open.
    await until(() => fetch(`${base}/api/health`).then(() => true, () => false), (answered) => !answered, { waitingFor: 'new connections to be refused' });
    expect(stderr).toMatch(/SIGTERM: finishing requests in flight, then stopping/);
    held.sendBody();
    const res = await held.response;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).results.map((r: { id: number }) => r.id)).toEqual(queries.map((q) => q.id));
    expect(await exited).toBe(0);
  }, 60_000);
});
