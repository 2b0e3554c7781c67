import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { describeZodError, UserError } from '../config.js';
import { isIsoDate } from './metadata.js';

export const CATALOG_FILE = 'catalog.json';

const IsoDate = z.string().refine(isIsoDate, 'must be an ISO date: YYYY, YYYY-MM or YYYY-MM-DD');

export const CatalogEntrySchema = z
  .object({
    title: z.string().trim().min(1).optional(),
    date: IsoDate.nullable().optional(),
    publisher: z.string().trim().min(1).nullable().optional(),
    url: z.url().nullable().optional(),
  })
  .strict();

/** seeds/catalog.json: metadata per file, keyed by the file's path relative to the corpus folder. */
export const CatalogSchema = z.object({ files: z.record(z.string(), CatalogEntrySchema) }).strict();

export type CatalogEntry = z.infer<typeof CatalogEntrySchema>;
export type Catalog = z.infer<typeof CatalogSchema>;

export function readCatalog(corpusDir: string): { catalog: Catalog; bytes: Buffer | null } {
  const file = join(corpusDir, CATALOG_FILE);
  if (!existsSync(file)) return { catalog: { files: {} }, bytes: null };
  const bytes = readFileSync(file);
  const raw = bytes.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new UserError(`${file} is not valid JSON (${(e as Error).message}). Fix it or remove it.`);
  }
  const parsed = CatalogSchema.safeParse(json);
  if (!parsed.success) throw new UserError(`${file} is invalid: ${describeZodError(parsed.error)}`);
  return { catalog: parsed.data, bytes };
}
