import { createReadStream, existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { Archive } from '../archive.js';
import { describeZodError, UserError } from '../config.js';
import { QueryText } from '../serve/schemas.js';
import type { SearchResponse } from '../types.js';

const BatchLineSchema = z
  .object({
    id: z.union([z.string(), z.number()]).optional(),
    query: QueryText,
  })
  .strict();

export type BatchLine = { id: string | number | null; query: string } | { id: string | number | null; error: { code: string; message: string } };

/** One input line: a JSON object {"id","query"}, or a plain line of text that is the query itself. */
export function parseBatchLine(line: string, lineNumber: number): BatchLine {
  const trimmed = line.trim();
  let json: unknown = { query: trimmed };
  if (/^[[{]/.test(trimmed)) {
    try {
      json = JSON.parse(trimmed);
    } catch (e) {
      return { id: lineNumber, error: { code: 'invalid_json', message: `line ${lineNumber} is not valid JSON: ${(e as Error).message}` } };
    }
  }
  const parsed = BatchLineSchema.safeParse(json);
  if (!parsed.success) {
    const id = (json as { id?: unknown })?.id;
    return { id: typeof id === 'string' || typeof id === 'number' ? id : lineNumber, error: { code: 'invalid_line', message: `line ${lineNumber}: ${describeZodError(parsed.error)}` } };
  }
  return { id: parsed.data.id ?? lineNumber, query: parsed.data.query };
}

/** The batch output shape: a search response trimmed to the documented fields. */
export function batchRecord(id: string | number | null, response: SearchResponse) {
  return {
    id,
    query: response.query,
    answer: response.answer,
    results: response.results.map((r) => ({ rank: r.rank, score: r.score, docId: r.docId, source: r.source, title: r.title, date: r.date, page: r.page, start: r.start, end: r.end, section: r.section, text: r.text, sentence: r.sentence })),
    index: response.index,
  };
}

/** Reads queries from a file or stdin and writes one JSON line per query, in order, to `write`. */
export async function runBatch(archive: Archive, options: { input?: string; k: number }, write: (line: string) => void, onProgress: (done: number) => void): Promise<{ queries: number; errors: number }> {
  if (options.input && (!existsSync(options.input) || !statSync(options.input).isFile())) {
    throw new UserError(`Input file ${options.input} does not exist or is not a file.`);
  }
  const input = options.input ? createReadStream(options.input, 'utf8') : process.stdin;
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  let queries = 0;
  let errors = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    queries++;
    const parsed = parseBatchLine(line, n);
    if ('error' in parsed) {
      errors++;
      write(JSON.stringify({ id: parsed.id, error: parsed.error, index: archive.index.manifest.id }));
    } else {
      try {
        write(JSON.stringify(batchRecord(parsed.id, await archive.search(parsed.query, { k: options.k }))));
      } catch (e) {
        errors++;
        const code = e instanceof UserError ? e.code : 'internal';
        write(JSON.stringify({ id: parsed.id, error: { code, message: (e as Error).message }, index: archive.index.manifest.id }));
      }
    }
    onProgress(n);
  }
  return { queries, errors };
}
