import { Command, InvalidArgumentError, Option } from 'commander';
import { buildSummary, openArchive, prepareIndexFiles, rebuild } from '../archive.js';
import { setInferenceThreads } from '../embed/index.js';
import { checkIndex, type Manifest } from '../index/index.js';
import { describeUrl } from '../index/postgres/index.js';
import { loadConfig, UserError, type ConfigInput } from '../config.js';
import cluster from 'node:cluster';
import { runWorker, startCluster } from '../serve/cluster.js';
import { startServer } from '../serve/server.js';
import { BATCH_FORMATS, runBatch, type BatchFormat } from './batch.js';
import { prepareWithProgress, progressBar, progressHooks } from './progress.js';

const log = (message: string) => process.stderr.write(`${message}\n`);

function integer(min: number, max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}.`);
    return n;
  };
}

interface PathOptions {
  corpus?: string;
  index?: string;
  verify?: boolean;
}

function configFrom(options: PathOptions, extra: ConfigInput = {}) {
  return loadConfig({ corpusDir: options.corpus, indexDir: options.index, ...extra });
}

const prepare = (options: PathOptions) => prepareWithProgress(configFrom(options), { verify: options.verify });

const program = new Command('archive').description('A searchable semantic archive with question answering.').showHelpAfterError();
// The commands that answer questions run each inference on one thread (src/embed/threads.ts):
// a question's inferences are small. build-index keeps onnxruntime's pool of one per core.
program.hook('preAction', (_program, command) => {
  if (['start', 'search', 'batch'].includes(command.name())) setInferenceThreads(1);
});
const withPaths = (cmd: Command) =>
  cmd
    .option('--corpus <dir>', 'folder of documents (default: seeds)')
    .option('--index <dir>', 'folder of the built index (default: index)')
    .option('--verify', 'read and hash every corpus file to check the index, not only those whose size or modification time changed');

withPaths(program.command('start'))
  .description('build what is missing or stale, then serve the search page and API')
  .option('--port <n>', 'port to listen on (default: PORT or 8080)', integer(0, 65535))
  .option('--host <host>', 'address to listen on (default: HOST or 127.0.0.1)')
  .option('--no-build', 'serve the live index as it is, without checking it against the corpus or building')
  .option('--watch', 'keep the index in step with the corpus folder while serving (added, changed and removed files)')
  .option('--workers <n>', 'processes serving requests (default: server.workers, the number of cores)', integer(1, 64))
  .action(async (options: PathOptions & { port?: number; host?: string; build: boolean; watch?: boolean; workers?: number }) => {
    const config = configFrom(options, { server: { port: options.port, host: options.host, workers: options.workers } });
    // A worker forked by the cluster below runs this same command: it serves what its primary prepared.
    if (cluster.isWorker) return runWorker(config, log);
    const { workers, host } = config.server;
    let manifest: Manifest;
    let running: { port: number; close(): Promise<void> };
    if (workers === 1) {
      const archive = options.build ? await prepareWithProgress(config, { verify: options.verify }) : await openArchive(config);
      manifest = archive.index.manifest;
      running = await startServer(archive, log, { watch: options.watch });
    } else {
      // The workers open the index; this process only makes sure it is built, up to date and whole.
      manifest = options.build ? await prepareWithProgress(config, { verify: options.verify }, prepareIndexFiles) : await checkIndex(config);
      running = await startCluster(config, log, { watch: options.watch, workers });
    }
    const processes = workers === 1 ? 'this process' : `${workers} worker processes`;
    const kept = config.store.databaseUrl ? `, passages in ${describeUrl(config.store.databaseUrl)}` : '';
    log(`Serving the archive (${manifest.counts.documents} documents, index ${manifest.id}${kept}) from ${processes} on http://${host === '0.0.0.0' ? 'localhost' : host}:${running.port}`);
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: finishing requests in flight, then stopping.`);
      void running.close().then(() => process.exit(0));
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });

withPaths(program.command('build-index'))
  .description("update the index from the corpus (only added and changed files are embedded; a new archive first trains its model), or rebuild it")
  .option('--full', 'embed every passage again instead of updating the live index')
  .option('--retrain', "train the archive's built-in model again, then embed every passage with it")
  .action(async (options: PathOptions & { full?: boolean; retrain?: boolean }) => {
    const config = configFrom(options);
    const hooks = { ...progressHooks(), full: options.full, retrain: options.retrain, verify: options.verify };
    const where = config.store.databaseUrl ? `in the database at ${describeUrl(config.store.databaseUrl)} (the model in ${config.indexDir})` : `at ${config.indexDir}`;
    log(`Building the index ${where} from ${config.corpusDir}...`);
    const report = await rebuild(config, hooks).finally(() => hooks.done());
    process.stdout.write(`${JSON.stringify(buildSummary(report))}\n`);
  });

withPaths(program.command('search'))
  .description('answer one question')
  .argument('<question>', 'the question, in plain language')
  .option('--k <n>', 'passages to return (1-100)', integer(1, 100), 10)
  .option('--json', 'print the full response as JSON')
  .action(async (question: string, options: PathOptions & { k: number; json?: boolean }) => {
    if (!question.trim()) throw new UserError('The question is empty.');
    const archive = await prepare(options);
    const response = await archive.search(question.trim(), { k: options.k });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(response)}\n`);
      return;
    }
    const out: string[] = [];
    const { answer } = response;
    if (answer) out.push(`${answer.score >= 0.5 ? 'Likely' : 'Uncertain'} answer (probability ${answer.score}): ${answer.text}`, `  — ${answer.citation.title}, ${answer.citation.source} [${answer.citation.start}-${answer.citation.end}]`, '');
    else out.push('The archive does not seem to hold an answer to this question; the closest passages:', '');
    for (const r of response.results) out.push(`${r.rank}. ${r.title} (${r.date ?? 'undated'}, ${r.source} [${r.start}-${r.end}], score ${r.score.toFixed(2)})`, `   ${r.text.replace(/\s+/g, ' ')}`, '');
    process.stdout.write(out.join('\n'));
  });

withPaths(program.command('batch'))
  .description('answer JSONL queries ({"id","query"} or plain lines) from --input or stdin; one JSON line (or CSV rows) out per query')
  .option('--k <n>', 'passages per query (1-100)', integer(1, 100), 10)
  .option('--input <file>', 'JSONL file of queries (default: stdin)')
  .addOption(new Option('--format <format>', 'output: one JSON line per query, or CSV rows (one per passage) after a header').choices(BATCH_FORMATS).default('jsonl'))
  .action(async (options: PathOptions & { k: number; input?: string; format: BatchFormat }) => {
    const archive = await prepare(options);
    const bar = progressBar('Queries');
    const { queries, errors } = await runBatch(archive, options, (text) => process.stdout.write(text), (n) => bar.update(n));
    bar.stop();
    log(`Answered ${queries - errors} of ${queries} queries (${errors} with errors).`);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof UserError) log(`Error: ${error.message}`);
  else log(`Error: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
