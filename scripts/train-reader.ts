/**
 * Trains the answer reader (src/answer/reader/): its fixed word vectors (word-vectors.bin: PPMI
 * over WordNet and the training text, factorised, as each archive's model is made) and its network
 * (reader-model.json), from SQuAD's training articles and WikiQA's training summaries (their
 * answering sentences against the other sentences of their paragraph). Settings are chosen on
 * SQuAD's dev articles (the epoch kept is the best there); SQuAD's test articles and WikiQA's
 * held-out summaries are only reported. Deterministic: the same data gives the same files.
 * Usage: npm run --silent train-reader -- [--squad-share 1|0.5|0.25] [--without-match] [--out-dir DIR]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { AnswerReader, candidatesOf, type ReaderModel } from '../src/answer/reader/model.js';
import { ReaderNetwork, useWasmBackend, type NetworkOptions, type TrainingQuestion } from '../src/answer/reader/train/network.js';
import { decodeWordVectors, encodeWordVectors } from '../src/answer/reader/vectors.js';
import { progressBar } from '../src/cli/progress.js';
import { factorizeWordVectors } from '../src/embed/builtinModel.js';
import { bertWords, STOP, trainable } from '../src/embed/vocabulary.js';
import { answeringSentences, locateSquad, readSquad, type SquadPart } from '../src/eval/squad.js';
import { locateWikiqa, readWikiqa } from '../src/eval/wikiqa.js';

const ROOT = join(import.meta.dirname, '..');
const options = new Command()
  .option('--squad-share <share>', 'share of the SQuAD training questions to train on (an ablation)', '1')
  .option('--out-dir <dir>', 'where to write reader-model.json and word-vectors.bin', join(ROOT, 'src', 'answer', 'reader'))
  .option('--epochs <n>', 'epochs (the one best on SQuAD dev is kept)', '3')
  .option('--learning-rate <rate>', 'Adam learning rate', '0.0005')
  .option('--dropout <share>', 'dropout while training', '0.2')
  .option('--without-match', 'hold the exact, stem and prefix match weights at 0 (an ablation: words align by their vectors alone)')
  .option('--wikiqa-repeat <n>', 'times each WikiQA question is trained on per epoch (SQuAD has five times as many)', '1')
  .parse()
  .opts<{ squadShare: string; outDir: string; epochs: string; learningRate: string; dropout: string; wikiqaRepeat: string; withoutMatch?: boolean }>();
const log = (m: string) => process.stderr.write(`${m}\n`);
const started = Date.now();
const squadFile = locateSquad(ROOT);
const wikiqaFile = locateWikiqa(ROOT);
if (!squadFile || !wikiqaFile) {
  log('SQuAD or WikiQA not found: set SQUAD_FILE and WIKIQA_FILE, or place them at ../shared/bench/squad/dev-even-articles.json and ../shared/bench/wikiqa/train.jsonl.');
  process.exit(1);
}
const share = Number(options.squadShare);
if (!(share > 0 && share <= 1)) {
  log('--squad-share must be a number in (0, 1].');
  process.exit(2);
}

// SQuAD: each question against the sentences of its paragraph.
const paragraphs = readSquad(squadFile);
const squadQuestions = (part: SquadPart) =>
  paragraphs
    .filter((p) => p.part === part)
    .flatMap((p) => {
      const sentences = p.sentences.map((s) => p.context.slice(s.start, s.end));
      return p.questions.map((q): TrainingQuestion => {
        const right = new Set(answeringSentences(p, q));
        return { question: q.question, candidates: candidatesOf(sentences), labels: sentences.map((_, i) => (right.has(i) ? 1 : 0)) };
      });
    })
    .filter((q) => q.labels.some((l) => l) && q.candidates.length > 1);
// WikiQA: answerable questions against the sentences of their summary.
const wikiqa = readWikiqa(wikiqaFile);
const wikiqaQuestions = (heldOut: boolean) =>
  wikiqa.questions
    .filter((q) => q.heldOut === heldOut && q.answers.length > 0)
    .map((q): TrainingQuestion => {
      const sentences = wikiqa.summaries.get(q.source)!;
      return { question: q.question, candidates: candidatesOf(sentences), labels: sentences.map((_, i) => (q.answers.includes(i) ? 1 : 0)) };
    })
    .filter((q) => q.candidates.length > 1);
const allSquadTrain = squadQuestions('train');
const squadTrain = allSquadTrain.filter((_, i) => Math.floor((i + 1) * share) > Math.floor(i * share));
const wikiqaTrain = wikiqaQuestions(false);
const training = [...squadTrain, ...Array.from({ length: Number(options.wikiqaRepeat) }, () => wikiqaTrain).flat()];
const dev = squadQuestions('dev');
const tests = { squad: squadQuestions('test'), wikiqa: wikiqaQuestions(true) };
log(`training on ${squadTrain.length} SQuAD questions (of ${allSquadTrain.length}) and ${wikiqaTrain.length} WikiQA questions (each ${options.wikiqaRepeat} times an epoch); choosing on ${dev.length} SQuAD dev questions`);

// Fixed word vectors from WordNet and the training text only (never the dev or test parts).
const trainingText = [
  ...paragraphs.filter((p) => p.part === 'train').flatMap((p) => [...p.sentences.map((s) => p.context.slice(s.start, s.end)), ...p.questions.map((q) => q.question)]),
  ...wikiqa.questions.filter((q) => !q.heldOut).flatMap((q) => [q.question, ...wikiqa.summaries.get(q.source)!]),
];
const factorized = await factorizeWordVectors([...new Set(trainingText)].map((t) => bertWords(t).filter(trainable)), { dim: 64, maxVocabulary: 60_000, window: 5, eigenPower: 0.5, corpusWeight: 1 }, log);
const { vocabulary, dim } = factorized;
let totalFrequency = 0;
for (const w of vocabulary) totalFrequency += factorized.frequency.get(w)!;
const rarity = Float32Array.from(vocabulary, (w) => -Math.log(factorized.frequency.get(w)! / totalFrequency));
for (let i = 0; i < vocabulary.length; i++) {
  const row = factorized.vectors.subarray(i * dim, (i + 1) * dim);
  const norm = Math.hypot(...row) || 1;
  for (let c = 0; c < dim; c++) row[c] /= norm;
}
const vectorBytes = encodeWordVectors(vocabulary, factorized.vectors, dim, rarity);
// Trained on the vectors as stored (int8), so training and query time read the same numbers.
const vectors = decodeWordVectors(vectorBytes);

await useWasmBackend();
// Recorded only when asked for, so the shipped reader's record stays as it was.
const ablation = options.withoutMatch ? { withoutMatch: true } : {};
const networkOptions: NetworkOptions = { d: 64, h: 64, g: 64, candidates: 8, questionsPerBatch: 16, epochs: Number(options.epochs), learningRate: Number(options.learningRate), dropout: Number(options.dropout), seed: 11, ...ablation };
const functionWords = [...new Set([...STOP, 'who', 'whom', 'whose', 'what', 'which', 'when', 'where', 'why', 'how'])].filter((w) => !vectors.index.has(w)).sort();
const network = new ReaderNetwork(networkOptions, vectors, functionWords);

/** The network's weights now, as the query-time reader takes them. */
const currentModel = async (): Promise<ReaderModel> => ({ version: 1, dims: { d: networkOptions.d, h: networkOptions.h, g: networkOptions.g }, functionWords, tensors: await network.weights(), checks: [], training: {} });

/** Share of questions whose best-scored candidate answers, and mean reciprocal rank of the first answer. */
async function accuracy(reader: AnswerReader, questions: TrainingQuestion[]): Promise<{ top1: number; mrr: number }> {
  let top1 = 0;
  let mrr = 0;
  for (const q of questions) {
    const scores = await reader.score(q.question, q.candidates);
    const order = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const rank = order.findIndex(([, i]) => q.labels[i]) + 1;
    if (rank === 1) top1++;
    mrr += 1 / rank;
  }
  return { top1: round(top1 / questions.length), mrr: round(mrr / questions.length) };
}
/** The same choice by the share of the question's content words a sentence holds: what any reader should beat. */
function overlapAccuracy(questions: TrainingQuestion[]): number {
  let right = 0;
  for (const q of questions) {
    const words = new Set(bertWords(q.question).filter(trainable));
    const scores = q.candidates.map((c) => new Set(bertWords(c.sentence).filter((w) => words.has(w))).size);
    const best = scores.indexOf(Math.max(...scores));
    if (q.labels[best]) right++;
  }
  return round(right / questions.length);
}
const round = (x: number) => Math.round(x * 1000) / 1000;

const bar = progressBar('Training the reader (steps)');
let best: { epoch: number; top1: number; model: ReaderModel } | null = null;
const epochs: Array<{ epoch: number; loss: number; devTop1: number; devMrr: number }> = [];
await network.train(
  training,
  (done, total) => bar.update(done, total),
  async (epoch, loss) => {
    const model = await currentModel();
    const { top1, mrr } = await accuracy(new AnswerReader(model, vectors), dev);
    epochs.push({ epoch: epoch + 1, loss: round(loss), devTop1: top1, devMrr: mrr });
    log(`\nepoch ${epoch + 1}: loss ${loss.toFixed(4)}, SQuAD dev top-1 ${top1}, MRR ${mrr}`);
    if (!best || top1 > best.top1) best = { epoch: epoch + 1, top1, model };
  },
);
bar.stop();
const chosen = best!.model;
const reader = new AnswerReader(chosen, vectors);

// The runtime must compute what the network computed: a few dev pairs scored both ways, kept as checks.
for (const [name, tensor] of Object.entries(chosen.tensors)) network.variables[name].assign(tf.tensor(tensor, network.variables[name].shape));
const checkPairs = dev.slice(0, 4).flatMap((q) => q.candidates.slice(0, 2).map((c) => ({ question: q.question, ...c })));
const networkScores = Array.from(await network.scorePairs(checkPairs).data());
const runtimeScores = await Promise.all(checkPairs.map(async (p) => (await reader.score(p.question, [p]))[0]));
const disagreement = Math.max(...networkScores.map((s, i) => Math.abs(s - runtimeScores[i])));
if (disagreement > 1e-3) throw new Error(`the runtime reader disagrees with the trained network by ${disagreement}`);

const results = {
  squadDev: await accuracy(reader, dev),
  squadTest: await accuracy(reader, tests.squad),
  wikiqaHeldOut: await accuracy(reader, tests.wikiqa),
  wordOverlap: { squadDev: overlapAccuracy(dev), squadTest: overlapAccuracy(tests.squad), wikiqaHeldOut: overlapAccuracy(tests.wikiqa) },
};
const model: ReaderModel = {
  ...chosen,
  checks: checkPairs.map((p, i) => ({ ...p, score: networkScores[i] })),
  training: {
    command: 'npm run train-reader',
    options: { squadShare: share, epochs: Number(options.epochs), learningRate: Number(options.learningRate), dropout: Number(options.dropout), wikiqaRepeat: Number(options.wikiqaRepeat), ...ablation },
    data: `SQuAD v1.1 (${relative(ROOT, squadFile)}): ${squadTrain.length} questions of its training articles (${[...new Set(paragraphs.filter((p) => p.part === 'train').map((p) => p.article))].length}); WikiQA (${relative(ROOT, wikiqaFile)}): ${wikiqaTrain.length} answerable questions of its training summaries, each ${options.wikiqaRepeat} times an epoch. Word vectors: WordNet 3.1 and that training text.`,
    network: networkOptions,
    vocabulary: vocabulary.length,
    epochs,
    chosenEpoch: best!.epoch,
    measured: { ...results, note: 'top-1: the answering sentence is the best-scored of its paragraph (SQuAD) or summary (WikiQA, answerable questions)' },
    runtimeAgreement: Number(disagreement.toPrecision(2)),
  },
};
mkdirSync(options.outDir, { recursive: true });
// Tensors as base64 of their little-endian float32 bytes (what ReaderModelSchema reads back).
const encode = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
const json = (value: unknown) => `${JSON.stringify(value, (_k, v) => (v instanceof Float32Array ? encode(v) : typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(7)) : v), 2)}\n`;
writeFileSync(join(options.outDir, 'word-vectors.bin'), vectorBytes);
writeFileSync(join(options.outDir, 'reader-model.json'), json(model));
log(`SQuAD dev top-1 ${results.squadDev.top1}, test ${results.squadTest.top1}; WikiQA held out ${results.wikiqaHeldOut.top1} (word overlap: ${JSON.stringify(results.wordOverlap)}); written to ${options.outDir} in ${Math.round((Date.now() - started) / 1000)} s`);
process.stdout.write(`${JSON.stringify(model.training)}\n`);
