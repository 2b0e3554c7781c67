import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Archive } from '../src/archive.js';
import { fitConditionalLogit, fitLogistic, FEATURE_NAMES, loadAnswerModel, probability, readQuestion, TRIGGER_FEATURES } from '../src/answer/index.js';
import { tagSentence } from '../src/answer/entities.js';
import { loadConfig, UserError } from '../src/config.js';
import { seededRandom } from '../src/embed/train/random.js';
import { seedArchive, tempDir } from './helpers.js';

describe('reading a question', () => {
  it.each([
    ['How many political leaders and officers were interviewed?', 'number', 'leader'],
    ['How long does the rail journey from Waterloo take now?', 'quantity', 'journei'],
    ['When was the devolution white paper first announced?', 'date', 'paper'],
    ['Which government minister was Roy Perry about to meet?', 'person', 'minist'],
    ['Who started the Hampshire Senate?', 'person', null],
    ['Who is Ken Thornber?', 'definition', 'thornber'],
    ['Which police force supported the 2015 Hampshire bid?', 'organisation', 'forc'],
    ['Which county is Winchester in?', 'place', 'counti'],
    ['why did the 2016 bid fail', 'cause', null],
    ['how are glacier caves formed?', 'manner', 'cave'],
    ['what is the Heart of Wessex', 'definition', 'heart'],
    ['is the combined authority a merger of councils', 'yesno', 'author'],
    ['What is the population of Wiltshire?', 'quantity', 'popul'],
  ])('%s -> %s (focus %s)', (text, type, focus) => {
    const q = readQuestion(text);
    expect(q.type).toBe(type);
    expect(q.focus).toBe(focus);
  });

  it('keeps the names it mentions and the time it asks about', () => {
    expect(readQuestion('Which government minister was Roy Perry about to meet?').names).toEqual(['roy', 'perry']);
    expect(readQuestion('How long does the rail journey from Waterloo take now?').tense).toBe('present');
    expect(readQuestion('How long did the train from Waterloo use to take?').tense).toBe(null);
    expect(readQuestion('How long was the journey years ago?').tense).toBe('past');
  });
});

describe('tagging a sentence', () => {
  const mentions = (sentence: string, kind: keyof ReturnType<typeof tagSentence>['mentions']) => tagSentence(sentence).mentions[kind].map((m) => m.words.join(' '));

  it('finds numbers, quantities and dates', () => {
    expect(mentions('It takes 114 minutes when really it should be under 90.', 'quantity')).toEqual(['114 minutes']);
    expect(mentions('The Southern Policy Centre spoke to eleven political leaders.', 'number')).toEqual(['eleven']);
    expect(mentions('The paper was first announced in October 2019.', 'date')).toEqual(['october', '2019']);
  });

  it('tells people from organisations and places, and stops a name at a comma', () => {
    const s = 'The Chairman, Councillor Roy Perry, Leader of Hampshire County Council, met Eric Pickles in London.';
    expect(mentions(s, 'person')).toEqual(['councillor roy perry', 'eric pickles']);
    expect(mentions(s, 'organisation')).toEqual(['leader of hampshire county council']);
    expect(mentions(s, 'place')).toContain('london');
  });

  it('marks causes and definitions', () => {
    expect(mentions('The process stalled because councils refused a mayor.', 'cause')).toContain('because');
    expect(mentions('A glacier cave is a cave formed within the ice of a glacier.', 'definition')).toEqual(['a glacier cave']);
  });
});

describe('fitting the models', () => {
  const random = seededRandom(3);

  it('logistic regression recovers the direction that separates the labels, and its probabilities follow the data', () => {
    const rows = Array.from({ length: 2000 }, () => [random() * 2 - 1, random() * 2 - 1]);
    // Labels drawn from p = sigmoid(3 x0 - 1): the fit should find a large positive weight on x0 and none on x1.
    const labels = rows.map(([a]) => (random() < 1 / (1 + Math.exp(-(3 * a - 1))) ? 1 : 0));
    const model = fitLogistic(['a', 'b'], rows, labels, 0.01);
    const [wa, wb] = model.weights.map((w, j) => w / model.std[j]);
    expect(wa).toBeGreaterThan(2.4);
    expect(wa).toBeLessThan(3.6);
    expect(Math.abs(wb)).toBeLessThan(0.4);
    expect(probability(model, [1, 0])).toBeGreaterThan(0.8);
    expect(probability(model, [-1, 0])).toBeLessThan(0.05);
  });

  it('the conditional logit learns which candidate of each group is the positive one', () => {
    // In each group one candidate has the higher x0; x1 is noise and the same mean in every group.
    const groups = Array.from({ length: 300 }, () => {
      const rows = Array.from({ length: 6 }, () => [random(), random()]);
      const best = rows.reduce((b, r, i) => (r[0] > rows[b][0] ? i : b), 0);
      return { rows, labels: rows.map((_, i) => (i === best ? 1 : 0)) };
    });
    const model = fitConditionalLogit(['a', 'b'], groups);
    expect(model.weights[0]).toBeGreaterThan(5 * Math.abs(model.weights[1]));
  });
});

describe('the answer model', () => {
  it('ships in the repository with the features this version computes', () => {
    const model = loadAnswerModel(loadConfig());
    expect(model.ranker.features).toEqual(FEATURE_NAMES);
    expect(model.trigger.features).toEqual(TRIGGER_FEATURES);
    expect(model.threshold).toBeGreaterThan(0);
    expect(model.threshold).toBeLessThan(1);
  });

  it('refuses a model file it cannot use, saying what is wrong', () => {
    const file = join(tempDir(), 'answer-model.json');
    writeFileSync(file, JSON.stringify({ version: 1, ranker: {}, trigger: {}, threshold: 0.5, training: {} }));
    expect(() => loadAnswerModel(loadConfig({ answer: { model: file } }))).toThrowError(UserError);
    expect(() => loadAnswerModel(loadConfig({ answer: { model: file } }))).toThrowError(/is not one this version reads: ranker\.features/);
    expect(() => loadAnswerModel(loadConfig({ answer: { model: join(tempDir(), 'none.json') } }))).toThrowError(/cannot be read.*npm run train-answer/);
  });
});

describe('answers on the seed archive', () => {
  let archive: Archive;
  beforeAll(async () => {
    archive = await seedArchive();
  });

  it('gives a probability as its score, at or above the threshold, citing its text exactly', async () => {
    const threshold = loadAnswerModel(archive.config).threshold;
    const { answer } = await archive.search('who started the Hampshire Senate');
    expect(answer).not.toBeNull();
    expect(answer!.text).toMatch(/Ken Thornber/);
    expect(answer!.score).toBeGreaterThanOrEqual(threshold);
    expect(answer!.score).toBeLessThanOrEqual(1);
    const { citation } = answer!;
    expect(archive.document(citation.docId)!.text.slice(citation.start, citation.end)).toBe(answer!.text);
  });

  it('says it does not know when the archive holds no answer', async () => {
    for (const q of ['What is the population of Wiltshire?', 'Who won the 2019 general election?', 'what is the capital of France']) {
      const response = await archive.search(q);
      expect(response.answer, q).toBeNull();
      expect(response.results.length, q).toBeGreaterThan(0);
    }
  });

  it('answers a why/how question whose cause takes two sentences with both, as one span', async () => {
    const { answer } = await archive.search('How did the NHS spread Covid to care homes in the first wave?');
    expect(answer!.text).toContain('caused a huge transmission of the virus. They took Covid with them even if asymptomatic.');
    const { citation } = answer!;
    expect(archive.document(citation.docId)!.text.slice(citation.start, citation.end)).toBe(answer!.text);
  });

  it('lets config.answer.minScore override the threshold', async () => {
    const strict = archive.withConfig({ ...archive.config, answer: { ...archive.config.answer, minScore: 1 } });
    expect((await strict.search('who started the Hampshire Senate')).answer).toBeNull();
    const open = archive.withConfig({ ...archive.config, answer: { ...archive.config.answer, minScore: 0 } });
    expect((await open.search('What is the population of Wiltshire?')).answer).not.toBeNull();
  });
});
