import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { locateBench, materializeCorpus } from './bench.js';
import { mean, mrrAt, ndcgAt, recallAt, type Judgements } from './metrics.js';

/** Where BEIR SciFact is looked for: SCIFACT_DIR, else ../shared/bench/scifact beside the checkout. */
export const locateScifact = (root: string): string | null => locateBench(root, 'SCIFACT_DIR', 'scifact', (d) => existsSync(join(d, 'corpus.jsonl')) && existsSync(join(d, 'queries.jsonl')));

const CorpusLine = z.object({ _id: z.string(), title: z.string(), text: z.string() });
const QueryLine = z.object({ _id: z.string(), text: z.string() });

const parseJsonl = <T>(text: string, schema: z.ZodType<T>): T[] => text.split('\n').filter((l) => l.trim()).map((l) => schema.parse(JSON.parse(l)));
const readJsonl = <T>(file: string, schema: z.ZodType<T>): T[] => parseJsonl(readFileSync(file, 'utf8'), schema);

/**
 * Writes SciFact as an ordinary corpus folder (one .txt per abstract, title as its first line, and
 * a catalog.json with the titles), so it is indexed by exactly the code any archive goes through.
 * Skips the work when the folder already matches corpus.jsonl.
 */
export function materializeScifactCorpus(benchDir: string, corpusDir: string): number {
  const docs = readJsonl(join(benchDir, 'corpus.jsonl'), CorpusLine);
  const files = new Map(docs.map((d) => [`${d._id}.txt`, `${d.title}\n\n${d.text}\n`]));
  const catalog = Object.fromEntries(docs.filter((d) => d.title.trim()).map((d) => [`${d._id}.txt`, { title: d.title.trim() }]));
  files.set('catalog.json', JSON.stringify({ files: catalog }));
  materializeCorpus(corpusDir, files);
  return docs.length;
}

/**
 * SciFact as the scripts run it: the corpus written under reports/scifact/corpus and its archive
 * (index and model) beside it. Returns the two folders and the number of abstracts.
 */
export function scifactSettings(root: string, benchDir: string): { settings: { corpusDir: string; indexDir: string }; documents: number } {
  const dir = join(root, 'reports', 'scifact');
  const corpusDir = join(dir, 'corpus');
  const documents = materializeScifactCorpus(benchDir, corpusDir);
  return { settings: { corpusDir, indexDir: join(dir, 'index') }, documents };
}

export interface ScifactQuery {
  id: string;
  text: string;
  judged: Judgements;
}

/** Queries of a split with their judgements (qrels files use CRLF line endings). */
export function readScifactQueries(benchDir: string, split: 'train' | 'test'): ScifactQuery[] {
  const judged = new Map<string, Judgements>();
  const lines = readFileSync(join(benchDir, 'qrels', `${split}.tsv`), 'utf8').split(/\r?\n/).slice(1);
  for (const line of lines) {
    const [query, doc, score] = line.trim().split('\t');
    if (!query || !doc) continue;
    if (!judged.has(query)) judged.set(query, new Map());
    judged.get(query)!.set(doc, Number(score));
  }
  return readJsonl(join(benchDir, 'queries.jsonl'), QueryLine)
    .filter((q) => judged.has(q._id))
    .map((q) => ({ id: q._id, text: q.text, judged: judged.get(q._id)! }));
}

export interface RankingMetrics {
  ndcgAt10: number;
  recallAt100: number;
  mrrAt10: number;
}

/** One line of `batch` output, as far as scoring a ranking reads it. */
const BatchResult = z.object({ id: z.union([z.string(), z.number()]), results: z.array(z.object({ source: z.string() })) });

/**
 * Scores `batch` output lines against the judgements: a document ranks where its first passage
 * does (abstract ids are the corpus file names), and nDCG@10, Recall@100 and MRR@10 are averaged
 * over every query of the split (a query missing from the output scores 0).
 */
export function scoreBatchOutput(lines: string[], queries: ScifactQuery[]): RankingMetrics {
  const rankings = new Map<string, string[]>();
  for (const line of lines) {
    const { id, results } = BatchResult.parse(JSON.parse(line));
    rankings.set(String(id), [...new Set(results.map((r) => r.source.replace(/\.txt$/, '')))]);
  }
  const per = queries.map((q) => {
    const ranking = rankings.get(q.id) ?? [];
    return { ndcg: ndcgAt(ranking, q.judged, 10), recall: recallAt(ranking, q.judged, 100), mrr: mrrAt(ranking, q.judged, 10) };
  });
  return { ndcgAt10: mean(per.map((p) => p.ndcg)), recallAt100: mean(per.map((p) => p.recall)), mrrAt10: mean(per.map((p) => p.mrr)) };
}
