import { rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchive, prepareArchive } from '../src/archive.js';
import { buildIndex } from '../src/index/index.js';
import { loadConfig, type ConfigInput } from '../src/config.js';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { copyOfSeedIndex, copyOfSeeds, heldRequest, until } from './helpers.js';

const TOKEN = 'test-admin-token-0123456789';
const running: RunningServer[] = [];

async function serveSeeds(server: ConfigInput['server'] = {}) {
  const config = loadConfig({ corpusDir: copyOfSeeds(), indexDir: copyOfSeedIndex(), server: { port: 0, ...server } });
  const logged: string[] = [];
  const s = await startServer(await prepareArchive(config, { log: () => {} }), (line) => logged.push(line));
  running.push(s);
  return { config, base: `http://127.0.0.1:${s.port}`, server: s, logged };
}

afterAll(() => Promise.all(running.map((s) => s.close())));

const reindex = (base: string, authorization?: string) => fetch(`${base}/api/reindex`, { method: 'POST', headers: authorization ? { authorization } : {} });

describe('POST /api/reindex', () => {
  it('is off (404) when no admin token is configured', async () => {
    const { base } = await serveSeeds();
    const res = await reindex(base, `Bearer ${TOKEN}`);
    expect(res.status).toBe(404);
    expect((await res.json()).error.message).toMatch(/off\. Set server\.adminToken/);
  });

  let base: string;
  let corpusDir: string;
  let logged: string[];
  beforeAll(async () => {
    const served = await serveSeeds({ adminToken: TOKEN });
    base = served.base;
    corpusDir = served.config.corpusDir;
    logged = served.logged;
  });

  it('refuses requests without the right token', async () => {
    for (const auth of [undefined, 'Bearer wrong-token', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const res = await reindex(base, auth);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('updates the index while the old one keeps answering, then swaps it in', async () => {
    const before = await (await fetch(`${base}/api/health`)).json();
    writeFileSync(join(corpusDir, 'ferry.md'), '# Ferry subsidy\n\nThe county agreed a ferry subsidy for the Isle of Wight in 2024 after long talks.');
    const update = reindex(base, `Bearer ${TOKEN}`);
    // The second request is sent once the first is known to be running (the update's first log line).
    await until(() => logged.some((l) => /^Updating the index from /.test(l)), Boolean, { waitingFor: 'the first reindex to start', intervalMs: 5 });
    const second = await reindex(base, `Bearer ${TOKEN}`);
    expect(second.status).toBe(409);
    // Searches during the update are answered (by the old index or the new one, whole).
    const during = await Promise.all(Array.from({ length: 5 }, () => fetch(`${base}/api/search?q=ferry%20subsidy&k=3`)));
    expect(during.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const answered = await Promise.all(during.map((r) => r.json()));
    const res = await update;
    expect(res.status).toBe(200);
    const report = await res.json();
    // Each answer came whole from one index: the old one (which has no ferry.md) or the new one (which finds it).
    for (const body of answered) {
      expect([before.index, report.index]).toContain(body.index);
      expect(body.results.some((r: { source: string }) => r.source === 'ferry.md')).toBe(body.index === report.index);
    }
    expect(report).toMatchObject({ previousIndex: before.index, changes: { added: { count: 1, first: ['ferry.md'] }, changed: { count: 0 }, removed: { count: 0 } }, fullRebuild: null, documents: 5, model: { trained: null } });
    expect(report.embedded).toBe(1);
    const after = await (await fetch(`${base}/api/health`)).json();
    expect(after.index).toBe(report.index);
    expect(after.index).not.toBe(before.index);
    const found = await (await fetch(`${base}/api/search?q=ferry%20subsidy%20Isle%20of%20Wight&k=1`)).json();
    expect(found.results[0].source).toBe('ferry.md');
  });
});

describe('POST /api/reindex after another process rebuilt the index', () => {
  it('updates from the index on disk, not from the one it had loaded', async () => {
    const { base, config, server } = await serveSeeds({ adminToken: TOKEN });
    // An update elsewhere (the CLI) replaces the generation the server loaded: a removed document's
    // labels deleted and an added one's appended, so the graph's labels no longer match the server's.
    rmSync(join(config.corpusDir, '000_2f8a857afa737480.txt'));
    writeFileSync(join(config.corpusDir, 'note.md'), '# A note\n\nPortsmouth and Southampton share a port economy and a ferry link.');
    await buildIndex(config, { embedder: server.archive().embedder });
    writeFileSync(join(config.corpusDir, 'ferry.md'), '# Ferry subsidy\n\nThe county agreed a ferry subsidy for the Isle of Wight in 2024 after long talks.');
    const res = await reindex(base, `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ embedded: 1, changes: { added: { count: 1, first: ['ferry.md'] }, changed: { count: 0 }, removed: { count: 0 } } });
    const found = await (await fetch(`${base}/api/search?q=ferry%20subsidy%20Isle%20of%20Wight&k=1`)).json();
    expect(found.results[0].source).toBe('ferry.md');
    const fresh = await openArchive(config, server.archive().embedder);
    expect((await fresh.search('why did the 2016 bid fail')).results).toEqual((await server.archive().search('why did the 2016 bid fail')).results);
  });
});

describe('cross-origin requests', () => {
  it('are not allowed by default', async () => {
    const { base } = await serveSeeds();
    const res = await fetch(`${base}/api/health`, { headers: { origin: 'https://elsewhere.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${base}/api/search`, { method: 'OPTIONS', headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('are allowed for the configured origins only', async () => {
    const { base } = await serveSeeds({ corsOrigins: ['https://colleagues.example'] });
    const allowed = await fetch(`${base}/api/health`, { headers: { origin: 'https://colleagues.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://colleagues.example');
    const other = await fetch(`${base}/api/health`, { headers: { origin: 'https://elsewhere.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('the per-request time limit', () => {
  it('answers 503 with a clear message when a request runs too long, and keeps serving', async () => {
    const { server, base } = await serveSeeds({ requestTimeoutMs: 100 });
    // A batch whose body the test holds back: it cannot be answered within the limit on any machine.
    const held = heldRequest(server.port, '/api/batch', JSON.stringify({ queries: [{ q: 'why did the 2016 bid fail' }] }));
    await held.started;
    const res = await held.response;
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'timeout', message: expect.stringMatching(/longer than 100 ms/) } });
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
    expect((await fetch(`${base}/api/search?q=devolution`)).status).toBe(200);
  });
});

/** A client that writes its whole request, body included, before it reads a byte of the answer (as Python's urllib does). */
function writeAllThenRead(port: number, path: string, body: Buffer): Promise<{ sent: boolean; response: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let sent = false;
    socket.on('error', () => resolve({ sent, response: Buffer.concat(chunks).toString() }));
    socket.on('end', () => resolve({ sent, response: Buffer.concat(chunks).toString() }));
    socket.pause();
    const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    socket.write(Buffer.concat([Buffer.from(head), body]), (error) => {
      sent = !error;
      socket.on('data', (d: Buffer) => chunks.push(d));
      socket.resume();
    });
  });
}

describe('a request body over the limit', () => {
  it('gets its 413 even when the client sends the whole 5 MB body before reading', async () => {
    const { server } = await serveSeeds();
    const body = Buffer.from(JSON.stringify({ q: 'x'.repeat(5 * 1024 * 1024) }));
    const { sent, response } = await writeAllThenRead(server.port, '/api/search', body);
    expect(sent).toBe(true);
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(response).toContain('"code":"body_too_large"');
  });
});
