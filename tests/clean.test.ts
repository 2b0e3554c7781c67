import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanText } from '../src/ingest/index.js';
import { removeRepeatedQuotes } from '../src/ingest/clean.js';
import { SEEDS } from './helpers.js';

const seed = (name: string) => readFileSync(join(SEEDS, name), 'utf8');
const count = (text: string, needle: string) => text.split(needle).length - 1;

describe('cleaning the PDF-extracted seed', () => {
  const text = cleanText(seed('001_004c609643dbb3e3.txt'));
  const paragraphs = text.split('\n\n');

  it('rebuilds sentences broken across hard line breaks', () => {
    expect(text).toContain('conference addressed by Rt Hon Greg Clark MP and Lord Andrew Adonis, the Southern Policy Centre has promoted both devolution');
    expect(text).toContain('In 2016, proposals for a separate, combined Solent Authority were submitted by Portsmouth and Southampton city councils and Isle of Wight Council but were ultimately turned down by Westminster.');
    // No paragraph of running text ends in the middle of a sentence.
    const unfinished = paragraphs.filter((p) => p.split(' ').length > 12 && !/[.!?:”"’)]$/.test(p));
    expect(unfinished.length).toBeLessThanOrEqual(2);
  });

  it('joins words hyphenated across lines, keeping real compounds', () => {
    expect(text).toContain('a much-delayed devolution and local recovery white paper');
    expect(text).toContain('High-level co-operation');
    expect(text).toContain('ruth.eastwood@southernpolicycentre.co.uk');
    for (const broken of ['much- delayed', 'co- operation', 'High- level', 'sub- regional', 'ill- equipped']) expect(text).not.toContain(broken);
  });

  it('keeps each pull quote once and re-joins the sentence it interrupted', () => {
    expect(count(text, 'An elected mayor for Hampshire would be a challenge')).toBe(1);
    expect(count(text, 'there is a looming mental health epidemic')).toBe(1);
    expect(count(text, 'Any move to devolution needs an intelligent and sensitive approach')).toBe(1);
    expect(count(text, 'Covid proved there was a really strong social care system')).toBe(1);
    expect(count(text, 'We’ve got to have a legal framework but not a Mayor')).toBe(1);
    expect(text).toContain('many working relationships within and beyond local government.');
    expect(text).toContain('Why complicate it?');
    expect(text).toContain('It was a case of collaboration versus the imposition of ways of working.');
  });

  it('gives headings their own paragraphs', () => {
    for (const heading of ['Background', 'Collaboration', 'Freeport', 'Brexit', 'Workforce', 'Conclusion: we need to talk']) expect(paragraphs).toContain(heading);
  });
});

describe('cleaning ordinary text', () => {
  it('keeps the paragraphs of a news article as written', () => {
    const raw = seed('000_2f8a857afa737480.txt');
    const blocks = raw.split(/\n\s*\n/).filter((b) => b.trim());
    expect(cleanText(raw).split('\n\n')).toEqual(blocks.map((b) => b.trim().replace(/\s+/g, ' ')));
  });

  it('drops link lines and a caption repeated back to back', () => {
    const text = cleanText(seed('002_d7df6b83d73dff84.txt'));
    expect(text).not.toContain('READ MORE');
    expect(text).not.toContain('SEE ALSO');
    expect(count(text, 'Wiltshire Council\'s leader, Richard Clewer, at the latest cabinet meeting.')).toBe(1);
  });

  it('normalises line endings, control characters and a byte-order mark', () => {
    expect(cleanText('\uFEFFFirst line\r\nstill first.\r\n\r\nSecond\u0007 paragraph.')).toBe('First line still first.\n\nSecond paragraph.');
  });
});

describe('removeRepeatedQuotes', () => {
  it('removes the later of two identical quotations, and a quotation contained in a longer one', () => {
    const body = 'He said: “We should all be championing the concepts of living well and dying well.” Then more.';
    const pull = '“We should all be championing the concepts of living well and dying well.”';
    expect(removeRepeatedQuotes(`${body}\n\n${pull}\n\nNext paragraph.`)).toBe(`${body}\n\nNext paragraph.`);
    expect(removeRepeatedQuotes(`${body} The work goes on “the concepts of living well and dying well for everyone” here.`)).toContain('for everyone');
  });

  it('leaves short quotations alone', () => {
    const text = 'It is “not a merger”. Again, it is “not a merger”.';
    expect(removeRepeatedQuotes(text)).toBe(text);
  });
});
