/**
 * Retrieval and answer quality: prints tables (stderr) and writes a JSON report under reports/.
 * Usage: npm run --silent eval -- [--suite seeds|wikiqa|squad|scifact|council|all] [--split train|test]
 * Ranking suites report the full pipeline beside BM25 alone and dense alone, from the same index;
 * answer suites report the answer model beside each ablation model that train-answer wrote.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Command, Option } from 'commander';
import type { Archive } from '../src/archive.js';
import { loadConfig, type Config } from '../src/config.js';
import { calibration, mean, type Calibration } from '../src/eval/metrics.js';
import { evaluateSeedQuestions, readSeedQuestions, type SeedEvaluation } from '../src/eval/seedQuestions.js';
import { locateScifact, readScifactQueries, scifactSettings, scoreBatchOutput } from '../src/eval/scifact.js';
import { prepareWithProgress } from '../src/cli/progress.js';
import { loadAnswerModel } from '../src/answer/index.js';
import { answeringSentences, locateSquad, materializeSquadCorpus, readSquad, squadScores } from '../src/eval/squad.js';
import { readQuestion } from '../src/answer/question.js';
import { asksForFact } from '../src/answer/short.js';
import { isRightAnswer, locateWikiqa, materializeWikiqaCorpus, readWikiqa, sentenceSpans, triggerMetrics, type TriggerMetrics } from '../src/eval/wikiqa.js';
import { readCorpus } from '../src/ingest/index.js';
import { checkExtraction, locateCouncilDocs, pageEdgeLines, readCouncilSuite, scoreCouncilAnswer, summarizeCouncil, type BatchAnswer, type ExtractionCheck } from '../src/eval/council.js';
import { openIndex } from '../src/index/index.js';
import { fusedOrderOnly } from '../src/retrieve/index.js';
import { describeUrl } from '../src/index/postgres/index.js';
import { startPglite } from './pglite.js';

const ROOT = join(import.meta.dirname, '..');
const REPORTS = join(ROOT, 'reports');
const options = new Command()
  .addOption(new Option('--suite <suite>', 'which suite').choices(['seeds', 'wikiqa', 'squad', 'scifact', 'council', 'all']).default('all'))
  .addOption(new Option('--split <split>', 'SciFact split').choices(['train', 'test']).default('test'))
  .option('--database-url <url>', 'SciFact: the Postgres server to compare the embedded store with (default: PGlite in this process)')
  .parse()
  .opts<{ suite: 'seeds' | 'wikiqa' | 'squad' | 'scifact' | 'council' | 'all'; split: 'train' | 'test'; databaseUrl?: string }>();
const runs = (suite: string) => options.suite === suite || options.suite === 'all';

const log = (m: string) => process.stderr.write(`${m}\n`);
const fmt = (x: number | undefined) => (x === undefined ? '' : x.toFixed(3));
const report: Record<string, unknown> = { createdAt: new Date().toISOString(), suites: {} };

type Weights = Config['retrieval']['weights'];

/** Each part of the ranking alone, and all of them: the rows of every suite's table. */
function rankingRows(w: Weights): Array<[string, Weights]> {
  return [
    ['BM25 of passages alone', { dense: 0, passageBm25: 1, contextBm25: 0 }],
    ['BM25 of passages and context', { dense: 0, passageBm25: w.passageBm25, contextBm25: w.contextBm25 }],
    ['dense alone', { dense: 1, passageBm25: 0, contextBm25: 0 }],
    [`full pipeline (${w.dense}/${w.passageBm25}/${w.contextBm25})`, w],
  ];
}

/**
 * The same archive scored with each part alone and with all parts, without re-ordering, then as
 * configured (re-ordered by the cross-encoder or the answer reader), so each part's contribution shows.
 */
function variants(archive: Archive): Array<[string, Archive]> {
  const fusedOnly = (weights: Weights) => archive.withConfig(fusedOrderOnly({ ...archive.config, retrieval: { ...archive.config.retrieval, weights } }));
  const rows = rankingRows(archive.config.retrieval.weights).map(([name, weights]): [string, Archive] => [name, fusedOnly(weights)]);
  const { candidates } = archive.config.retrieval.rerank;
  return candidates > 0 ? [...rows, [`${rows.at(-1)![0]} + ${archive.reranker.id} (top ${candidates})`, archive]] : rows;
}

/** How often two `batch` outputs rank the same ten documents first (as sets), and their mean overlap. */
function storeAgreement(a: string[], b: string[]): { queries: number; sameTop10: number; share: number; meanOverlap: number } {
  const top = (lines: string[]) => new Map(lines.map((l) => JSON.parse(l) as { id: string; results: Array<{ source: string }> }).map((r) => [String(r.id), [...new Set(r.results.map((x) => x.source))].slice(0, 10)]));
  const [first, second] = [top(a), top(b)];
  let same = 0;
  let overlap = 0;
  for (const [id, docs] of first) {
    const other = new Set(second.get(id) ?? []);
    const shared = docs.filter((d) => other.has(d)).length;
    overlap += shared;
    if (shared === docs.length && other.size === docs.length) same++;
  }
  return { queries: first.size, sameTop10: same, share: same / Math.max(1, first.size), meanOverlap: overlap / Math.max(1, first.size) };
}

/** The answer model and every ablation model `npm run train-answer -- --ablations` wrote: the rows of the answer tables. */
function answerRows(): Array<[string, string | null]> {
  const dir = join(REPORTS, 'answer-ablation');
  const ablations = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
  if (!ablations.length) log('(no ablation models: npm run train-answer -- --ablations writes them)');
  return [['answer model', null], ...ablations.map((f): [string, string] => [`without ${f.replace(/\.json$/, '').replace(/-/g, ' ')}`, join(dir, f)])];
}
const thresholdOf = (file: string | null) => loadAnswerModel(loadConfig({ answer: { model: file } })).threshold;

if (runs('seeds')) {
  const archive = await prepareWithProgress(loadConfig({ indexDir: join(REPORTS, 'seeds', 'index') }));
  const questions = readSeedQuestions(join(ROOT, 'tests', 'fixtures', 'seed-questions.json'));
  const rows: Record<string, unknown> = {};
  const unanswerable = questions.filter((q) => q.gold.length === 0).length;
  log(`\nSeeds: ${questions.length - unanswerable} answerable and ${unanswerable} unanswerable questions (index ${archive.index.manifest.id})`);
  log(`${'ranking'.padEnd(40)} hit@1  hit@5  MRR@10 answer sentence null-when-unanswerable time-hit@1`);
  for (const [name, variant] of variants(archive)) {
    const result = await evaluateSeedQuestions(variant, questions);
    rows[name] = result;
    log(`${name.padEnd(40)} ${fmt(result.hitAt1)}  ${fmt(result.hitAt5)}  ${fmt(result.mrrAt10)} ${fmt(result.answerAccuracy)}  ${fmt(result.sentenceAccuracy)}    ${fmt(result.unanswerableNull).padEnd(21)} ${fmt(result.timeHitAt1)}`);
  }
  const answerTable: Record<string, unknown> = {};
  log(`\n${'answer scorer'.padEnd(40)} answer right  answerable withheld  unanswerable withheld`);
  for (const [name, file] of answerRows()) {
    const result = await evaluateSeedQuestions(archive.withConfig({ ...archive.config, answer: { ...archive.config.answer, model: file } }), questions);
    answerTable[name] = { answerAccuracy: result.answerAccuracy, answerableWithheld: result.answerableWithheld, unanswerableWithheld: result.unanswerableNull * result.unanswerable, answers: result.answers };
    log(`${name.padEnd(40)} ${fmt(result.answerAccuracy)}         ${String(result.answerableWithheld).padEnd(19)} ${Math.round(result.unanswerableNull * result.unanswerable)} of ${result.unanswerable}`);
  }
  // The last row is the archive as configured.
  const { shortAnswers, evidence } = Object.values(rows).at(-1) as SeedEvaluation;
  log(`\nShort answers (answer.short) right: ${shortAnswers.right} of the ${shortAnswers.questions} seed questions with short answers written (${fmt(shortAnswers.right / shortAnswers.questions)})`);
  log(`Evidence (answer.evidence): ${evidence.given} sentences beside the answers of why and how questions, ${evidence.right} of them holding gold text`);
  (report.suites as Record<string, unknown>).seeds = { index: archive.index.manifest.id, questions: questions.length, rows, answers: answerTable, shortAnswers, evidence };
}

/**
 * Runs the CLI as a user would, in this checkout; stderr (progress) shows through, stdout lines
 * are collected. ARCHIVE_CONFIG, when given, is the user's config file.
 */
async function cli(args: string[], configFile?: string): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, ...(configFile ? { ARCHIVE_CONFIG: configFile } : {}) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  for await (const line of createInterface({ input: child.stdout })) if (line.trim()) lines.push(line);
  const code: number = await new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', (c) => resolve(c ?? 1))));
  if (code !== 0) throw new Error(`npm run ${args[0]} exited with ${code}`);
  return lines;
}

if (runs('wikiqa')) {
  const file = locateWikiqa(ROOT);
  if (!file) {
    log('\nWikiQA: skipped, not found (set WIKIQA_FILE or place train.jsonl at ../shared/bench/wikiqa).');
  } else {
    // WikiQA's summaries as an archive, its held-out questions through the CLI as any user's batch.
    const wikiqa = readWikiqa(file);
    const corpusDir = join(REPORTS, 'wikiqa', 'corpus');
    materializeWikiqaCorpus(wikiqa, corpusDir);
    const paths = ['--corpus', corpusDir, '--index', join(REPORTS, 'wikiqa', 'index')];
    const [build] = await cli(['build-index', ...paths]);
    const heldOut = wikiqa.questions.filter((q) => q.heldOut);
    const input = join(REPORTS, 'wikiqa', 'held-out.jsonl');
    writeFileSync(input, heldOut.map((q) => JSON.stringify({ id: q.id, query: q.question })).join('\n') + '\n');
    const documents = new Map((await readCorpus(corpusDir)).documents.map((d) => [d.source, d]));
    const spans = new Map([...wikiqa.summaries].map(([source, sentences]) => [source, sentenceSpans(documents.get(source)!, sentences)]));
    const byId = new Map(heldOut.map((q) => [q.id, q]));
    log(`\nWikiQA held out: ${heldOut.length} questions (${heldOut.filter((q) => q.answers.length).length} with an answer) over ${wikiqa.summaries.size} summaries (index ${JSON.parse(build).index})`);
    const rows: Record<string, unknown> = {};
    for (const [name, model] of answerRows()) {
      // Every answer with its probability (minScore 0), so the curve can be drawn; the row itself is at the model's threshold.
      const configFile = join(REPORTS, 'wikiqa', 'eval.config.json');
      writeFileSync(configFile, JSON.stringify({ answer: { model, minScore: 0 } }));
      log(`${name}: npm run batch -- --k 3 --input ${input} (ARCHIVE_CONFIG=${configFile})`);
      const lines = (await cli(['batch', '--k', '3', '--input', input, ...paths], configFile)).map((l) => JSON.parse(l) as { id: string; answer: { score: number; citation: { source: string; start: number; end: number } } | null });
      const outcomes = lines.map((l) => {
        const q = byId.get(l.id)!;
        return { answerable: q.answers.length > 0, score: l.answer?.score ?? 0, right: l.answer !== null && isRightAnswer(q, spans.get(q.source)!, l.answer.citation) };
      });
      const threshold = thresholdOf(model);
      const at = (t: number) => triggerMetrics(outcomes.map((o) => ({ ...o, answered: o.score >= t })));
      const calibrated = calibration(lines.flatMap((l, i) => (l.answer ? [{ probability: l.answer.score, right: outcomes[i].right }] : [])));
      rows[name] = { threshold, ...at(threshold), calibration: calibrated, curve: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].map((t) => ({ threshold: t, ...at(t) })) };
    }
    log(`${'answer scorer'.padEnd(40)} threshold precision recall F1     answered right    calibration error (ECE) / Brier`);
    for (const [name, m] of Object.entries(rows) as Array<[string, TriggerMetrics & { threshold: number; calibration: Calibration }]>) log(`${name.padEnd(40)} ${m.threshold.toFixed(2)}      ${fmt(m.precision)}     ${fmt(m.recall)}  ${fmt(m.f1)}  ${String(m.answered).padEnd(8)} ${String(m.right).padEnd(8)} ${fmt(m.calibration.ece)} / ${fmt(m.calibration.brier)}`);
    log(`${'published (Yang et al. 2015, test, summary given)'.padEnd(40)}           0.28      0.36   0.32`);
    (report.suites as Record<string, unknown>).wikiqa = { questions: heldOut.length, rows };
  }
}

if (runs('squad')) {
  const file = locateSquad(ROOT);
  if (!file) {
    log('\nSQuAD: skipped, not found (set SQUAD_FILE or place dev-even-articles.json at ../shared/bench/squad).');
  } else {
    // SQuAD's held-out articles as an archive (one document per article, a paragraph each), its questions through `batch`.
    const paragraphs = readSquad(file).filter((p) => p.part === 'test');
    const corpusDir = join(REPORTS, 'squad', 'corpus');
    const articles = new Set(paragraphs.map((p) => p.article));
    materializeSquadCorpus(paragraphs, corpusDir);
    const paths = ['--corpus', corpusDir, '--index', join(REPORTS, 'squad', 'index')];
    const [build] = await cli(['build-index', ...paths]);
    const questions = paragraphs.flatMap((p) => p.questions.map((q) => ({ q, p })));
    const input = join(REPORTS, 'squad', 'held-out.jsonl');
    writeFileSync(input, questions.map(({ q }) => JSON.stringify({ id: q.id, query: q.question })).join('\n') + '\n');
    const byId = new Map(questions.map((x) => [x.q.id, x]));
    log(`\nSQuAD held out: ${questions.length} questions over ${articles.size} articles (${paragraphs.length} paragraphs; index ${JSON.parse(build).index})`);
    const squash = (t: string) => t.replace(/\s+/g, ' ').trim();
    const rows: Record<string, unknown> = {};
    for (const [name, model] of answerRows()) {
      const configFile = join(REPORTS, 'squad', 'eval.config.json');
      // Every answer with its probability (minScore 0): the first choice is scored whole, and the row at the model's threshold.
      writeFileSync(configFile, JSON.stringify({ answer: { model, minScore: 0 } }));
      log(`${name}: npm run batch -- --k 3 --input ${input} (ARCHIVE_CONFIG=${configFile})`);
      const lines = (await cli(['batch', '--k', '3', '--input', input, ...paths], configFile)).map((l) => JSON.parse(l) as { id: string; answer: { text: string; score: number; short: { text: string } | null; citation: { source: string } } | null });
      // Right: the answer is (or holds, or is held by) an answering sentence of the question's paragraph, and holds an answer span.
      const isRight = (l: (typeof lines)[number]) => {
        if (!l.answer) return false;
        const { q, p } = byId.get(l.id)!;
        const answer = squash(l.answer.text);
        const sentences = answeringSentences(p, q).map((i) => squash(p.context.slice(p.sentences[i].start, p.sentences[i].end)));
        return l.answer.citation.source === `${p.article}.txt` && sentences.some((s) => answer.includes(s) || s.includes(answer)) && q.answers.some((a) => answer.includes(squash(a.text)));
      };
      const threshold = thresholdOf(model);
      const firstChoice = lines.filter(isRight).length;
      const given = lines.filter((l) => l.answer && l.answer.score >= threshold);
      const right = given.filter(isRight).length;
      // Short answers by SQuAD's official F1 and exact match, of the first choice (as SQuAD scores a reader that always answers): over every question, and over those asking for a fact.
      const scored = lines.map((l) => ({ fact: asksForFact(readQuestion(byId.get(l.id)!.q.question)), ...squadScores(l.answer?.short?.text ?? null, byId.get(l.id)!.q.answers.map((a) => a.text)) }));
      const facts = scored.filter((x) => x.fact);
      const short = { f1: mean(scored.map((x) => x.f1)), exact: mean(scored.map((x) => x.exact)), factQuestions: facts.length, factF1: mean(facts.map((x) => x.f1)), factExact: mean(facts.map((x) => x.exact)) };
      const calibrated = calibration(lines.flatMap((l) => (l.answer ? [{ probability: l.answer.score, right: isRight(l) }] : [])));
      rows[name] = { questions: lines.length, threshold, answered: given.length, right, sentenceRight: right / lines.length, firstChoiceRight: firstChoice / lines.length, short, calibration: calibrated };
      log(`${name.padEnd(40)} answering sentence right ${fmt(right / lines.length)} (${right} of ${lines.length}; ${lines.length - given.length} withheld); first choice right ${fmt(firstChoice / lines.length)}; short answer F1 ${fmt(short.f1)} (exact ${fmt(short.exact)}), on the ${facts.length} asking for a fact ${fmt(short.factF1)} (exact ${fmt(short.factExact)}); calibration error (ECE) ${fmt(calibrated.ece)}, Brier ${fmt(calibrated.brier)}`);
    }
    (report.suites as Record<string, unknown>).squad = { questions: questions.length, articles: articles.size, rows };
  }
}

if (runs('scifact')) {
  const bench = locateScifact(ROOT);
  if (!bench) {
    log('\nSciFact: skipped, no benchmark found (set SCIFACT_DIR or place it at ../shared/bench/scifact).');
  } else {
    // SciFact as a user's own archive, after the seeds, in the same checkout: its abstracts as a
    // folder of files, `build-index` (a new archive: it trains its own model), then `batch`.
    const { settings, documents } = scifactSettings(ROOT, bench);
    const paths = ['--corpus', settings.corpusDir, '--index', settings.indexDir];
    const started = Date.now();
    log(`\nSciFact: npm run build-index -- ${paths.join(' ')}`);
    const [build] = await cli(['build-index', ...paths]);
    const built = JSON.parse(build) as { index: string; chunks: number; model: { trained: { ms: number } | null } };
    const queries = readScifactQueries(bench, options.split);
    const input = join(REPORTS, 'scifact', `queries-${options.split}.jsonl`);
    writeFileSync(input, queries.map((q) => JSON.stringify({ id: q.id, query: q.text })).join('\n') + '\n');
    log(`SciFact ${options.split}: ${queries.length} queries over ${documents} abstracts (${built.chunks} passages, index ${built.index}, ready in ${((Date.now() - started) / 1000).toFixed(0)} s${built.model.trained ? `, its model trained in ${(built.model.trained.ms / 1000).toFixed(0)} s` : ''})`);
    const rows: Record<string, unknown> = {};
    const defaults = loadConfig().retrieval.weights;
    // A document ranks by its best passage: one passage per document, 100 documents deep.
    const configFile = join(REPORTS, 'scifact', 'eval.config.json');
    const settingsFor = (weights: Weights) => ({ retrieval: { weights, maxPerDoc: 1, candidates: 300 } });
    let embedded: string[] = [];
    let embeddedSeconds = 0;
    for (const [name, weights] of rankingRows(defaults)) {
      writeFileSync(configFile, JSON.stringify(settingsFor(weights)));
      log(`${name}: npm run batch -- --k 100 --input ${input} (ARCHIVE_CONFIG=${configFile})`);
      const batchStarted = Date.now();
      embedded = await cli(['batch', '--k', '100', '--input', input, ...paths], configFile);
      embeddedSeconds = (Date.now() - batchStarted) / 1000;
      rows[name] = scoreBatchOutput(embedded, queries);
    }
    // The same archive kept in Postgres, through the same CLI at equal settings: the server at
    // --database-url, or PGlite (in this process, behind its socket).
    const postgres = options.databaseUrl ? { url: options.databaseUrl, stop: async () => {} } : await startPglite();
    const where = options.databaseUrl ? `the server at ${describeUrl(options.databaseUrl)}` : 'PGlite';
    try {
      writeFileSync(configFile, JSON.stringify({ ...settingsFor(defaults), store: { databaseUrl: postgres.url, connections: options.databaseUrl ? 4 : 1 } }));
      log(`Postgres store (${where}): npm run build-index -- ${paths.join(' ')}, then batch as above (ARCHIVE_CONFIG=${configFile})`);
      const pgStarted = Date.now();
      await cli(['build-index', ...paths], configFile);
      log(`Postgres store built in ${((Date.now() - pgStarted) / 1000).toFixed(0)} s`);
      const batchStarted = Date.now();
      const inPostgres = await cli(['batch', '--k', '100', '--input', input, ...paths], configFile);
      const postgresSeconds = (Date.now() - batchStarted) / 1000;
      rows[`full pipeline, Postgres store (${options.databaseUrl ? 'server' : 'PGlite'})`] = scoreBatchOutput(inPostgres, queries);
      const agreement = storeAgreement(embedded, inPostgres);
      log(`Stores agree on the top-10 documents of ${agreement.sameTop10} of ${agreement.queries} queries (${(100 * agreement.share).toFixed(1)}%); mean overlap ${agreement.meanOverlap.toFixed(2)} of 10`);
      log(`batch --k 100 of ${queries.length} queries: embedded store ${embeddedSeconds.toFixed(1)} s, Postgres store ${postgresSeconds.toFixed(1)} s (${(postgresSeconds / embeddedSeconds).toFixed(2)}x), whole commands with their start`);
      report.storeAgreement = { ...agreement, store: options.databaseUrl ? 'server' : 'pglite', batchSeconds: { embedded: embeddedSeconds, postgres: postgresSeconds } };
    } finally {
      await postgres.stop();
    }
    log(`${'ranking'.padEnd(40)} nDCG@10 R@100  MRR@10`);
    for (const [name, m] of Object.entries(rows) as Array<[string, { ndcgAt10: number; recallAt100: number; mrrAt10: number }]>) log(`${name.padEnd(40)} ${fmt(m.ndcgAt10)}   ${fmt(m.recallAt100)}  ${fmt(m.mrrAt10)}`);
    if (options.split === 'test') {
      for (const [name, ndcg] of [['published BM25 (BEIR)', 0.665], ['published BM25 (Anserini)', 0.679], ['published all-MiniLM-L6-v2', 0.645], ['published bge-small-en-v1.5', 0.713], ['published gte-small', 0.727]] as const) {
        log(`${name.padEnd(40)} ${fmt(ndcg)}`);
      }
    }
    (report.suites as Record<string, unknown>).scifact = { split: options.split, queries: queries.length, documents, index: built.index, rows };
  }
}

if (runs('council')) {
  const corpusDir = locateCouncilDocs(ROOT);
  if (!corpusDir) {
    log('\nCouncil documents: skipped, not found (set COUNCIL_DOCS or place them at ../shared/bench/council-docs).');
  } else {
    // Real council PDFs as a user's second archive: build-index, then batch, through the CLI.
    const suite = readCouncilSuite(join(ROOT, 'tests', 'fixtures', 'council-questions.json'));
    const indexDir = join(REPORTS, 'council', 'index');
    const paths = ['--corpus', corpusDir, '--index', indexDir];
    log(`\nCouncil documents: npm run build-index -- ${paths.join(' ')}`);
    const [build] = await cli(['build-index', ...paths]);
    const input = join(REPORTS, 'council', 'questions.jsonl');
    writeFileSync(input, suite.questions.map((q) => JSON.stringify({ id: q.id, query: q.question })).join('\n') + '\n');
    log(`npm run batch -- --k 5 --input ${input}`);
    const lines = new Map((await cli(['batch', '--k', '5', '--input', input, ...paths])).map((l) => JSON.parse(l) as BatchAnswer).map((l) => [l.id, l]));
    const outcomes = suite.questions.map((q) => scoreCouncilAnswer(q, lines.get(q.id)!));
    const summary = summarizeCouncil(outcomes);
    log(`Council questions (index ${JSON.parse(build).index}): ${summary.answerable} answerable, ${summary.unanswerable} unanswerable`);
    log(`top-1 ${fmt(summary.top1)}  top-5 ${fmt(summary.top5)}  answer right ${fmt(summary.answerRight)}  page right ${fmt(summary.pageRight)}  unanswerable withheld ${summary.unanswerableWithheld} of ${summary.unanswerable}`);
    for (const [kind, k] of Object.entries(summary.byKind)) log(`  ${kind.padEnd(10)} ${String(k.questions).padStart(2)} questions: top-1 ${fmt(k.top1)}  top-5 ${fmt(k.top5)}  answer right ${fmt(k.answerRight)}`);
    for (const o of outcomes) log(`  ${o.id} rank ${o.rank ?? '-'} ${o.answerRight ? 'right' : 'wrong'} page ${o.answerPage ?? '-'}${o.pageRight ? '' : ' (wrong page)'}: ${(o.answer ?? '(no answer)').slice(0, 150)}`);
    // How each document's text was read: from the index the build wrote, against each PDF's own page edges.
    const index = await openIndex(indexDir);
    const checks: ExtractionCheck[] = [];
    for (const expected of suite.documents) {
      const document = index.documentsBySource.get(expected.source);
      if (!document) {
        log(`  ${expected.source}: not in the index`);
        continue;
      }
      checks.push(checkExtraction(document, expected, await pageEdgeLines(readFileSync(join(corpusDir, expected.source)))));
    }
    log(`\n${'document'.padEnd(44)} pages furniture fused para/page words odd title date`);
    for (const c of checks) log(`${c.source.slice(0, 43).padEnd(44)} ${String(c.pages).padStart(5)} ${String(c.furnitureLeft).padStart(9)} ${String(c.fusedFootnoteNumbers).padStart(5)} ${c.paragraphsPerPage.toFixed(1).padStart(9)} ${String(c.medianParagraphWords).padStart(5)} ${String(c.oddCharacters).padStart(3)} ${c.titleRight ? 'ok' : 'no'}    ${c.dateRight ? 'ok' : 'no'}  ${c.date ?? '-'} | ${c.title.slice(0, 70)}`);
    const total = (f: (c: ExtractionCheck) => number) => checks.reduce((s, c) => s + f(c), 0);
    log(`${'all'.padEnd(44)} ${String(total((c) => c.pages)).padStart(5)} ${String(total((c) => c.furnitureLeft)).padStart(9)} ${String(total((c) => c.fusedFootnoteNumbers)).padStart(5)} ${(total((c) => c.paragraphsPerPage * c.pages) / total((c) => c.pages)).toFixed(1).padStart(9)}       ${String(total((c) => c.oddCharacters)).padStart(3)} ${total((c) => (c.titleRight ? 1 : 0))}/${checks.length} ${total((c) => (c.dateRight ? 1 : 0))}/${checks.length}`);
    (report.suites as Record<string, unknown>).council = { index: JSON.parse(build).index, summary, outcomes, extraction: checks };
  }
}

mkdirSync(REPORTS, { recursive: true });
const file = join(REPORTS, `eval-${options.suite}-${options.split}-${Date.now()}.json`);
writeFileSync(file, JSON.stringify(report, null, 2));
log(`\nReport written to ${file}`);
process.stdout.write(`${JSON.stringify(report)}\n`);
