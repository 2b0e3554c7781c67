import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AutoModelForSequenceClassification, AutoTokenizer, type PreTrainedModel, type PreTrainedTokenizer } from '@xenova/transformers';
import { UserError, type Config } from '../config.js';
import { loadFromModelsDir } from '../embed/index.js';

/** A cross-encoder: reads the question and a passage together and scores how well the passage answers. */
export interface Reranker {
  readonly id: string;
  /** One relevance score per passage (higher is better), for this query. */
  score(query: string, passages: string[]): Promise<number[]>;
}

/**
 * Loads the cross-encoder named by config.retrieval.rerank.model through transformers.js' standard
 * path (a sequence-classification model folder under rerank.modelsDir, or the hub when allowed),
 * or returns null when none is configured: the default archive works without one.
 */
export async function loadReranker(config: Config): Promise<Reranker | null> {
  const { model, modelsDir, allowRemoteModels, quantized, batchSize } = config.retrieval.rerank;
  if (!model) return null;
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
