import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { openArchive } from '../src/archive.js';
import { loadConfig } from '../src/config.js';
import { createApp } from '../src/serve/app.js';
import { CSV_COLUMNS } from '../src/serve/records.js';
import { copyOfSeedIndex, SEEDS, tempDir } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const indexDir = copyOfSeedIndex();

/** Runs the CLI as a user would, with stdin from `input`; never rejects, so exit codes can be checked. */
function cli(args: string[], input?: string | Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(TSX, ['src/cli/main.ts', ...args], { cwd: ROOT, maxBuffer: 1 << 26 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input ?? '');
  });
}


describe('the command line', () => {
  it('build-index prints a JSON summary on stdout and progress on stderr', async () => {
    const dir = copyOfSeedIndex();
    const { code, stdout, stderr } = await cli(['build-index', '--full', '--corpus', SEEDS, '--index', dir]);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ documents: 4, fullRebuild: 'a full rebuild was asked for', model: { trained: null }, skipped: { count: 0, first: [] } });
    expect(summary.outOfVocabulary).toMatchObject({ unknown: 0, share: 0 });
    expect(summary.chunks).toBeGreaterThan(50);
    expect(stderr).toMatch(/Embedding passages: \d+\/\d+ \| [\d.]+\/s/);
  });

  it('search --json answers a question', async () => {
    const { code, stdout } = await cli(['search', 'what replaced the Hampshire Senate', '--k', '3', '--json', '--corpus', SEEDS, '--index', indexDir]);
    expect(code).toBe(0);
    const response = JSON.parse(stdout);
    expect(response.results).toHaveLength(3);
    expect(response.answer.text).toContain('Hampshire Partnership');
  });

  it('batch reads JSONL and plain lines and writes one line per query, in order, with errors in place', async () => {
    const input = [
      JSON.stringify({ id: 'q1', query: 'why did the 2016 bid fail' }),
      'Heart of Wessex',
      '{"id": "broken", "query": ',
      JSON.stringify({ id: 7, query: '   ' }),
      '',
      JSON.stringify({ id: 'q5', query: 'who leads Wiltshire Council' }),
    ].join('\n');
    const { code, stdout, stderr } = await cli(['batch', '--k', '2', '--corpus', SEEDS, '--index', indexDir], input);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(['q1', 2, 3, 7, 'q5']);
    const [first, plain, broken, empty, last] = lines;
    expect(Object.keys(first)).toEqual(['id', 'query', 'answer', 'results', 'index']);
    expect(first.results).toHaveLength(2);
    expect(Object.keys(first.results[0])).toEqual(['rank', 'score', 'docId', 'source', 'title', 'date', 'page', 'start', 'end', 'section', 'text', 'sentence']);
    expect(Object.keys(first.results[0].sentence)).toEqual(['start', 'end', 'page', 'text', 'score']);
    expect(Object.keys(first.answer)).toEqual(['text', 'score', 'short', 'evidence', 'citation']);
    expect(first.answer.short).toBeNull(); // a why question
    expect(Object.keys(first.answer.citation)).toEqual(['docId', 'source', 'title', 'date', 'page', 'start', 'end']);
    expect(plain.query).toBe('Heart of Wessex');
    expect(broken.error.code).toBe('invalid_json');
    expect(empty.error.message).toMatch(/query: must not be empty/);
    expect(last.query).toBe('who leads Wiltshire Council');
    expect(new Set(lines.map((l) => l.index)).size).toBe(1);
    expect(first.index).toMatch(/^[0-9a-f]{16}$/);
    expect(stderr).toMatch(/Answered 3 of 5 queries \(2 with errors\)/);
  });

  it('batch answers every bad line with an error in its place and goes on', async () => {
    const input = Buffer.concat([
      Buffer.from(['[1, 2]', JSON.stringify({ id: 'bell', query: 'bid\u0007fail' }), JSON.stringify({ id: 'extra', query: 'ok', colour: 'red' }), 'why '.repeat(600), ''].join('\n')),
      Buffer.from([0x62, 0x69, 0x64, 0x20, 0xff, 0xfe, 0x20, 0x66, 0x61, 0x69, 0x6c, 0x0a]),
      Buffer.from('Heart of Wessex\n'),
    ]);
    const { code, stdout, stderr } = await cli(['batch', '--k', '1', '--corpus', SEEDS, '--index', indexDir], input);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.id, l.error?.message ?? l.query])).toEqual([
      [1, expect.stringMatching(/^line 1: .*expected object/)],
      ['bell', expect.stringMatching(/^line 2: query: must not contain control characters or invalid UTF-8/)],
      ['extra', expect.stringMatching(/^line 3: .*colour/)],
      [4, expect.stringMatching(/^line 4: query: must be at most 2000 characters/)],
      [5, expect.stringMatching(/^line 5: query: must not contain control characters or invalid UTF-8/)],
      [6, 'Heart of Wessex'],
    ]);
    expect(stderr).toMatch(/Answered 1 of 6 queries \(5 with errors\)/);
  });

  it('batch --format csv writes the rows the page downloads: a header, one row per passage, bad lines in place', async () => {
    const input = [JSON.stringify({ id: 'q1', query: 'why did the 2016 bid fail' }), '{"id": "broken"', 'Heart of Wessex'].join('\n');
    const { code, stdout } = await cli(['batch', '--k', '2', '--format', 'csv', '--corpus', SEEDS, '--index', indexDir], input);
    expect(code).toBe(0);
    const rows: Array<Record<string, string>> = parse(stdout, { columns: true });
    expect(rows.map((r) => [r.id, r.rank])).toEqual([['q1', '1'], ['q1', '2'], ['2', ''], ['3', '1'], ['3', '2']]);
    expect(rows[2].error).toMatch(/^invalid_json: line 2 is not valid JSON/);
    // The same rows as the page's "Download CSV" of that search, but for the id.
    const app = createApp(await openArchive(loadConfig({ corpusDir: SEEDS, indexDir })));
    const downloaded: Array<Record<string, string>> = parse(await (await app.request('/api/export?q=why%20did%20the%202016%20bid%20fail&k=2&format=csv')).text(), { columns: true });
    expect(downloaded.map((r) => ({ ...r, id: 'q1' }))).toEqual(rows.slice(0, 2));
    expect(Object.keys(rows[0])).toEqual([...CSV_COLUMNS]);
  });

  it('batch reads --input FILE the same as stdin', async () => {
    const file = join(tempDir(), 'queries.jsonl');
    writeFileSync(file, 'Heart of Wessex\n');
    const fromFile = await cli(['batch', '--input', file, '--corpus', SEEDS, '--index', indexDir]);
    const fromStdin = await cli(['batch', '--corpus', SEEDS, '--index', indexDir], 'Heart of Wessex\n');
    expect(fromFile.stdout).toBe(fromStdin.stdout);
    expect(JSON.parse(fromFile.stdout).results).toHaveLength(10);
  });

  it.each([
    [['batch', '--k', '0'], /--k.*must be a whole number from 1 to 100/],
    [['batch', '--k', 'abc'], /--k.*must be a whole number from 1 to 100/],
    [['search', 'q', '--k', '101'], /--k.*must be a whole number from 1 to 100/],
    [['batch', '--input', '/no/such/file.jsonl', '--index', indexDir, '--corpus', SEEDS], /Input file \/no\/such\/file.jsonl does not exist/],
    [['build-index', '--corpus', '/no/such/folder', '--index', join(tempDir(), 'i')], /Corpus folder \/no\/such\/folder does not exist/],
    [['start', '--no-build', '--corpus', SEEDS, '--index', join(tempDir(), 'none'), '--port', '0'], /No index at .*npm run build-index/],
    [['search', '   ', '--index', indexDir, '--corpus', SEEDS], /The question is empty/],
    [['frobnicate'], /unknown command/],
    [['batch', '--input', tempDir(), '--index', indexDir, '--corpus', SEEDS], /Input file .* does not exist or is not a file/],
    [['build-index', '--corpus', join(SEEDS, 'catalog.json'), '--index', join(tempDir(), 'i')], /Corpus folder .*catalog\.json does not exist or is not a folder/],
    [['start', '--port', '70000'], /--port.*must be a whole number from 0 to 65535/],
    [['start', '--port', 'eighty'], /--port.*must be a whole number from 0 to 65535/],
    [['search'], /missing required argument 'question'/],
    [['batch', '--unknown-flag'], /unknown option '--unknown-flag'/],
    [['batch', '--format', 'xml'], /--format.*Allowed choices are jsonl, csv/],
  ])('%j fails with a clear message', async (args, message) => {
    const { code, stderr, stdout } = await cli(args as string[]);
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
    expect(stdout).toBe('');
  });
});
