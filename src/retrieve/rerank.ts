import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AutoModelForSequenceClassification, AutoTokenizer, type PreTrainedModel, type PreTrainedTokenizer } from '@xenova/transformers';
import { UserError, type Config } from '../config.js';
import { isQuestion } from '../answer/question.js';
import { candidatesOf, shippedAnswerReader, type AnswerReader } from '../answer/reader/model.js';
import { passageSentences } from '../answer/sentences.js';
import { loadFromModelsDir } from '../embed/index.js';

/** A model that reads the question and a passage together and scores how well the passage answers. */
export interface Reranker {
  readonly id: string;
  /** Its share in the new order when config.retrieval.rerank.weight is unset. */
  readonly weight: number;
  /** Whether it re-orders this query's passages at all. */
  reads(query: string): boolean;
  /** One relevance score per passage (higher is better), for this query. */
  score(query: string, passages: string[]): Promise<number[]>;
}

/**
 * The answer reader as the re-ranker: a passage scores as its best sentence, each sentence read
 * with its neighbours (one run of the reader for all the passages). Only for queries put as
 * questions, which it was trained on: on SciFact's claims its order cost nDCG@10 (0.699 fused;
 * 0.693 at a fifth of the order, 0.666 at half).
 */
export function readerReranker(reader: AnswerReader): Reranker {
  const sentencesOf = (text: string) => passageSentences(text).map((s) => text.slice(s.start, s.end));
  return {
    id: 'answer-reader',
    weight: 0.5,
    reads: isQuestion,
    async score(query, passages) {
      const sentences = passages.map(sentencesOf);
      const scores = await reader.score(query, sentences.flatMap(candidatesOf));
      let at = 0;
      const best = sentences.map((list) => (list.length ? Math.max(...scores.slice(at, (at += list.length))) : null));
      // A passage without a sentence (none in practice) ranks with the lowest.
      const lowest = Math.min(...best.filter((b): b is number => b !== null));
      return best.map((b) => b ?? (Number.isFinite(lowest) ? lowest : 0));
    },
  };
}

/**
 * The cross-encoder named by config.retrieval.rerank.model, loaded through transformers.js'
 * standard path (a sequence-classification model folder under rerank.modelsDir, or the hub when
 * allowed); without one, the answer reader shipped in the repository.
 */
export async function loadReranker(config: Config): Promise<Reranker> {
  const { model, modelsDir, allowRemoteModels, quantized, batchSize } = config.retrieval.rerank;
  if (!model) return readerReranker(shippedAnswerReader());
  const folder = resolve(modelsDir, model);
  if (!existsSync(join(folder, 'config.json')) && !allowRemoteModels) {
    throw new UserError(`Reranker "${model}" was not found at ${folder}, and remote models are off. Copy the model folder there, set retrieval.rerank.allowRemoteModels, or remove retrieval.rerank.model.`, 'model_missing');
  }
  let tokenizer: PreTrainedTokenizer;
  let classifier: PreTrainedModel;
  try {
    [tokenizer, classifier] = await loadFromModelsDir(modelsDir, allowRemoteModels, async () => [await AutoTokenizer.from_pretrained(model), await AutoModelForSequenceClassification.from_pretrained(model, { quantized })] as const);
  } catch (e) {
    throw new UserError(`Could not load reranker "${model}" from ${folder}: ${(e as Error).message}`, 'model_invalid');
  }
  return {
    id: model,
    weight: 1,
    reads: () => true,
    async score(query, passages) {
      const out: number[] = [];
      for (let i = 0; i < passages.length; i += batchSize) {
        const batch = passages.slice(i, i + batchSize);
        const inputs = tokenizer(new Array(batch.length).fill(query), { text_pair: batch, padding: true, truncation: true });
        const { logits } = await classifier(inputs);
        const [rows, labels] = logits.dims as number[];
        const data = logits.data as Float32Array;
        // One logit (MS MARCO style) is the relevance; with two labels, "relevant" is the last one, measured against the first.
        for (let r = 0; r < rows; r++) out.push(labels === 1 ? data[r] : data[r * labels + labels - 1] - data[r * labels]);
      }
      return out;
    },
  };
}
