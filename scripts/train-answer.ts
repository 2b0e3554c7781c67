/**
 * Trains the answer scorer (src/answer/answer-model.json) from labelled questions: WikiQA's
 * training split without its held-out quarter (its summaries indexed as an archive), and the seed
 * questions (tests/fixtures/seed-questions.json, over the seed archive). Every question is answered
 * through the same retrieval and reading code as any search, and two models are fitted: the ranker
 * (a softmax over each question's candidate sentences) and the trigger (a logistic regression over
 * each question's best candidate, on the ranker's cross-validated choices). The threshold maximises
 * answer-triggering F1 over the cross-validated probabilities of both sets.
 * Usage: npm run --silent train-answer -- [--out FILE] [--ablations] [--check]
 * (--ablations also writes one model without each feature group to reports/answer-ablation/, for eval's ablation rows;
 * --check trains as usual but compares the model with the one at --out instead of writing it, and fails unless they are
 * byte for byte the same: the shipped model is reproducible from its command and data).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Command } from 'commander';
import { decide, FEATURE_GROUPS, FEATURE_NAMES, fitConditionalLogit, fitLogistic, pickFeatures, probability, readPassages, SentenceCache, shippedAnswerReader, TRIGGER_FEATURES, UNANSWERABLE_CUES, WordVectors, type AnswerModel, type Reading } from '../src/answer/index.js';
import { prepareIndex, type LoadedIndex } from '../src/archive.js';
import { progressBar, progressHooks } from '../src/cli/progress.js';
import { writeOrCheck } from './shipped.js';
import { loadConfig, type Config } from '../src/config.js';
import { answers as seedAnswers, readSeedQuestions } from '../src/eval/seedQuestions.js';
import { isRightAnswer, locateWikiqa, materializeWikiqaCorpus, readWikiqa, sentenceSpans, triggerMetrics } from '../src/eval/wikiqa.js';
import { calibration, type Calibration } from '../src/eval/metrics.js';
import { fusedOrderOnly, loadReranker, rankPassages } from '../src/retrieve/index.js';

const ROOT = join(import.meta.dirname, '..');
/** Feature groups an ablation leaves out: the ranker's groups, and the trigger's cues of unanswerable questions. */
const OTHER_THAN_READER = 'features other than the reader';
const GROUPS = [...FEATURE_GROUPS.map((g) => g.name), 'unanswerable cues', OTHER_THAN_READER];
const options = new Command()
  .option('--out <file>', 'where to write the model', join(ROOT, 'src', 'answer', 'answer-model.json'))
  .option('--ablations', `also train one model without each feature group (${GROUPS.join(', ')}) into reports/answer-ablation/`)
  .option('--check', 'compare the trained model with the one at --out, byte for byte, instead of writing it')
  .parse()
  .opts<{ out: string; ablations?: boolean; check?: boolean }>();
const log = (m: string) => process.stderr.write(`${m}\n`);
const started = Date.now();
const FOLDS = 5;
/** A seed question counts as this many WikiQA questions: there are few of them, and they are the archive's own kind. */
const SEED_WEIGHT = 4;
/** L2 penalty of the trigger, which reads many correlated features of the best candidate. */
const TRIGGER_L2 = 10;

const file = locateWikiqa(ROOT);
if (!file) {
  log('WikiQA not found: set WIKIQA_FILE or place train.jsonl at ../shared/bench/wikiqa/.');
  process.exit(1);
}

interface Example {
  domain: 'wikiqa' | 'seeds';
  reading: Reading;
  /** Per passage, per sentence: 1 when the sentence answers. */
  labels: number[][];
  fold: number;
  answerable: boolean;
  weight: number;
}
const examples: Example[] = [];
const foldOf = (key: string) => parseInt(createHash('sha256').update(key).digest('hex').slice(0, 8), 16) % FOLDS;

/** Reads each question through an archive and labels every candidate sentence. */
async function read(domain: Example['domain'], config: Config, { index, embedder }: LoadedIndex, questions: Array<{ key: string; text: string; answerable: boolean; isAnswer: (source: string, start: number, end: number) => boolean }>): Promise<void> {
  const reader = { sentences: new SentenceCache(embedder, 50_000), words: new WordVectors(embedder), idf: (t: string) => index.store.idf(t), network: shippedAnswerReader() };
  // The passages the answer is chosen from, as a search chooses them: the fused top ones, which do
  // not depend on the order shown, so the shown passages are not re-ordered here (that would read 20 more).
  const reranker = await loadReranker(config);
  const bar = progressBar(`Reading ${domain} questions`);
  for (const [n, q] of questions.entries()) {
    const { answerPassages: passages, queryVector } = await rankPassages({ index, embedder, reranker }, fusedOrderOnly(config), q.text, config.answer.passagesConsidered);
    const reading = await readPassages(reader, config, q.text, queryVector, passages);
    const labels = reading.sentences.map((list) => list.map((s) => (q.isAnswer(passages[s.passage].document.source, s.start, s.end) ? 1 : 0)));
    examples.push({ domain, reading, labels, fold: foldOf(q.key), answerable: q.answerable, weight: domain === 'seeds' ? SEED_WEIGHT : 1 });
    bar.update(n + 1, questions.length);
  }
  bar.stop();
}

const prepare = async (config: Config) => {
  const hooks = progressHooks();
  return prepareIndex(config, hooks).finally(() => hooks.done());
};

// WikiQA: its summaries as an archive; a question is folded with its summary (questions of one summary stay together).
const wikiqa = readWikiqa(file);
const wikiqaConfig = loadConfig({ corpusDir: join(ROOT, 'reports', 'wikiqa', 'corpus'), indexDir: join(ROOT, 'reports', 'wikiqa', 'index') });
materializeWikiqaCorpus(wikiqa, wikiqaConfig.corpusDir);
const wikiqaIndex = await prepare(wikiqaConfig);
const bySource = new Map([...wikiqaIndex.index.documents.values()].map((d) => [d.source, d]));
const trainQuestions = wikiqa.questions.filter((q) => !q.heldOut);
await read(
  'wikiqa',
  wikiqaConfig,
  wikiqaIndex,
  trainQuestions.map((q) => {
    const spans = sentenceSpans(bySource.get(q.source)!, wikiqa.summaries.get(q.source)!);
    return { key: q.source, text: q.question, answerable: q.answers.length > 0, isAnswer: (source, start, end) => isRightAnswer(q, spans, { source, start, end }) };
  }),
);

// The seed questions over the seed archive (as the eval builds it).
const seedsConfig = loadConfig({ indexDir: join(ROOT, 'reports', 'seeds', 'index') });
const seedsIndex = await prepare(seedsConfig);
const seedText = new Map([...seedsIndex.index.documents.values()].map((d) => [d.source, d.text]));
const seedQuestions = readSeedQuestions(join(ROOT, 'tests', 'fixtures', 'seed-questions.json'));
await read(
  'seeds',
  seedsConfig,
  seedsIndex,
  seedQuestions.map((q) => ({ key: q.id, text: q.question, answerable: q.gold.length > 0, isAnswer: (source, start, end) => seedAnswers(seedText.get(source)!, q, { source, start, end }) })),
);
const count = (domain: Example['domain']) => examples.filter((e) => e.domain === domain);
log(`training on ${count('wikiqa').length} WikiQA questions (${count('wikiqa').filter((e) => e.answerable).length} with an answer; ${wikiqa.questions.length - trainQuestions.length} held out) and ${count('seeds').length} seed questions (${count('seeds').filter((e) => e.answerable).length} with an answer)`);

const noTrigger = { features: [], weights: [], bias: 0, mean: [], std: [] };
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The ranker features an ablation leaves out: a group's, or all but the reader's ('unanswerable cues' are the trigger's). */
function rankerFeaturesLeftOut(without: string | null): string[] {
  const group = (name: string | null) => FEATURE_GROUPS.find((g) => g.name === name)?.features ?? [];
  if (without === OTHER_THAN_READER) return FEATURE_NAMES.filter((f) => !group('reader').includes(f));
  return group(without);
}

/** Fits the ranker and the trigger (without one feature group for an ablation) and chooses the threshold. */
function train(without: string | null): AnswerModel {
  const dropped = new Set(rankerFeaturesLeftOut(without));
  const rankerFeatures = FEATURE_NAMES.filter((f) => !dropped.has(f));
  const dropTrigger = new Set([
    ...(without === 'unanswerable cues' ? UNANSWERABLE_CUES : without === 'answer type' ? TRIGGER_FEATURES.filter((f) => f.startsWith('question:') || f === 'best-has-type') : []),
    ...[...dropped].map((f) => `best:${f}`),
  ]);
  const triggerFeatures = TRIGGER_FEATURES.filter((f) => !dropTrigger.has(f));
  const rows = (e: Example) => e.reading.sentences.flat().map((s) => pickFeatures(FEATURE_NAMES, s.features, rankerFeatures));
  const rowLabels = (e: Example) => e.reading.sentences.flatMap((l, p) => l.map((s) => e.labels[p][s.index]));
  // The ranker is a softmax over each question's candidates: it learns which sentence answers, given that one does.
  const fitRanker = (list: Example[]) => fitConditionalLogit(rankerFeatures, list.map((e) => ({ rows: rows(e), labels: rowLabels(e), weight: e.weight })));

  // The trigger learns from the ranker's cross-validated choices, as it will meet them on unseen questions.
  const decisions = new Array<ReturnType<typeof decide>>(examples.length);
  for (let fold = 0; fold < FOLDS; fold++) {
    const ranker = fitRanker(examples.filter((e) => e.fold !== fold));
    examples.forEach((e, i) => {
      if (e.fold === fold) decisions[i] = decide(e.reading, ranker, noTrigger);
    });
  }
  const right = examples.map((e, i) => {
    const best = decisions[i].best;
    return best ? e.labels[best.passage][best.index] : 0;
  });
  const triggerRows = decisions.map((d) => pickFeatures(TRIGGER_FEATURES, d.trigger, triggerFeatures));
  const fitTrigger = (indexes: number[]) => fitLogistic(triggerFeatures, indexes.map((i) => triggerRows[i]), indexes.map((i) => right[i]), TRIGGER_L2, indexes.map((i) => examples[i].weight));
  const probabilities = new Array<number>(examples.length);
  for (let fold = 0; fold < FOLDS; fold++) {
    const trigger = fitTrigger(examples.flatMap((e, i) => (e.fold !== fold ? [i] : [])));
    examples.forEach((e, i) => {
      if (e.fold === fold) probabilities[i] = decisions[i].best ? probability(trigger, triggerRows[i]) : 0;
    });
  }

  // Answer-triggering figures at a threshold, per set and over both (a seed question weighing SEED_WEIGHT).
  const at = (threshold: number, domain?: Example['domain']) =>
    triggerMetrics(examples.flatMap((e, i) => (!domain || e.domain === domain ? new Array(domain ? 1 : e.weight).fill({ answerable: e.answerable, answered: probabilities[i] >= threshold, right: right[i] === 1 }) : [])));
  const thresholds = Array.from({ length: 99 }, (_, i) => (i + 1) / 100);
  const threshold = thresholds.reduce((best, t) => (at(t).f1 > at(best).f1 ? t : best), 0.5);

  const summary = (m: ReturnType<typeof triggerMetrics>) => ({ answered: m.answered, right: m.right, precision: round(m.precision), recall: round(m.recall), f1: round(m.f1) });
  const seeds = examples.flatMap((e, i) => (e.domain === 'seeds' ? [i] : []));
  return {
    version: 1,
    ranker: fitRanker(examples),
    trigger: fitTrigger(examples.map((_, i) => i)),
    threshold,
    training: {
      command: 'npm run train-answer',
      data: `WikiQA training split (Yang, Yih and Meek 2015, ${relative(ROOT, file!)}): ${trainQuestions.length} questions of its ${wikiqa.summaries.size} summaries, a quarter of the summaries held out, answered over all of them; and the ${seedQuestions.length} seed questions over the seed archive, each weighing ${SEED_WEIGHT}`,
      withoutGroup: without,
      candidates: examples.reduce((n, e) => n + rows(e).length, 0),
      positives: examples.reduce((n, e) => n + rowLabels(e).reduce((a, b) => a + b, 0), 0),
      crossValidated: {
        folds: FOLDS,
        threshold,
        wikiqa: summary(at(threshold, 'wikiqa')),
        seeds: {
          ...summary(at(threshold, 'seeds')),
          answerableRight: round(seeds.filter((i) => examples[i].answerable && right[i] && probabilities[i] >= threshold).length / seeds.filter((i) => examples[i].answerable).length),
          answerableWithheld: seeds.filter((i) => examples[i].answerable && probabilities[i] < threshold).length,
          unanswerableWithheld: seeds.filter((i) => !examples[i].answerable && probabilities[i] < threshold).length,
          unanswerable: seeds.filter((i) => !examples[i].answerable).length,
        },
        // answer.score against what happened, over the questions with a candidate (out of fold).
        calibration: Object.fromEntries((['wikiqa', 'seeds'] as const).map((domain) => [domain, calibration(examples.flatMap((e, i) => (e.domain === domain && decisions[i].best ? [{ probability: probabilities[i], right: right[i] === 1 }] : [])))])),
        bestCandidateRight: { wikiqa: round(count('wikiqa').length ? examples.filter((e, i) => e.domain === 'wikiqa' && right[i]).length / examples.filter((e) => e.domain === 'wikiqa' && e.answerable).length : 0), seeds: round(seeds.filter((i) => right[i]).length / seeds.filter((i) => examples[i].answerable).length) },
      },
      curve: thresholds.filter((t) => Math.round(t * 100) % 5 === 0).map((t) => ({ threshold: t, wikiqa: summary(at(t, 'wikiqa')), seeds: summary(at(t, 'seeds')) })),
    },
  };
}

const serialize = (model: AnswerModel) => `${JSON.stringify(model, (_key, value) => (typeof value === 'number' && !Number.isInteger(value) ? round(value, 6) : value), 2)}\n`;
const write = (out: string, model: AnswerModel) => writeFileSync(out, serialize(model));
const describe = (model: AnswerModel) => {
  const cv = model.training.crossValidated as { threshold: number; wikiqa: { precision: number; recall: number; f1: number }; seeds: { answerableRight: number; answerableWithheld: number; unanswerableWithheld: number; unanswerable: number }; calibration: Record<'wikiqa' | 'seeds', Calibration> };
  return `threshold ${cv.threshold}; WikiQA precision ${cv.wikiqa.precision}, recall ${cv.wikiqa.recall}, F1 ${cv.wikiqa.f1}; seeds answer right ${cv.seeds.answerableRight}, ${cv.seeds.answerableWithheld} answerable withheld, ${cv.seeds.unanswerableWithheld} of ${cv.seeds.unanswerable} unanswerable withheld; calibration error (ECE) WikiQA ${cv.calibration.wikiqa.ece.toFixed(3)}, seeds ${cv.calibration.seeds.ece.toFixed(3)}`;
};
const model = train(null);
log(`cross-validated: ${describe(model)}`);
writeOrCheck(options.out, serialize(model), { check: options.check, root: ROOT, started, log });
if (options.ablations) {
  const dir = join(ROOT, 'reports', 'answer-ablation');
  mkdirSync(dir, { recursive: true });
  for (const group of GROUPS) {
    const ablation = train(group);
    write(join(dir, `${group.replace(/\s+/g, '-')}.json`), ablation);
    log(`without ${group}: ${describe(ablation)}`);
  }
}
process.stdout.write(`${JSON.stringify(model.training)}\n`);
