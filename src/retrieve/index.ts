import type { Config } from '../config.js';
import type { Embedder } from '../embed/index.js';
import type { AllowedDocuments, ArchiveIndex } from '../index/index.js';
import { dateSpan } from '../ingest/index.js';
import type { Chunk, SearchFilters, SourceDocument } from '../types.js';
import { overlap, shingles } from './duplicates.js';
import { fuseScores, standardize } from './fuse.js';
import type { Reranker } from './rerank.js';
import { timeFit, timeSignal } from './time.js';

export { fuseScores, standardize } from './fuse.js';
export { loadReranker, readerReranker, type Reranker } from './rerank.js';

/** What retrieval reads: the index, the model that embeds the query, and the model that re-orders the top passages (loadReranker). */
export interface RetrievalModels {
  index: ArchiveIndex;
  embedder: Embedder;
  reranker: Reranker;
}

/** `config` with the top passages left in the fused order (no re-ranker reads them). */
export const fusedOrderOnly = (config: Config): Config => ({ ...config, retrieval: { ...config.retrieval, rerank: { ...config.retrieval.rerank, candidates: 0 } } });

/** A passage in fused order, before its best sentence is chosen. */
export interface RankedPassage {
  chunk: Chunk;
  document: SourceDocument;
  score: number;
  dense: number;
  bm25: number;
}

/** The documents the filters let through (null: no filter), so that either store can search among them. */
export function allowedDocuments(index: ArchiveIndex, filters: SearchFilters): AllowedDocuments {
  const { docIds, from, to } = filters;
  if (!docIds?.length && !from && !to) return null;
  const lower = from ? dateSpan(from)[0] : null;
  const upper = to ? dateSpan(to)[1] : null;
  const candidates = docIds?.length ? docIds.flatMap((id) => index.documents.get(id) ?? []) : index.documents.values();
  const allowed = new Set<string>();
  for (const doc of candidates) {
    if (lower || upper) {
      if (!doc.date) continue;
      const [first, last] = dateSpan(doc.date);
      if ((lower && last < lower) || (upper && first > upper)) continue;
    }
    allowed.add(doc.id);
  }
  return allowed;
}

/**
 * Hybrid ranking: dense (HNSW) and BM25 candidates; over their union, a weighted sum of standard
 * scores of dense similarity, passage BM25 and context BM25, plus a lift for a time the question
 * names; then the top re-ordered by the re-ranker (the answer reader for a question, or a
 * cross-encoder); then near-duplicates collapsed and at most maxPerDoc passages kept per document
 * (more when fewer documents than k / maxPerDoc are searched). Also the fused top
 * answer.passagesConsidered passages, before re-ordering, which the answer is chosen from.
 */
export async function rankPassages({ index, embedder, reranker }: RetrievalModels, config: Config, query: string, k: number, filters: SearchFilters = {}): Promise<{ passages: RankedPassage[]; answerPassages: RankedPassage[]; queryVector: Float32Array }> {
  const { candidates, weights, maxPerDoc, duplicateThreshold } = config.retrieval;
  const [queryVector] = await embedder.embed([query], 'query');
  const allowed = allowedDocuments(index, filters);
  const { store } = index;
  // BM25 of the passage with its neighbours counts too: a passage in an on-topic stretch of text is likelier to answer.
  const sides = { dense: weights.dense > 0, bm25: weights.passageBm25 > 0, context: weights.contextBm25 > 0 };
  const { chunks: labels, dense: denseScores, bm25: bm25Scores, context: contextScores } = await store.candidates({ text: query, vector: queryVector }, candidates, allowed, sides);
  const fused = fuseScores([denseScores, bm25Scores, contextScores], [weights.dense, weights.passageBm25, weights.contextBm25]);
  // A question naming a time lifts passages of that time, by up to timeWeight standard deviations; the rest stay.
  const time = timeSignal(query);
  if (time && config.retrieval.timeWeight > 0) {
    labels.forEach((label, i) => {
      const chunk = index.chunks[label];
      const neighbours = [index.chunks[label - 1], index.chunks[label + 1]].filter((c) => c?.docId === chunk.docId).map((c) => c.text).join(' ');
      fused[i] += config.retrieval.timeWeight * timeFit(time, chunk.text, index.documents.get(chunk.docId)!.date, neighbours);
    });
  }
  const fusedOrder = labels.map((_, i) => i).sort((a, b) => fused[b] - fused[a] || labels[a] - labels[b]);

  // The cap mixes documents; it never keeps k from being reached when few documents can answer
  // (a search filtered to one document returns up to k passages of it).
  const documents = allowed ? allowed.size : index.documents.size;
  // A candidate's word shingles, made once though both the answer's passages and those shown are selected.
  const shingled = new Map<number, Set<string>>();
  const shinglesOf = (i: number) => shingled.get(i) ?? shingled.set(i, shingles(index.chunks[labels[i]].text)).get(i)!;
  /** The first `count` passages of `order`, at most `cap` a document, near-duplicates of one kept left out. */
  const select = (order: number[], count: number, scores: number[]): RankedPassage[] => {
    const cap = Math.max(maxPerDoc, Math.ceil(count / Math.max(documents, 1)));
    const chosen: RankedPassage[] = [];
    const kept: Set<string>[] = [];
    const perDoc = new Map<string, number>();
    for (const i of order) {
      if (chosen.length >= count) break;
      const chunk = index.chunks[labels[i]];
      if ((perDoc.get(chunk.docId) ?? 0) >= cap) continue;
      const sh = shinglesOf(i);
      if (kept.some((other) => overlap(other, sh) >= duplicateThreshold)) continue;
      kept.push(sh);
      perDoc.set(chunk.docId, (perDoc.get(chunk.docId) ?? 0) + 1);
      chosen.push({ chunk, document: index.documents.get(chunk.docId)!, score: scores[i], dense: denseScores[i], bm25: bm25Scores[i] });
    }
    return chosen;
  };
  // The answer is chosen from the fused top passages, as the answer model was trained: measured,
  // choosing it from the re-ordered ones put the right sentence first less often (seeds 0.649 ->
  // 0.584, WikiQA 0.531 -> 0.515, cross-validated), the reader's view counted twice.
  const answerPassages = select(fusedOrder, config.answer.passagesConsidered, fused);
  if (config.retrieval.rerank.candidates > 0 && reranker.reads(query)) {
    const reordered = await rerankTop(reranker, config, query, fusedOrder, fused, (i) => index.chunks[labels[i]].text);
    return { passages: select(reordered.order, k, reordered.scores), answerPassages, queryVector };
  }
  return { passages: select(fusedOrder, k, fused), answerPassages, queryVector };
}

/**
 * The first rerank.candidates of the fused order, re-ordered by a blend of their standardised fused
 * and re-ranker scores (the re-ranker alone at weight 1), with the fused scores handed out again in
 * the new order so scores still fall with rank. The rest keep their places (and scores) below.
 */
async function rerankTop(reranker: Reranker, config: Config, query: string, order: number[], fused: number[], text: (i: number) => string): Promise<{ order: number[]; scores: number[] }> {
  const { candidates } = config.retrieval.rerank;
  const weight = config.retrieval.rerank.weight ?? reranker.weight;
  const top = order.slice(0, candidates);
  const read = standardize(await reranker.score(query, top.map(text)));
  const first = standardize(top.map((i) => fused[i]));
  const blended = top.map((_, n) => weight * read[n] + (1 - weight) * first[n]);
  const reordered = top.map((_, n) => n).sort((a, b) => blended[b] - blended[a] || a - b);
  const scores = [...fused];
  reordered.forEach((n, rank) => (scores[top[n]] = fused[top[rank]]));
  return { order: [...reordered.map((n) => top[n]), ...order.slice(candidates)], scores };
}
