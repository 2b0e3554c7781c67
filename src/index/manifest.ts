import { createHash } from 'node:crypto';
import { z } from 'zod';
import { UserError } from '../config.js';
import { CATALOG_FILE } from '../ingest/catalog.js';
import { ENCODED_ARTIFACTS } from './artifacts.js';

export const FORMAT_VERSION = 8;

export const ARTIFACTS = [...ENCODED_ARTIFACTS, 'vectors.hnsw'] as const;

export const ManifestSchema = z.object({
  formatVersion: z.literal(FORMAT_VERSION),
  /** Hash of everything the index content depends on; batch output carries it for reproducibility. */
  id: z.string(),
  createdAt: z.string(),
  model: z.object({
    id: z.string(),
    checksum: z.string(),
    dim: z.number().int().positive(),
    queryPrefix: z.string(),
    passagePrefix: z.string(),
    titleInPassage: z.boolean(),
    /** The built-in model's folder inside the index folder ("models/archive-static-..."); null for a configured model. */
    folder: z.string().nullable(),
  }),
  chunking: z.object({ targetWords: z.number(), maxWords: z.number(), overlapSentences: z.number() }),
  lexical: z.object({ k1: z.number(), b: z.number() }),
  /** sha256 of every corpus file (and the catalog) the index was built from. */
  sources: z.record(z.string(), z.string()),
  /** Size and modification time of each corpus file as read: an unchanged stamp is not read again. */
  stamps: z.record(z.string(), z.tuple([z.number(), z.number()])),
  counts: z.object({ documents: z.number().int(), chunks: z.number().int(), vectorLabels: z.number().int() }),
  /** How much of the corpus the built-in model knows (null for other models): see index/model.ts. */
  outOfVocabulary: z.object({ words: z.number().int(), unknown: z.number().int(), share: z.number(), atTraining: z.number(), retrainAbove: z.number() }).nullable(),
  artifacts: z.record(z.string(), z.object({ bytes: z.number().int(), sha256: z.string() })),
});

export type Manifest = z.infer<typeof ManifestSchema>;

/** The inputs that decide an index's content. Two builds with equal inputs give the same id. */
export type ManifestInputs = Pick<Manifest, 'model' | 'chunking' | 'lexical' | 'sources'>;

export function manifestId(inputs: ManifestInputs): string {
  const canonical = JSON.stringify({
    formatVersion: FORMAT_VERSION,
    model: inputs.model,
    chunking: inputs.chunking,
    lexical: inputs.lexical,
    sources: Object.fromEntries(Object.entries(inputs.sources).sort(([a], [b]) => (a < b ? -1 : 1))),
  });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

export interface FileChanges {
  /** Documents' files. */
  added: string[];
  changed: string[];
  removed: string[];
  /** The catalog (metadata of the documents, not a document): how it changed, if it did. */
  catalog: 'added' | 'changed' | 'removed' | null;
}

/** Files added, changed and removed between two fingerprints, the catalog apart. */
export function fileChanges(before: Record<string, string>, after: Record<string, string>): FileChanges {
  const documents = (sources: Record<string, string>) => Object.keys(sources).filter((s) => s !== CATALOG_FILE);
  const [was, is] = [before[CATALOG_FILE], after[CATALOG_FILE]];
  return {
    added: documents(after).filter((s) => !(s in before)),
    changed: documents(after).filter((s) => s in before && before[s] !== after[s]),
    removed: documents(before).filter((s) => !(s in after)),
    catalog: was === is ? null : !was ? 'added' : !is ? 'removed' : 'changed',
  };
}

/** "3 files added, the catalog changed": what changed, for messages; empty when nothing did. */
export function describeChanges({ added, changed, removed, catalog }: FileChanges): string[] {
  return [
    ...([[added, 'added'], [changed, 'changed'], [removed, 'removed']] as const).flatMap(([files, verb]) => (files.length ? [`${verb} ${files.length}: ${listFiles(files)}`] : [])),
    ...(catalog ? [`${CATALOG_FILE} ${catalog}`] : []),
  ];
}

/** "a, b, c, d, e, and 7 more": file lists in messages stay readable for large corpora. */
export const listFiles = (files: string[], shown = 5) => files.slice(0, shown).join(', ') + (files.length > shown ? `, and ${files.length - shown} more` : '');

/** Why an index built from `built` does not serve `wanted`; empty when it does. */
export function staleReasons(built: ManifestInputs, wanted: ManifestInputs): string[] {
  const reasons: string[] = [];
  if (built.model.id !== wanted.model.id) reasons.push(`model changed (${built.model.id} -> ${wanted.model.id})`);
  else if (built.model.checksum !== wanted.model.checksum) reasons.push(`model files of ${wanted.model.id} changed`);
  if (built.model.queryPrefix !== wanted.model.queryPrefix || built.model.passagePrefix !== wanted.model.passagePrefix) reasons.push('model prefixes changed');
  if (built.model.titleInPassage !== wanted.model.titleInPassage) reasons.push('passage embedding settings changed');
  if (JSON.stringify(built.chunking) !== JSON.stringify(wanted.chunking)) reasons.push('chunking settings changed');
  if (JSON.stringify(built.lexical) !== JSON.stringify(wanted.lexical)) reasons.push('BM25 settings changed');
  const { added, changed, removed, catalog } = fileChanges(built.sources, wanted.sources);
  if (added.length) reasons.push(`${added.length} file(s) added: ${listFiles(added)}`);
  if (removed.length) reasons.push(`${removed.length} file(s) removed: ${listFiles(removed)}`);
  if (changed.length) reasons.push(`${changed.length} file(s) changed: ${listFiles(changed)}`);
  if (catalog) reasons.push(`${CATALOG_FILE} ${catalog}`);
  return reasons;
}

/** An index that cannot be loaded as it is; `problem` says what is wrong, the message adds how to rebuild. */
export class IndexDamagedError extends UserError {
  constructor(readonly problem: string) {
    super(`${problem}. Rebuild it with: npm run build-index`, 'index_damaged');
  }
}
