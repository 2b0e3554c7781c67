/**
 * Trains the short-answer scorer (src/answer/short-model.json) on SQuAD's answer spans: for each
 * question of the training articles that asks for a fact, the candidate spans of its answering
 * sentence (src/answer/short.ts), the ones equal to an annotator's answer (after SQuAD's
 * normalisation) positive. A conditional logit over each question's candidates; its L2 penalty is
 * chosen on the dev articles, and the test articles are scored once, with SQuAD's official exact
 * match and F1, given the answering sentence.
 * Usage: npm run --silent train-short -- [--out FILE] [--check]
 * (--check compares the model with the one at --out instead of writing it, and fails unless they are byte for byte the same).
 */
import { join, relative } from 'node:path';
import { Command } from 'commander';
import { fitConditionalLogit } from '../src/answer/logistic.js';
import { readQuestion } from '../src/answer/question.js';
import { shippedAnswerReader } from '../src/answer/reader/model.js';
import { asksForFact, bestSpan, SHORT_FEATURES, spanCandidates, type ShortModel } from '../src/answer/short.js';
import { seededRandom, shuffleInPlace } from '../src/embed/train/random.js';
import { answeringSentences, locateSquad, normalizeAnswer, readSquad, squadScores, type SquadPart } from '../src/eval/squad.js';
import { writeOrCheck } from './shipped.js';

const ROOT = join(import.meta.dirname, '..');
const options = new Command()
  .option('--out <file>', 'where to write the model', join(ROOT, 'src', 'answer', 'short-model.json'))
  .option('--check', 'compare the trained model with the one at --out, byte for byte, instead of writing it')
  .parse()
  .opts<{ out: string; check?: boolean }>();
const log = (m: string) => process.stderr.write(`${m}\n`);
const started = Date.now();
/** Negative candidates kept per training question (all positives are kept): the fit's time grows with the rows. */
const NEGATIVES = 60;

const file = locateSquad(ROOT);
if (!file) {
  log('SQuAD not found: set SQUAD_FILE or place dev-even-articles.json at ../shared/bench/squad/.');
  process.exit(1);
}
const paragraphs = readSquad(file);
const vectors = shippedAnswerReader().vectors;

interface Example {
  question: string;
  golds: string[];
  sentence: string;
  candidates: ReturnType<typeof spanCandidates>;
  labels: number[];
}

/** The fact-asking questions of one part, each with its answering sentence and labelled candidates. */
function examples(part: SquadPart): { examples: Example[]; asked: number } {
  const out: Example[] = [];
  let asked = 0;
  for (const p of paragraphs.filter((x) => x.part === part)) {
    for (const q of p.questions) {
      const question = readQuestion(q.question);
      if (!asksForFact(question)) continue;
      asked++;
      const [index] = answeringSentences(p, q);
      if (index === undefined) continue;
      const s = p.sentences[index];
      const sentence = p.context.slice(s.start, s.end);
      const golds = q.answers.map((a) => a.text);
      const wanted = new Set(golds.map(normalizeAnswer));
      const candidates = spanCandidates(question, sentence, vectors);
      const labels = candidates.candidates.map((c) => (wanted.has(normalizeAnswer(sentence.slice(candidates.tokens[c.first].start, candidates.tokens[c.end - 1].end))) ? 1 : 0));
      out.push({ question: q.question, golds, sentence, candidates, labels });
    }
  }
  return { examples: out, asked };
}

/** Exact match and F1 of the model's best span over a part's questions (given the answering sentence). */
function score(model: Pick<ShortModel, 'weights' | 'mean' | 'std'>, set: Example[]): { exact: number; f1: number } {
  let exact = 0;
  let f1 = 0;
  for (const e of set) {
    const { tokens, candidates } = e.candidates;
    const c = bestSpan(model, candidates);
    const got = squadScores(c ? e.sentence.slice(tokens[c.first].start, tokens[c.end - 1].end) : null, e.golds);
    exact += got.exact;
    f1 += got.f1;
  }
  return { exact: round(exact / set.length), f1: round(f1 / set.length) };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
const [train, dev, test] = (['train', 'dev', 'test'] as const).map(examples);
const reachable = train.examples.filter((e) => e.labels.some((l) => l > 0));
log(`${train.asked} training questions ask for a fact; ${train.examples.length} have an answering sentence, ${reachable.length} an answer among the candidates`);

const random = seededRandom(20261202);
const groups = reachable.map((e) => {
  const negatives = shuffleInPlace(e.labels.flatMap((l, i) => (l > 0 ? [] : [i])), random).slice(0, NEGATIVES);
  const kept = [...e.labels.flatMap((l, i) => (l > 0 ? [i] : [])), ...negatives].sort((a, b) => a - b);
  return { rows: kept.map((i) => e.candidates.candidates[i].features), labels: kept.map((i) => e.labels[i]) };
});

let chosen: { l2: number; model: Pick<ShortModel, 'weights' | 'mean' | 'std'>; dev: { exact: number; f1: number } } | null = null;
for (const l2 of [1, 3, 10]) {
  const fit = fitConditionalLogit(SHORT_FEATURES, groups, l2);
  const model = { weights: fit.weights, mean: fit.mean, std: fit.std };
  const onDev = score(model, dev.examples);
  log(`L2 ${l2}: dev exact ${onDev.exact}, F1 ${onDev.f1}`);
  if (!chosen || onDev.f1 > chosen.dev.f1) chosen = { l2, model, dev: onDev };
}
const onTest = score(chosen!.model, test.examples);
log(`chose L2 ${chosen!.l2}; test (held-out articles, given the answering sentence): exact ${onTest.exact}, F1 ${onTest.f1} over ${test.examples.length} questions`);

const model: ShortModel = {
  version: 1,
  features: SHORT_FEATURES,
  weights: chosen!.model.weights.map((w) => round6(w)),
  mean: chosen!.model.mean.map((w) => round6(w)),
  std: chosen!.model.std.map((w) => round6(w)),
  training: {
    command: 'npm run train-short',
    data: `SQuAD v1.1 (${relative(ROOT, file)}): the fact-asking questions of its ${new Set(paragraphs.filter((p) => p.part === 'train').map((p) => p.article)).size} training articles (${reachable.length} with their answer among the candidates), up to ${NEGATIVES} wrong spans each`,
    l2: chosen!.l2,
    dev: { questions: dev.examples.length, ...chosen!.dev },
    test: { questions: test.examples.length, ...onTest, note: 'given the answering sentence; SQuAD official exact match and F1' },
  },
};
function round6(x: number) {
  return Math.round(x * 1e6) / 1e6;
}
writeOrCheck(options.out, `${JSON.stringify(model, null, 2)}\n`, { check: options.check, root: ROOT, started, log });
process.stdout.write(`${JSON.stringify(model.training)}\n`);
