import { createReadStream, existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { Archive } from '../archive.js';
import { describeZodError, UserError } from '../config.js';
import { QueryText } from '../serve/schemas.js';
import { recordsCsv, searchRecord, type FailedRecord, type SearchRecord } from '../serve/records.js';

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

export const BATCH_FORMATS = ['jsonl', 'csv'] as const;
export type BatchFormat = (typeof BATCH_FORMATS)[number];

/**
 * Reads queries from a file or stdin and writes, in order, one JSON line per query (jsonl) or its
 * CSV rows after one header row (csv: the page's Download gives the same), to `write`.
 */
export async function runBatch(archive: Archive, options: { input?: string; k: number; format?: BatchFormat }, write: (text: string) => void, onProgress: (done: number) => void): Promise<{ queries: number; errors: number }> {
  if (options.input && (!existsSync(options.input) || !statSync(options.input).isFile())) {
    throw new UserError(`Input file ${options.input} does not exist or is not a file.`);
  }
  const input = options.input ? createReadStream(options.input, 'utf8') : process.stdin;
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  let queries = 0;
  let errors = 0;
  const emit = (record: SearchRecord | FailedRecord) => write(options.format === 'csv' ? recordsCsv([record], queries === 1) : `${JSON.stringify(record)}\n`);
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    queries++;
    const parsed = parseBatchLine(line, n);
    if ('error' in parsed) {
      errors++;
      emit({ id: parsed.id, error: parsed.error, index: archive.index.manifest.id });
    } else {
      try {
        emit(searchRecord(parsed.id, await archive.search(parsed.query, { k: options.k })));
      } catch (e) {
        errors++;
        const code = e instanceof UserError ? e.code : 'internal';
        emit({ id: parsed.id, error: { code, message: (e as Error).message }, index: archive.index.manifest.id });
      }
    }
    onProgress(n);
  }
  return { queries, errors };
}
