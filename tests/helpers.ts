import { cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareArchive, type Archive } from '../src/archive.js';
import { splitSentences } from '../src/chunk/index.js';
import { loadConfig, type ConfigInput } from '../src/config.js';
import type { Embedder } from '../src/embed/index.js';
import { seededRandom } from '../src/embed/train/random.js';
import { linkTree, loadIndexModel, MODELS_DIR, readManifest } from '../src/index/index.js';
import { readCorpus } from '../src/ingest/index.js';

export const SEEDS = join(import.meta.dirname, '..', 'seeds');

/**
 * The seed archive as `npm start` builds it (its model trained on the seeds), built once by the
 * tests' global setup and kept between runs; tests copy it rather than train a model each.
 */
export const SEED_INDEX = join(import.meta.dirname, '..', 'node_modules', '.cache', 'semantic-archive', 'seeds-index');

export function tempDir(prefix = 'archive-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A copy of the seed corpus that a test may change. */
export function copyOfSeeds(): string {
  const dir = join(tempDir(), 'corpus');
  cpSync(SEEDS, dir, { recursive: true });
  return dir;
}

/** Copies an index folder; its model files are hard-linked (they are never written in place). */
export function copyIndex(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from)) {
    const [source, target] = [join(from, entry), join(to, entry)];
    if (entry === MODELS_DIR) linkTree(source, target);
    else cpSync(source, target, { recursive: true });
  }
}

/** A fresh copy of the seed archive's index folder (index and model), for a test to build on. */
export function copyOfSeedIndex(): string {
  const dir = join(tempDir(), 'index');
  copyIndex(SEED_INDEX, dir);
  return dir;
}

/** The seed archive's own model, loaded from its index. */
export async function seedModel(): Promise<Embedder> {
  const config = loadConfig({ indexDir: SEED_INDEX });
  return (await loadIndexModel(config, readManifest(SEED_INDEX)))!;
}

/**
 * An archive on `corpusDir` (default: the seeds) starting from a copy of the seed archive, as a
 * user's archive that started as the seeds would be: the index is updated to the corpus, keeping
 * the model while the corpus has not drifted from it.
 */
export async function seedArchive(overrides: ConfigInput = {}): Promise<Archive> {
  const config = loadConfig({ corpusDir: SEEDS, indexDir: copyOfSeedIndex(), ...overrides });
  return prepareArchive(config, { log: () => {} });
}

/**
 * A larger corpus made from the seeds' own sentences (recombined deterministically), for tests that
 * need a build long enough to interrupt: `documents` files of about 40 sentences each, plus the seeds.
 */
export async function syntheticCorpus(documents: number): Promise<string> {
  const dir = copyOfSeeds();
  const sentences = (await readCorpus(SEEDS)).documents.flatMap((d) => splitSentences(d.text).map((s) => d.text.slice(s.start, s.end)));
  const next = seededRandom(12345);
  for (let n = 0; n < documents; n++) {
    const picked = Array.from({ length: 40 }, () => sentences[Math.floor(next() * sentences.length)]);
    const paragraphs = Array.from({ length: 8 }, (_, p) => picked.slice(p * 5, p * 5 + 5).join(' '));
    writeFileSync(join(dir, `synthetic-${String(n).padStart(4, '0')}.txt`), `Synthetic document ${n}\n\n${paragraphs.join('\n\n')}\n`);
  }
  return dir;
}

/** What a raw HTTP/1.1 exchange answered: status, headers (lower-case names) and the body, de-chunked. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function parseResponse(raw: Buffer): RawResponse {
  // Skip any interim "100 Continue" answers before the final one.
  let text = raw.toString('latin1');
  while (/^HTTP\/1\.1 1\d\d /.test(text)) text = text.slice(text.indexOf('\r\n\r\n') + 4);
  const split = text.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  let body = text.slice(split + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    let out = '';
    for (let at = 0; ; ) {
      const eol = body.indexOf('\r\n', at);
      const size = parseInt(body.slice(at, eol), 16);
      if (!size) break;
      out += body.slice(eol + 2, eol + 2 + size);
      at = eol + 2 + size + 2;
    }
    body = out;
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: Buffer.from(body, 'latin1').toString('utf8') };
}

/**
 * A POST the test holds open: the headers go out with "Expect: 100-continue", `started` resolves
 * once the server has answered "100 Continue" (it has the request and is handling it), and the body
 * is sent only when the test calls `sendBody`. A request slow by construction, whatever the machine's speed.
 */
export function heldRequest(port: number, path: string, body: string): { started: Promise<void>; sendBody(): void; response: Promise<RawResponse> } {
  const socket = connect(port, '127.0.0.1');
  const bytes = Buffer.from(body);
  const chunks: Buffer[] = [];
  let onContinue = () => {};
  const started = new Promise<void>((resolve) => (onContinue = resolve));
  socket.on('data', (d: Buffer) => {
    chunks.push(d);
    if (/^HTTP\/1\.1 100 /.test(Buffer.concat(chunks).toString('latin1'))) onContinue();
  });
  const response = new Promise<RawResponse>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('end', () => resolve(parseResponse(Buffer.concat(chunks))));
  });
  socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${bytes.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`);
  return { started, sendBody: () => socket.write(bytes), response };
}

/**
 * Polls `what` until `ok` holds for its value, and returns that value: the tests' way to wait for a
 * positive signal (a log line, a refused connection) instead of sleeping. Fails after `timeoutMs`,
 * saying what it waited for.
 */
export async function until<T>(what: () => T | Promise<T>, ok: (value: T) => boolean, options: { waitingFor?: string | (() => string); timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const { waitingFor = 'a condition', timeoutMs = 30_000, intervalMs = 20 } = options;
  const started = Date.now();
  for (;;) {
    const value = await what();
    if (ok(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`still waiting after ${timeoutMs} ms for ${typeof waitingFor === 'function' ? waitingFor() : waitingFor}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
