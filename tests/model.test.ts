import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, UserError } from '../src/config.js';
import { pipeline } from '@xenova/transformers';
import { openArchive } from '../src/archive.js';
import { loadEmbedder, loadFromModelsDir } from '../src/embed/index.js';
import { DEFAULT_BUILTIN_OPTIONS, trainStaticModel, writeModelFolder } from '../src/embed/builtinModel.js';
import { chunkDocument, splitSentences } from '../src/chunk/index.js';
import { readCorpus } from '../src/ingest/index.js';
import { copyOfSeedIndex, SEEDS, seedModel, tempDir } from './helpers.js';

const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

describe('the built-in model', () => {
  it('is a standard transformers.js model folder, inside its archive\'s index folder', async () => {
    const folder = (await seedModel()).folder!;
    expect(dirname(dirname(folder))).toMatch(/seeds-index$/);
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) expect(existsSync(join(folder, file))).toBe(true);
    expect(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')).model_type).toBe('bert');
  });

  it('loads through the feature-extraction pipeline and gives unit vectors of the stated size', async () => {
    const embedder = await seedModel();
    expect(embedder.info.dim).toBe(256);
    const vectors = await embedder.embed(['Why did the 2016 bid fail?', 'The councils refused a directly elected mayor.', 'hospital'], 'passage');
    for (const v of vectors) {
      expect(v.length).toBe(256);
      expect(norm(v)).toBeCloseTo(1, 4);
    }
  });

  it('places related words nearer than unrelated ones', async () => {
    const embedder = await seedModel();
    const [hospital, infirmary, mayor] = await embedder.embed(['hospital', 'infirmary', 'mayor'], 'passage');
    expect(dot(hospital, infirmary)).toBeGreaterThan(dot(hospital, mayor) + 0.2);
  });

  it('embeds as the transformers.js feature-extraction pipeline (mean pooling, normalised) does: every seed sentence, and text the tokenizer treats specially', async () => {
    const embedder = await seedModel();
    const extractor = await loadFromModelsDir(dirname(embedder.folder!), false, () => pipeline('feature-extraction', basename(embedder.folder!), { quantized: false }));
    const { documents } = await readCorpus(SEEDS);
    const sentences = documents.flatMap((d) => splitSentences(d.text).map((s) => d.text.slice(s.start, s.end)));
    // The built-in model reads a text a space-separated piece at a time (embed/index.ts): these are
    // the places where that could part from the tokenizer reading the whole text.
    const special = [
      '', '   ', 'Hampshire  County\tCouncil\nand\r\nthe  Isle of Wight', 'CAFÉ Señor naïve Ünïon', 'ΟΔΟΣ ΑΣ Β', 'mayor[SEP]council [CLS] [UNK] [unk]',
      '中文mayor 字符', 'mayor\u200bcouncil bid\ufeffSolent', 'the\u00a0mayor\u2028bid\u2029Solent', `${'x'.repeat(120)} mayor`, '"Solent," (2016) -- e.g. U.K.\'s bid; £30m/yr',
    ];
    const texts = [...sentences, ...special];
    expect(sentences.length).toBeGreaterThan(400);
    const ours = await embedder.embed(texts, 'passage');
    for (const [i, text] of texts.entries()) {
      const reference = (await extractor(text, { pooling: 'mean', normalize: true })).data as Float32Array;
      // The pipeline divides zero by zero for a text with no known word ("1."); ours stays zero.
      const expected = reference.every(Number.isNaN) ? reference.map(() => 0) : reference;
      expect(Math.max(...ours[i].map((x, d) => Math.abs(x - expected[d]))), text).toBeLessThan(1e-6);
    }
  });

  it('gives single words the same vectors through its word path as through the pipeline', async () => {
    const embedder = await seedModel();
    const words = ['hospital', 'devolution', 'mayor', 'qzxqzx'];
    const direct = await embedder.embedWords(words);
    const piped = await embedder.embed(words, 'passage');
    words.forEach((w, i) => direct[i].forEach((x, d) => expect(x, w).toBeCloseTo(piped[i][d], 6)));
    expect(Array.from(direct[3]).every((x) => x === 0)).toBe(true);
  });

  it('gives a zero vector, not NaN, for text with no known word', async () => {
    const embedder = await seedModel();
    const [v] = await embedder.embed(['qzxqzx vbnvbn'], 'query');
    expect(Array.from(v).every((x) => x === 0)).toBe(true);
  });

  it('says how to rebuild when an index\'s model is missing, and where a configured model was looked for', async () => {
    const indexDir = copyOfSeedIndex();
    rmSync(join(indexDir, 'models'), { recursive: true });
    await expect(openArchive(loadConfig({ indexDir }))).rejects.toThrowError(/names a model that is missing .*npm run build-index/);
    const modelsDir = tempDir();
    const other = loadConfig({ embedding: { modelsDir, model: 'Xenova/bge-small-en-v1.5' } });
    await expect(loadEmbedder(other)).rejects.toThrowError(UserError);
    await expect(loadEmbedder(other)).rejects.toThrowError(`Model "Xenova/bge-small-en-v1.5" was not found at ${join(modelsDir, 'Xenova', 'bge-small-en-v1.5')}`);
  });

  // `npm start` runs inferences on one thread (src/embed/threads.ts): each thread of onnxruntime's
  // pool beyond the first is one more thread in the process, so counting them shows the setting took.
  it.runIf(process.platform === 'linux')('runs its inferences on the threads the process is given, and training on every core', () => {
    const gained = (threads: string) =>
      JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'inferenceThreads.ts'), threads], { encoding: 'utf8' })) as { model: number; answer: number; training: number };
    const [one, three, unset] = [gained('1'), gained('3'), gained('default')];
    // Three threads a session are two more than one: the model's session, and the answer step's two.
    expect(three.model - one.model).toBe(2);
    expect(three.answer - one.answer).toBe(4);
    // Training's products keep onnxruntime's own pool whatever the setting.
    expect(one.training).toBe(unset.training);
  });
});

const { documents } = await readCorpus(SEEDS);

describe('training a small model', () => {
  const options = { ...DEFAULT_BUILTIN_OPTIONS, dim: 16, maxVocabulary: 3000 };

  it('is deterministic: the same inputs give the same model file', async () => {
    const dir = tempDir();
    writeModelFolder(join(dir, 'a'), await trainStaticModel(documents, options), {});
    writeModelFolder(join(dir, 'b'), await trainStaticModel(documents, options), {});
    for (const file of ['onnx/model.onnx', 'tokenizer.json', 'config.json']) {
      expect(readFileSync(join(dir, 'a', file)).equals(readFileSync(join(dir, 'b', file)))).toBe(true);
    }
  });

  it('embeds a one-word text as that word\'s trained vector, and applies configured prefixes', async () => {
    const modelsDir = tempDir();
    const model = await trainStaticModel(documents, options);
    writeModelFolder(join(modelsDir, 'my-model'), model, {});
    const embedder = await loadEmbedder(loadConfig({ embedding: { modelsDir, model: 'my-model', queryPrefix: 'mayor ' } }));
    expect(embedder.info).toMatchObject({ id: 'my-model', dim: options.dim, queryPrefix: 'mayor ', passagePrefix: '' });
    const word = 'devolution';
    const i = model.vocabulary.indexOf(word);
    const trained = model.vectors.slice(i * options.dim, (i + 1) * options.dim);
    const [passage] = await embedder.embed([word], 'passage');
    expect(dot(passage, trained) / norm(trained)).toBeCloseTo(1, 4);
    const [query] = await embedder.embed([word], 'query');
    expect(dot(query, passage)).toBeLessThan(0.999);
  });

  it('loads a folder laid out like a hub model id and gives it that model\'s known prefixes', async () => {
    const modelsDir = tempDir();
    writeModelFolder(join(modelsDir, 'Xenova', 'bge-small-en-v1.5'), await trainStaticModel(documents, options), {});
    const embedder = await loadEmbedder(loadConfig({ embedding: { modelsDir, model: 'Xenova/bge-small-en-v1.5' } }));
    expect(embedder.info.queryPrefix).toBe('Represent this sentence for searching relevant passages: ');
    expect(embedder.info.passagePrefix).toBe('');
    expect(embedder.info.checksum).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('contrastive fine-tuning on the corpus', () => {
  it('makes a sentence find its own passage (among all the corpus\' passages) more often than the co-occurrence vectors alone', async () => {
    const chunking = loadConfig().chunking;
    // Each passage's sentences of 5 words or more; the question is one of them, the passage is the rest after the title.
    const cases = documents.flatMap((doc) => chunkDocument(doc, chunking).flatMap((chunk) => {
      const sentences = splitSentences(chunk.text).map((s) => chunk.text.slice(s.start, s.end)).filter((s) => s.split(/\s+/).length >= 5);
      return sentences.length >= 2 ? [{ question: sentences[0], passage: `${doc.title}. ${sentences.slice(1).join(' ')}` }] : [];
    }));
    expect(cases.length).toBeGreaterThan(30);
    const base = { ...DEFAULT_BUILTIN_OPTIONS, dim: 32, maxVocabulary: 5000 };
    const accuracy = async (epochs: number) => {
      const modelsDir = tempDir();
      writeModelFolder(join(modelsDir, 'm'), await trainStaticModel(documents, { ...base, contrastive: { ...base.contrastive, epochs } }, () => {}, chunking), {});
      const embedder = await loadEmbedder(loadConfig({ embedding: { modelsDir, model: 'm' } }));
      const questions = await embedder.embed(cases.map((c) => c.question), 'query');
      const passages = await embedder.embed(cases.map((c) => c.passage), 'passage');
      const found = questions.filter((q, i) => passages.every((p, j) => j === i || dot(q, p) < dot(q, passages[i]))).length;
      return found / cases.length;
    };
    const [before, after] = [await accuracy(0), await accuracy(10)];
    expect(after).toBeGreaterThan(before + 0.05);
  });
});

