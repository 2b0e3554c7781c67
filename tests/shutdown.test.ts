import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { buildIndex } from '../src/index/index.js';
import { SEEDS, seedModel, tempDir } from './helpers.js';

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

    // A batch long enough to be in flight when the signal arrives.
    const queries = Array.from({ length: 100 }, (_, i) => ({ id: i, q: `devolution deal ${i} for Hampshire and the Solent` }));
    let answeredAt = 0;
    const inFlight = fetch(`${base}/api/batch`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify({ queries, k: 100 }) }).then((r) => ((answeredAt = Date.now()), r));
    await new Promise((r) => setTimeout(r, 300));
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    await expect(fetch(`${base}/api/health`)).rejects.toThrow();

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(answeredAt).toBeGreaterThan(signalledAt);
    expect((await res.json()).results.map((r: { id: number }) => r.id)).toEqual(queries.map((q) => q.id));
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/SIGTERM: finishing requests in flight, then stopping/);
  }, 60_000);
});
